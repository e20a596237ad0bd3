"""Config for queue workers: an SQS queue (with its dead-letter queue) a service consumes."""

from __future__ import annotations

import enum
from typing import Annotated

from pydantic import model_validator

from envs.schema.common import KMS_KEY_ARN, Strict, between

# SQS queue attribute limits (CreateQueue, "Request Parameters":
# https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_CreateQueue.html).
VISIBILITY_TIMEOUT_SECONDS = between(0, 43200)
MESSAGE_RETENTION_SECONDS = between(60, 1209600)
RECEIVE_WAIT_TIME_SECONDS = between(0, 20)
# maxReceiveCount of a redrive policy (RedrivePolicy in the same reference).
MAX_RECEIVE_COUNT = between(1, 1000)
DEAD_LETTER_RETENTION_SECONDS = MESSAGE_RETENTION_SECONDS.high
"""The dead-letter queue keeps messages as long as SQS allows: a message's age counts from its
first enqueue, so the DLQ must keep them longer than the source queue does."""


class QueueEncryption(enum.StrEnum):
    """How the queue and its dead-letter queue are encrypted at rest."""

    SSE_SQS = "sse-sqs"
    """SQS-managed keys (no KMS calls, no key to manage)."""
    KMS = "kms"
    """A customer managed KMS key (`kms_key_arn`); producers and the consumer get its use."""


class QueueScalingConfig(Strict):
    """Scale the consumer on backlog per task: visible messages / running tasks, held near
    `backlog_per_task` by a target-tracking policy (AWS's recommended metric math)."""

    backlog_per_task: int = 100
    """Messages waiting per running task to aim for (how many one task clears in an acceptable
    latency)."""
    min_capacity: int = 0
    """Fewest tasks; 0 stops every task while the queue is empty."""
    max_capacity: int = 4
    """Most tasks."""
    scale_in_cooldown_seconds: int = 300
    """Seconds between scale-in steps."""
    scale_out_cooldown_seconds: int = 60
    """Seconds between scale-out steps."""

    @model_validator(mode="after")
    def _bounds(self) -> QueueScalingConfig:
        problems = []
        if self.backlog_per_task < 1:
            problems.append(f"backlog_per_task must be >= 1; got {self.backlog_per_task}")
        if self.min_capacity < 0:
            problems.append(f"min_capacity must be >= 0; got {self.min_capacity}")
        if self.max_capacity < max(self.min_capacity, 1):
            problems.append(
                f"max_capacity ({self.max_capacity}) must be >= min_capacity "
                f"({self.min_capacity}) and >= 1"
            )
        for field in ("scale_in_cooldown_seconds", "scale_out_cooldown_seconds"):
            if getattr(self, field) < 0:
                problems.append(f"{field} must be >= 0; got {getattr(self, field)}")
        if problems:
            raise ValueError("scaling: " + "; ".join(problems))
        return self


class QueueConfig(Strict):
    """An SQS queue the platform creates for this service to consume (`QUEUE_URL`), with a
    dead-letter queue, encryption at rest, a TLS-only policy and a redrive policy."""

    producers: tuple[str, ...] = ()
    """Services and jobs that send to the queue; each gets `<SERVICE>_QUEUE_URL` and
    sqs:SendMessage on this queue only."""
    encryption: QueueEncryption = QueueEncryption.SSE_SQS
    """`sse-sqs` or `kms` (with `kms_key_arn`)."""
    kms_key_arn: str | None = None
    """Customer managed key for `kms` encryption."""
    visibility_timeout_seconds: Annotated[int, VISIBILITY_TIMEOUT_SECONDS] = 30
    """How long a received message stays hidden; longer than one message's work."""
    message_retention_seconds: Annotated[int, MESSAGE_RETENTION_SECONDS] = 345600
    """How long an unconsumed message is kept (default 4 days)."""
    receive_wait_time_seconds: Annotated[int, RECEIVE_WAIT_TIME_SECONDS] = 20
    """Long polling wait of ReceiveMessage."""
    max_receive_count: Annotated[int, MAX_RECEIVE_COUNT] = 5
    """Receives before a message moves to the dead-letter queue."""
    scaling: QueueScalingConfig | None = QueueScalingConfig()
    """Backlog-per-task scaling; null: a fixed `desired_count`."""

    @model_validator(mode="after")
    def _limits(self) -> QueueConfig:
        problems = []
        if self.encryption is QueueEncryption.KMS and self.kms_key_arn is None:
            problems.append("kms_key_arn: encryption 'kms' needs the key's ARN; set kms_key_arn")
        if self.encryption is not QueueEncryption.KMS and self.kms_key_arn is not None:
            problems.append("kms_key_arn: only used with encryption 'kms'; set it or remove it")
        if self.kms_key_arn is not None and not KMS_KEY_ARN.fullmatch(self.kms_key_arn):
            problems.append(
                f"kms_key_arn: {self.kms_key_arn!r} is not a KMS key ARN "
                "(arn:aws:kms:<region>:<acct>:key/<id>)"
            )
        if problems:
            raise ValueError("queue: " + "; ".join(problems))
        return self


def producer_url_variable(consumer: str) -> str:
    """Environment variable a producer receives with the consumer's queue URL."""
    return f"{consumer.upper().replace('-', '_')}_QUEUE_URL"


CONSUMER_URL_VARIABLE = "QUEUE_URL"
"""Environment variable the consumer receives with its own queue's URL."""
