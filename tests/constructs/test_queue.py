"""Queue workers: which queue, which dead-letter queue, which role may do what, which metric."""

from __future__ import annotations

import json
from typing import Any

import pytest

from envs import DEFAULT_ENVIRONMENTS, ConfigError, merge
from tests.example_envs import build_example
from tests.example_envs.dev import OVERRIDES as DEV
from tests.tf import by_path, container_definitions, ref, resources, where
from tests.variants import KMS_KEY, VARIANTS, environments_and_variants

Json = dict[str, Any]
ENVIRONMENTS = environments_and_variants()


def queue(stack: Json, consumer: str, which: str = "queue") -> tuple[str, Json]:
    return by_path(stack, "aws_sqs_queue", f"queue-{consumer}/{which}")


def task_policies(stack: Json, path: str) -> dict[str, list[Json]]:
    """Policy name -> statements of the task role of the workload at `path`."""
    role, _ = by_path(stack, "aws_iam_role", f"{path}/workload/task-role")
    return {
        body["name"]: json.loads(body["policy"])["Statement"]
        for body in where(stack, "aws_iam_role_policy", role=ref("aws_iam_role", role)).values()
    }


def environment_of(stack: Json, path: str) -> dict[str, str]:
    _, task = by_path(stack, "aws_ecs_task_definition", f"{path}/workload/task-definition")
    (main, *_) = container_definitions(task)
    return {e["name"]: e["value"] for e in main["environment"]}


@pytest.fixture(scope="module")
def shop(synthesized: dict[str, Json]) -> Json:
    return synthesized["queues"]


def test_queue_redrives_to_its_own_encrypted_dead_letter_queue(shop: Json) -> None:
    queue_name, body = queue(shop, "worker")
    dlq_name, dlq = queue(shop, "worker", "dlq")
    assert body["name"] == "fargate-queues-worker"
    assert dlq["name"] == "fargate-queues-worker-dlq"
    assert json.loads(body["redrive_policy"]) == {
        "deadLetterTargetArn": ref("aws_sqs_queue", dlq_name, "arn"),
        "maxReceiveCount": 3,
    }
    assert body["kms_master_key_id"] == KMS_KEY and dlq["kms_master_key_id"] == KMS_KEY
    assert dlq["message_retention_seconds"] == 1209600
    (allow,) = resources(shop, "aws_sqs_queue_redrive_allow_policy").values()
    assert allow["queue_url"] == ref("aws_sqs_queue", dlq_name, "url")
    assert json.loads(allow["redrive_allow_policy"]) == {
        "redrivePermission": "byQueue",
        "sourceQueueArns": [ref("aws_sqs_queue", queue_name, "arn")],
    }


def test_consumer_and_producers_get_exact_permissions_and_urls(shop: Json) -> None:
    # Imported here, not at collection: the module loads the provider (modules/aws.py).
    from modules.queue import (
        CONSUME_ACTIONS,
        SEND_ACTIONS,
    )

    queue_name, _ = queue(shop, "worker")
    arn, url = ref("aws_sqs_queue", queue_name, "arn"), ref("aws_sqs_queue", queue_name, "url")
    consume = task_policies(shop, "service-worker")["queue-consume"]
    assert consume == [
        {"Sid": "Queue", "Effect": "Allow", "Action": list(CONSUME_ACTIONS), "Resource": arn},
        {"Sid": "QueueKey", "Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": KMS_KEY},
    ]
    assert environment_of(shop, "service-worker")["QUEUE_URL"] == url
    for producer in ("service-backend", "job-migrate"):
        send = task_policies(shop, producer)["queue-send-worker"]
        assert send == [
            {"Sid": "Queue", "Effect": "Allow", "Action": list(SEND_ACTIONS), "Resource": arn},
            {
                "Sid": "QueueKey",
                "Effect": "Allow",
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": KMS_KEY,
            },
        ]
        assert environment_of(shop, producer)["WORKER_QUEUE_URL"] == url
    # Not a producer: no grant, no URL.
    assert "queue-send-worker" not in task_policies(shop, "service-frontend")
    assert "WORKER_QUEUE_URL" not in environment_of(shop, "service-frontend")


