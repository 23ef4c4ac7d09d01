"""From the packet index to the session list: flows grouped, each session summarised
exactly (vectorised where a flow is plainly clean, replayed where it is not)."""
