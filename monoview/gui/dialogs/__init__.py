"""Modal dialogs: export, about, errors."""