def test_backlog_per_task_scaling_divides_the_queue_by_running_tasks(shop: Json) -> None:
    queue_name, _ = queue(shop, "worker")
    _, target = by_path(shop, "aws_appautoscaling_target", "service-worker/queue-scaling/target")
    assert (target["min_capacity"], target["max_capacity"]) == (0, 6)
    assert target["resource_id"].endswith("/fargate-queues-worker")
    _, policy = by_path(shop, "aws_appautoscaling_policy", "service-worker/queue-scaling/backlog")
    config = policy["target_tracking_scaling_policy_configuration"]
    assert config["target_value"] == 20
    metrics = {m["id"]: m for m in config["customized_metric_specification"]["metrics"]}
    visible = metrics["visible"]["metric_stat"]["metric"]
    assert (visible["namespace"], visible["metric_name"]) == (
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
    )
    assert visible["dimensions"] == [
        {"name": "QueueName", "value": ref("aws_sqs_queue", queue_name, "name")}
    ]
    running = metrics["running"]["metric_stat"]["metric"]
    assert running["metric_name"] == "RunningTaskCount"
    assert {d["name"]: d["value"] for d in running["dimensions"]}["ServiceName"] == (
        "fargate-queues-worker"
    )
    assert metrics["backlog"]["expression"].startswith("visible / ")
    assert [m["id"] for m in metrics.values() if m["return_data"]] == ["backlog"]
    # The autoscaler owns the count: Terraform ignores it after creation.
    _, service = by_path(shop, "aws_ecs_service", "service-worker/service")
    assert "desired_count" in service["lifecycle"]["ignore_changes"]


@pytest.mark.invariant
# The user's environments (any of them may have none) and a fixture that has some, so the
# check provably runs.
@pytest.mark.parametrize("env", (*DEFAULT_ENVIRONMENTS, "queues"))
def test_every_queue_is_encrypted_tls_only_and_redriven(
    synthesized: dict[str, Json], env: str
) -> None:
    stack = synthesized[env]
    consumers = [s.name for s in ENVIRONMENTS[env].services if s.queue is not None]
    assert consumers or env not in VARIANTS, f"fixture {env} has no queue: nothing checked"
    for consumer in consumers:
        for which in ("queue", "dlq"):
            name, body = queue(stack, consumer, which)
            assert body.get("sqs_managed_sse_enabled") or body.get("kms_master_key_id")
            (policy,) = where(
                stack, "aws_sqs_queue_policy", queue_url=ref("aws_sqs_queue", name, "url")
            ).values()
            (statement,) = json.loads(policy["policy"])["Statement"]
            assert statement["Effect"] == "Deny"
            assert statement["Resource"] == ref("aws_sqs_queue", name, "arn")
            assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        _, body = queue(stack, consumer)
        dlq_name, _ = queue(stack, consumer, "dlq")
        assert json.loads(body["redrive_policy"])["deadLetterTargetArn"] == ref(
            "aws_sqs_queue", dlq_name, "arn"
        )


@pytest.mark.parametrize(
    "worker,expected",
    [
        (
            {"queue": {"producers": ["billing"]}},
            "services.worker.queue.producers: 'billing' is not another service or job of this "
            "environment; known: frontend, backend, migrate, nightly-report",
        ),
        (
            {"queue": {"visibility_timeout_seconds": 50000}},
            "services.worker.queue: visibility_timeout_seconds must be 0-43200; got 50000",
        ),
        (
            {"queue": {"encryption": "kms"}},
            "services.worker.queue: kms_key_arn: encryption 'kms' needs the key's ARN",
        ),
        (
            {"autoscaling": {"min_capacity": 1, "max_capacity": 2}},
            "services.worker.autoscaling: a queue worker scales on its backlog (queue.scaling)",
        ),
        (
            {"desired_count": 9},
            "services.worker.queue.scaling: need min_capacity <= desired_count <= max_capacity; "
            "got 0 <= 9 <= 4",
        ),
        (
            {"queue": {"scaling": {"backlog_per_task": 0}}},
            "services.worker.queue.scaling: backlog_per_task must be >= 1; got 0",
        ),
    ],
)
def test_rejected_queues(worker: dict[str, Any], expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        build_example(merge(DEV, {"services": {"worker": worker}}), source="envs/dev.py")
    assert expected in caught.value.render()


def test_backlog_scaling_needs_container_insights() -> None:
    with pytest.raises(ConfigError) as caught:
        build_example(merge(DEV, {"ecs": {"container_insights": "disabled"}}))
    assert (
        "services.worker.queue.scaling: backlog per task divides by ECS/ContainerInsights "
        "RunningTaskCount, and ecs.container_insights is 'disabled'"
    ) in caught.value.render()
