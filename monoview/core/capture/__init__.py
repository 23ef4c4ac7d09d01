"""Reading captures in place: formats, link layers and decoding down to TCP."""
