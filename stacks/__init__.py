"""Stacks: one `PlatformStack` per environment plus the `StateBootstrapStack`."""

import modules  # noqa: F401  (sets the jsii runtime's environment before cdktf starts it)
