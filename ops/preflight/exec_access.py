"""Rules: what ECS Exec needs (writable paths, task role permissions)."""

from __future__ import annotations

import json
from collections.abc import Iterator

from ops.preflight.finding import Finding, When
from ops.preflight.model import Address, Model, address, as_list
from ops.preflight.rules import per_stack, rule
from ops.preflight.workloads import exec_kms_key, workloads
from ops.synth_reader import (
    container_definitions,
)

EXEC_WRITABLE = ("/var/lib/amazon", "/var/log/amazon")


@rule(
    "exec-writable-filesystem",
    "ECS Exec containers with a read-only root have the SSM agent's paths writable",
    "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-exec.html (Considerations: "
    "the SSM agent needs a writable container file system); workaround: writable volumes at "
    "/var/lib/amazon and /var/log/amazon (github.com/aws/containers-roadmap/issues/1359)",
)
@per_stack
def _exec_writable(model: Model) -> Iterator[Finding]:
    for workload in workloads(model):
        if not workload.exec_enabled:
            continue
        volumes = {v.get("name") for v in as_list(workload.task_definition.get("volume"))}
        for container in container_definitions(workload.task_definition):
            if container.get("readonlyRootFilesystem") is not True:
                continue
            writable = {
                m.get("containerPath")
                for m in as_list(container.get("mountPoints"))
                if m.get("readOnly") is not True and m.get("sourceVolume") in volumes
            }
            missing = [path for path in EXEC_WRITABLE if path not in writable]
            if missing:
                yield model.finding(
                    "exec-writable-filesystem",
                    workload.type,
                    workload.name,
                    When.RUN,
                    f"ECS Exec is on and container {container.get('name')!r} has a read-only "
                    f"root without writable {', '.join(missing)}: the SSM agent cannot start, "
                    "`aws ecs execute-command` fails",
                    f"mount task volumes read-write at {', '.join(missing)}, or turn "
                    "readonlyRootFilesystem off for it",
                )


EXEC_ACTIONS = (
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
)


def allowed_actions(model: Model, role: Address | None) -> set[str]:
    """Actions the inline policies of `role` allow (as written; wildcards kept)."""
    actions: set[str] = set()
    if role is None:
        return actions
    for _, policy in model.items("aws_iam_role_policy"):
        if address(policy.get("role")) != Address(role.type, role.name):
            continue
        try:
            document = json.loads(str(policy.get("policy", "{}")))
        except ValueError:
            continue
        for statement in as_list(document.get("Statement")):
            if statement.get("Effect") == "Allow":
                actions |= {str(a) for a in as_list(statement.get("Action"))}
    return actions


def grants(actions: set[str], action: str) -> bool:
    service = action.split(":")[0]
    return action in actions or f"{service}:*" in actions or "*" in actions


@rule(
    "exec-task-role",
    "an ECS Exec task's role may open the ssmmessages channels (and use the session key)",
    "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-exec.html (IAM "
    "permissions required for ECS Exec: the four ssmmessages actions on the task role, "
    "kms:Decrypt on the key when sessions are encrypted)",
)
@per_stack
def _exec_task_role(model: Model) -> Iterator[Finding]:
    for workload in workloads(model):
        if not workload.exec_enabled:
            continue
        role = address(workload.task_definition.get("task_role_arn"))
        actions = allowed_actions(model, role)
        required = list(EXEC_ACTIONS) + (["kms:Decrypt"] if exec_kms_key(workload.cluster) else [])
        missing = [action for action in required if not grants(actions, action)]
        if missing:
            yield model.finding(
                "exec-task-role",
                workload.type,
                workload.name,
                When.RUN,
                f"ECS Exec is on but the task role {role or '(none)'} is not allowed "
                f"{', '.join(missing)}: `aws ecs execute-command` fails",
                "grant those actions in the task role's policy",
            )
