"""Stacks: one `PlatformStack` per environment plus the `StateBootstrapStack`."""

from stacks.runtime import configure_jsii_runtime

# Before any stack module imports cdktf (which starts the jsii runtime).
configure_jsii_runtime()
