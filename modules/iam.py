"""IAM policy and trust documents: the one place their JSON shape is written.

Every resource policy, identity policy, key policy and role trust policy the constructs attach
is built here, so the policy language version and the confused-deputy guard on service trust
(https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html) are written once.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

# The current policy language version: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_version.html
POLICY_VERSION = "2012-10-17"

Statement = Mapping[str, Any]


def policy_document(statements: Iterable[Statement]) -> dict[str, Any]:
    """`{"Version": ..., "Statement": [...]}` as a dict (for callers that inspect it)."""
    return {"Version": POLICY_VERSION, "Statement": list(statements)}


def policy_json(statements: Iterable[Statement]) -> str:
    """The policy document as the JSON string Terraform's `policy` arguments take."""
    return json.dumps(policy_document(statements))


def service_trust(
    service: str, *, conditions: Mapping[str, Any] | None = None, sid: str | None = None
) -> str:
    """A role trust policy letting one AWS service principal assume the role.

    `conditions` is the statement's `Condition` block (callers pass the `aws:SourceAccount` /
    `aws:SourceArn` guard the service documents)."""
    statement: dict[str, Any] = {} if sid is None else {"Sid": sid}
    statement |= {
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sts:AssumeRole",
    }
    if conditions is not None:
        statement["Condition"] = dict(conditions)
    return policy_json([statement])


def deny_insecure_transport(
    action: str, resource: Any, *, sid: str = "DenyInsecureTransport"
) -> Statement:
    """Deny every principal `action` on `resource` over plain HTTP (aws:SecureTransport)."""
    return {
        "Sid": sid,
        "Effect": "Deny",
        "Principal": "*",
        "Action": action,
        "Resource": resource,
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
