"""TCP reassembly: direction streams, sessions, monologues and the TCP listener."""
