"""monoview: browse and export the monologues of every TCP session in a capture."""

__version__ = "0.1.0"
