"""Constructs, one per concern. Provider classes come only through `modules.aws`."""
