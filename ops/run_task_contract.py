"""The run-task contract between the synthesizer (modules/job.py, producer) and
`python -m ops run-task` (consumer): the Terraform output's name, the shape of each job's
spec and the ECS limits both sides check. One definition for both sides.

Standard library only: `ops` imports it at start-up.
"""

from typing import Literal, NotRequired, TypedDict

SPECS_OUTPUT = "run_task_specs"
"""The stack output holding job name -> `RunTaskSpec`."""

# Capacity provider strategy item: weight 0-1000, base 0-100000.
# https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CapacityProviderStrategyItem.html
CAPACITY_WEIGHT_MAX = 1000
CAPACITY_BASE_MAX = 100_000
STRATEGY_LIMITS = {"weight": (0, CAPACITY_WEIGHT_MAX), "base": (0, CAPACITY_BASE_MAX)}
LAUNCH_TYPES = ("FARGATE", "EC2", "EXTERNAL")


class CapacityShare(TypedDict):
    """One capacity provider's share, keyed as the provider's strategy blocks name them."""

    capacity_provider: str
    weight: int
    base: int


class RunTaskSpec(TypedDict):
    """Everything `ops run-task` needs to start one job's task (one entry of SPECS_OUTPUT)."""

    cluster_arn: str
    task_definition_arn: str
    task_definition_family: str
    """The ARN's family: ops refuses a spec whose ARN names another family."""
    container_name: str
    subnets: list[str]
    security_groups: list[str]
    assign_public_ip: Literal["DISABLED"]
    capacity_provider_strategy: list[CapacityShare]
    log_group: str
    log_stream_prefix: str
    region: str
    environment: NotRequired[str]
    """Added by the stack: ops refuses a spec used with another `--env`."""
    launch_type: NotRequired[str]
    """Never synthesized (the platform always sends its capacity provider strategy); a
    hand-written spec file without a strategy may name one of LAUNCH_TYPES (default FARGATE)."""


REQUIRED_KEYS = (
    "cluster_arn",
    "task_definition_arn",
    "container_name",
    "subnets",
    "security_groups",
)
"""Keys without which ops cannot start a task (the others have defaults)."""
