"""The configuration models, one module per concern (see the README's Design notes)."""
