"""Constants the tests share: the project's paths, the fixtures' account and region, ARNs the
fixtures use and the names of stacks the session synth writes. Defined here once; every test
module and helper (tests/variants.py, tests/project_copy.py, tests/five_edits.py) imports them.
"""

from __future__ import annotations

from pathlib import Path

from envs import DEFAULT_ENVIRONMENTS
from envs.schema.names import BOOTSTRAP_STACK_NAME

ROOT = Path(__file__).resolve().parent.parent
"""The project checkout the tests run in."""
PACKAGES = ("envs", "modules", "ops", "stacks")
"""The project's code packages (what `python main.py` imports)."""

ACCOUNT = "123456789012"
"""The example environments' account (tests/example_envs)."""
OTHER_ACCOUNT = "210987654321"
"""An account no fixture environment deploys to."""
REGION = "ap-northeast-1"
"""The example environments' region (and the state bucket's)."""

CERTIFICATE = f"arn:aws:acm:{REGION}:{ACCOUNT}:certificate/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
USER_POOL = f"arn:aws:cognito-idp:{REGION}:{ACCOUNT}:userpool/{REGION}_AbCdEf123"
KMS_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"

BOOTSTRAP_STACK = BOOTSTRAP_STACK_NAME
"""The state bootstrap stack every synth writes next to the environments."""
DEFAULT_STACKS = (*DEFAULT_ENVIRONMENTS, BOOTSTRAP_STACK)
"""The stacks `python main.py` writes for the user's environments."""
FAKE_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
"""Credentials moto accepts (never real ones)."""
