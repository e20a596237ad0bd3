"""Operator CLI for the Fargate platform: `python -m ops <command> ...`.

Kept free of cdktf/jsii/provider imports so it starts fast; AWS SDK imports happen lazily
inside the commands that need them.
"""
