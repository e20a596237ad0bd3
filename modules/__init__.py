"""Constructs, one per concern. Provider classes come only through `modules.aws`."""

import os

# jsii's Node runtime prints a 12-line banner on every run under Node 20 (end of life for jsii
# since 2026-10-30). cdktf 0.21 is frozen and runs fine on it; keep synth and test output clean.
# Must be set before the first `import cdktf` starts the runtime; `stacks` imports us first.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
