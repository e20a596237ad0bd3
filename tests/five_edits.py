"""The five ordinary edits of issue #10, applied to a copy of the project's envs/.

A new user forking the project: add a service with exposure `none`
(`mailer`: the base already has a `worker`); add a `qa`
environment in us-east-1; make prod's public ALB HTTPS with a certificate ARN; add a
scheduled job; switch one service to ARM64 in stg; and remove a base service in one
environment (`{name: None}`). Every edit is valid, so the invariant tests must pass on it.
"""

from __future__ import annotations

from pathlib import Path

from tests.constants import ACCOUNT, CERTIFICATE

QA = f'''"""qa: a test environment in us-east-1 (added by the five-edit proof)."""

from typing import Any

OVERRIDES: dict[str, Any] = {{
    "name": "qa",
    "region": "us-east-1",
    "account_id": "{ACCOUNT}",
    "role_arn": "arn:aws:iam::{ACCOUNT}:role/fargate-qa-deploy",
    "network": {{
        "vpc_cidr": "10.3.0.0/24",
        "availability_zones": ["us-east-1a", "us-east-1b"],
        "nat_mode": "single",
    }},
    # qa drops the base's queue worker.
    "services": {{"worker": None}},
}}
'''
APPENDED = {
    "dev": """
OVERRIDES["services"] = {
    **OVERRIDES.get("services", {}),
    "mailer": {"exposure": "none", "cpu": 256, "memory_mib": 512, "desired_count": 1},
}
OVERRIDES["jobs"] = {
    **OVERRIDES.get("jobs", {}),
    "weekly-cleanup": {
        "same_image_as": "backend",
        "command": ["python", "manage.py", "cleanup"],
        "cpu": 256,
        "memory_mib": 512,
        "schedule": {"expression": "cron(0 4 ? * SUN *)"},
    },
}
""",
    "stg": """
OVERRIDES["services"] = {
    **OVERRIDES.get("services", {}),
    "backend": {**OVERRIDES.get("services", {}).get("backend", {}), "cpu_architecture": "ARM64"},
}
""",
    "prod": f"""
OVERRIDES["public_alb"] = {{
    **OVERRIDES.get("public_alb", {{}}),
    "certificate_arn": "{CERTIFICATE}",
}}
""",
}


def apply(project: Path) -> None:
    """Edit `project`/envs in place as a user would."""
    envs = project / "envs"
    (envs / "qa.py").write_text(QA)
    for name, text in APPENDED.items():
        path = envs / f"{name}.py"
        path.write_text(path.read_text() + text)
    init = envs / "__init__.py"
    listed = 'DEFAULT_ENVIRONMENTS = ("dev", "stg", "prod")'
    assert listed in init.read_text(), "envs/__init__.py no longer lists the environments so"
    init.write_text(init.read_text().replace(listed, listed[:-1] + ', "qa")'))
