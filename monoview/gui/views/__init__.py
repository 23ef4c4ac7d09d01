"""Widgets that show a capture: conversation, hex, text, plots, find bar."""
