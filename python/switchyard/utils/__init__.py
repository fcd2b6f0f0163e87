"""Utilities: ``switchyard.utils.python_dispatch`` (dispatch modes)."""
