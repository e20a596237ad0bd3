"""Alarms, the alarm topic, the job-failure rule, the dashboard: wiring, not presence.

Invariants run over every default environment; exact examples on the `rollouts` and
`https-shop` variants (tests/variants.py).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from envs import DEFAULT_ENVIRONMENTS
from envs.schema.service import Exposure
from tests.constants import ACCOUNT, REGION
from tests.event_pattern import matches
from tests.tf import by_path, only, policy, ref, resources
from tests.variants import VARIANTS, environments_and_variants

Json = dict[str, Any]
ENVIRONMENTS = environments_and_variants()


def job_failure_pattern(*, cluster_arn: str, task_family_arn_prefix: str) -> Json:
    """modules.alarms' pattern, imported when a test runs rather than at collection: importing
    modules.alarms loads the provider (modules/aws.py), seconds in each xdist worker."""
    from modules.alarms import job_failure_pattern as pattern

    return pattern(cluster_arn=cluster_arn, task_family_arn_prefix=task_family_arn_prefix)


def topic_ref(stack: Json) -> str:
    name, _ = by_path(stack, "aws_sns_topic", "alarm-topic/topic")
    return ref("aws_sns_topic", name, "arn")


def alarm(stack: Json, path: str) -> Json:
    return by_path(stack, "aws_cloudwatch_metric_alarm", path)[1]


def alarm_ref(stack: Json, path: str) -> str:
    name, _ = by_path(stack, "aws_cloudwatch_metric_alarm", path)
    return ref("aws_cloudwatch_metric_alarm", name, "alarm_name")


def tg_suffix(stack: Json, path: str) -> str:
    name, _ = by_path(stack, "aws_lb_target_group", path)
    return ref("aws_lb_target_group", name, "arn_suffix")


def lb_suffix(stack: Json, exposure: str) -> str:
    name, _ = by_path(stack, "aws_lb", f"{exposure}-alb/lb")
    return ref("aws_lb", name, "arn_suffix")


def cluster_name(stack: Json) -> str:
    name, _ = only(stack, "aws_ecs_cluster")
    return ref("aws_ecs_cluster", name, "name")


@pytest.mark.invariant
@pytest.mark.parametrize("env", DEFAULT_ENVIRONMENTS)
def test_one_encrypted_topic_that_every_alarm_notifies(
    synthesized: dict[str, Json], env: str
) -> None:
    stack = synthesized[env]
    topic_name, topic = by_path(stack, "aws_sns_topic", "alarm-topic/topic")
    key_name, key = by_path(stack, "aws_kms_key", "alarm-topic/key")
    assert topic["kms_master_key_id"] == ref("aws_kms_key", key_name, "arn")
    assert key["enable_key_rotation"] is True
    topic_arn = ref("aws_sns_topic", topic_name, "arn")
    assert stack["output"]["alarm_topic_arn"]["value"] == topic_arn
    alarms = resources(stack, "aws_cloudwatch_metric_alarm")
    assert alarms
    for body in alarms.values():
        assert body["alarm_actions"] == [topic_arn], body["alarm_name"]
        assert body["ok_actions"] == [topic_arn], body["alarm_name"]
    _, topic_policy = only(stack, "aws_sns_topic_policy")
    statements = policy(topic_policy["policy"])["Statement"]
    publishers = {s["Principal"].get("Service"): s for s in statements}
    account = "${data.aws_caller_identity.caller.account_id}"
    for service in ("cloudwatch.amazonaws.com", "events.amazonaws.com"):
        statement = publishers[service]
        assert statement["Action"] == "sns:Publish"
        assert statement["Resource"] == topic_arn
        assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": account}
    key_statements = policy(key["policy"])["Statement"]
    encrypt = next(s for s in key_statements if s["Sid"] == "PublishersEncrypt")
    assert sorted(encrypt["Principal"]["Service"]) == sorted(set(publishers) - {None})


@pytest.mark.invariant
@pytest.mark.parametrize("env", DEFAULT_ENVIRONMENTS)
def test_service_alarms_watch_their_own_target_group_and_service(
    synthesized: dict[str, Json], env: str
) -> None:
    stack = synthesized[env]
    config = ENVIRONMENTS[env]
    insights = config.ecs.container_insights != "disabled"
    for service in config.services:
        prefix = f"service-{service.name}/alarms"
        ecs_dims = {
            "ClusterName": cluster_name(stack),
            "ServiceName": f"{config.resource_prefix}-{service.name}",
        }
        cpu = alarm(stack, f"{prefix}/cpu-high")
        assert (cpu["namespace"], cpu["metric_name"], cpu["statistic"]) == (
            "AWS/ECS",
            "CPUUtilization",
            "Average",
        )
        assert cpu["dimensions"] == ecs_dims
        assert cpu["threshold"] == service.alarms.cpu_high_percent
        assert cpu["period"] == service.alarms.period_seconds
        running = [
            b
            for b in resources(stack, "aws_cloudwatch_metric_alarm").values()
            if b["//"]["metadata"]["path"].endswith(f"{prefix}/running-below-desired")
        ]
        assert len(running) == (1 if insights else 0)
        if running:
            queries = {q["id"]: q for q in running[0]["metric_query"]}
            assert queries["m0"]["metric"]["metric_name"] == "DesiredTaskCount"
            assert queries["m1"]["metric"]["metric_name"] == "RunningTaskCount"
            assert queries["m1"]["metric"]["dimensions"] == ecs_dims
            assert queries["e0"]["expression"] == "m0 - m1"
        if service.exposure is Exposure.NONE:
            continue
        group = tg_suffix(stack, f"tg-{service.name}")
        balancer = lb_suffix(stack, service.exposure.value)
        latency = alarm(stack, f"{prefix}/latency-{service.alarms.latency_statistic}")
        assert latency["metric_name"] == "TargetResponseTime"
        assert latency["extended_statistic"] == service.alarms.latency_statistic.value
        assert latency["dimensions"] == {"LoadBalancer": balancer, "TargetGroup": group}
        assert latency["threshold"] == service.alarms.latency_threshold_seconds
        rate = alarm(stack, f"{prefix}/target-5xx-rate")
        queries = {q["id"]: q for q in rate["metric_query"]}
        assert queries["m0"]["metric"]["metric_name"] == "HTTPCode_Target_5XX_Count"
        assert queries["m1"]["metric"]["metric_name"] == "RequestCount"
        for query in ("m0", "m1"):
            assert queries[query]["metric"]["dimensions"] == {
                "LoadBalancer": balancer,
                "TargetGroup": group,
            }
        assert rate["threshold"] == service.alarms.target_5xx_rate_percent
        # Deployment alarms: on by default behind a load balancer, naming these two alarms.
        _, ecs = by_path(stack, "aws_ecs_service", f"service-{service.name}/service")
        assert ecs["alarms"] == {
            "alarm_names": [
                alarm_ref(stack, f"{prefix}/target-5xx-rate"),
                alarm_ref(stack, f"{prefix}/latency-{service.alarms.latency_statistic}"),
            ],
            "enable": True,
            "rollback": True,
        }
        assert ecs["deployment_circuit_breaker"] == {"enable": True, "rollback": True}


def test_prod_services_roll_back_on_alarms(prod: Json) -> None:
    services = resources(prod, "aws_ecs_service")
    # Behind a load balancer the default rollback alarms apply; a worker (the queue worker)
    # rolls back on none unless it names some (ServiceAlarmsConfig.rollback_on).
    balanced = [body for body in services.values() if body.get("load_balancer")]
    assert balanced and all(body["alarms"]["enable"] for body in balanced)


def test_a_worker_has_no_target_alarms_and_rolls_back_on_what_it_chose(
    synthesized: dict[str, Json],
) -> None:
    stack = synthesized["rollouts"]
    worker = [
        b["alarm_name"]
        for b in resources(stack, "aws_cloudwatch_metric_alarm").values()
        if "/service-worker/" in b["//"]["metadata"]["path"]
    ]
    # No load balancer: no target metrics; Container Insights off: no task-count alarm;
    # memory switched off in config.
    assert worker == ["fargate-rollouts-worker-cpu-high"]
    _, ecs = by_path(stack, "aws_ecs_service", "service-worker/service")
    assert ecs["alarms"]["alarm_names"] == [alarm_ref(stack, "service-worker/alarms/cpu-high")]
    _, shop_worker = by_path(synthesized["https-shop"], "aws_ecs_service", "service-worker/service")
    assert "alarms" not in shop_worker


def test_tuned_alarms_use_the_configured_statistic_period_and_rollback(
    synthesized: dict[str, Json],
) -> None:
    stack = synthesized["rollouts"]
    latency = alarm(stack, "service-api/alarms/latency-p99")
    # Canary: both target groups are watched, the worse one counts.
    queries = {q["id"]: q for q in latency["metric_query"]}
    assert queries["e0"]["expression"] == "MAX([FILL(m0, 0), FILL(m1, 0)])"
    assert [queries[m]["metric"]["dimensions"]["TargetGroup"] for m in ("m0", "m1")] == [
        tg_suffix(stack, "tg-api"),
        tg_suffix(stack, "tg-api-alternate"),
    ]
    assert all(queries[m]["metric"]["stat"] == "p99" for m in ("m0", "m1"))
    assert all(queries[m]["metric"]["period"] == 120 for m in ("m0", "m1"))
    assert latency["threshold"] == 0.5
    paths = [
        b["//"]["metadata"]["path"]
        for b in resources(stack, "aws_cloudwatch_metric_alarm").values()
    ]
    assert not any(p.endswith("service-api/alarms/target-5xx-count") for p in paths)
    _, ecs = by_path(stack, "aws_ecs_service", "service-api/service")
    assert ecs["alarms"]["alarm_names"] == [
        alarm_ref(stack, "service-api/alarms/target-5xx-rate"),
        alarm_ref(stack, "service-api/alarms/unhealthy-hosts"),
    ]
    rate = alarm(stack, "service-api/alarms/target-5xx-rate")
    rate_queries = {q["id"]: q for q in rate["metric_query"]}
    assert rate_queries["e0"]["expression"] == (
        "IF((FILL(m2, 0) + FILL(m3, 0)) >= 20, "
        "100 * (FILL(m0, 0) + FILL(m1, 0)) / (FILL(m2, 0) + FILL(m3, 0)), 0)"
    )


@pytest.mark.invariant
@pytest.mark.parametrize("env", DEFAULT_ENVIRONMENTS)
def test_each_alb_alarms_on_its_own_5xx_and_rejected_connections(
    synthesized: dict[str, Json], env: str
) -> None:
    stack = synthesized[env]
    config = ENVIRONMENTS[env]
    for exposure in ("public", "internal"):
        elb = alarm(stack, f"{exposure}-alb-alarms/elb-5xx")
        assert elb["metric_name"] == "HTTPCode_ELB_5XX_Count"
        assert elb["dimensions"] == {"LoadBalancer": lb_suffix(stack, exposure)}
        assert elb["threshold"] == config.alarms.elb_5xx_per_minute
        assert (elb["period"], elb["evaluation_periods"], elb["datapoints_to_alarm"]) == (60, 5, 3)
        rejected = alarm(stack, f"{exposure}-alb-alarms/rejected-connections")
        assert rejected["metric_name"] == "RejectedConnectionCount"
        assert rejected["dimensions"] == {"LoadBalancer": lb_suffix(stack, exposure)}


def sample_event(family: str, *, exit_code: int | None, stop_code: str) -> Json:
    container: Json = {"name": "app", "lastStatus": "STOPPED"}
    if exit_code is not None:
        container["exitCode"] = exit_code
    return {
        "version": "0",
        "source": "aws.ecs",
        "detail-type": "ECS Task State Change",
        "account": "123456789012",
        "region": "ap-northeast-1",
        "detail": {
            "clusterArn": "arn:aws:ecs:ap-northeast-1:123456789012:cluster/fargate-dev",
            "taskDefinitionArn": (
                f"arn:aws:ecs:ap-northeast-1:123456789012:task-definition/{family}:7"
            ),
            "lastStatus": "STOPPED",
            "desiredStatus": "STOPPED",
            "stopCode": stop_code,
            "stoppedReason": "Essential container in task exited",
            "containers": [container],
            "group": f"family:{family}",
        },
    }


FAMILY_PREFIX = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/fargate-dev-migrate:"
CLUSTER = f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/fargate-dev"


@pytest.mark.parametrize(
    "family,exit_code,stop_code,expected",
    [
        ("fargate-dev-migrate", 1, "EssentialContainerExited", True),
        ("fargate-dev-migrate", 137, "EssentialContainerExited", True),
        ("fargate-dev-migrate", None, "TaskFailedToStart", True),
        ("fargate-dev-migrate", 0, "EssentialContainerExited", False),
        ("fargate-dev-migrate", None, "UserInitiated", False),
        ("fargate-dev-migrate-v2", 1, "EssentialContainerExited", False),
        ("fargate-dev-backend", 1, "EssentialContainerExited", False),
    ],
)
def test_job_failure_pattern_matches_only_its_family_failing(
    family: str, exit_code: int | None, stop_code: str, expected: bool
) -> None:
    pattern = job_failure_pattern(cluster_arn=CLUSTER, task_family_arn_prefix=FAMILY_PREFIX)
    event = sample_event(family, exit_code=exit_code, stop_code=stop_code)
    assert matches(pattern, event) is expected
    running = sample_event(family, exit_code=exit_code, stop_code=stop_code)
    running["detail"]["lastStatus"] = "RUNNING"
    assert matches(pattern, running) is False
    other_cluster = sample_event(family, exit_code=exit_code, stop_code=stop_code)
    other_cluster["detail"]["clusterArn"] = CLUSTER + "-other"
    assert matches(pattern, other_cluster) is False


@pytest.mark.invariant
# The user's environments (any of them may have none) and a fixture that has some, so the
# check provably runs.
@pytest.mark.parametrize("env", (*DEFAULT_ENVIRONMENTS, "https-shop"))
def test_each_job_rule_is_for_its_family_and_notifies_the_topic(
    synthesized: dict[str, Json], env: str
) -> None:
    stack = synthesized[env]
    config = ENVIRONMENTS[env]
    assert config.jobs or env not in VARIANTS, f"fixture {env} has no job: nothing checked"
    cluster, _ = only(stack, "aws_ecs_cluster")
    for job in config.jobs:
        rule_name, rule = by_path(
            stack, "aws_cloudwatch_event_rule", f"job-{job.name}/alarms/failed-runs"
        )
        family = f"{config.resource_prefix}-{job.name}"
        account = "${data.aws_caller_identity.caller.account_id}"
        assert json.loads(rule["event_pattern"]) == job_failure_pattern(
            cluster_arn=ref("aws_ecs_cluster", cluster, "arn"),
            task_family_arn_prefix=(
                f"arn:aws:ecs:{config.region}:{account}:task-definition/{family}:"
            ),
        )
        _, target = by_path(stack, "aws_cloudwatch_event_target", f"job-{job.name}/alarms/notify")
        assert target["rule"] == ref("aws_cloudwatch_event_rule", rule_name, "name")
        assert target["arn"] == topic_ref(stack)


def test_missed_run_and_dead_letter_alarms(synthesized: dict[str, Json]) -> None:
    dev = synthesized["dev"]
    nightly = alarm(dev, "job-nightly-report/alarms/missed-run")
    _, log_filter = by_path(
        dev, "aws_cloudwatch_log_metric_filter", "job-nightly-report/alarms/log-events"
    )
    group, _ = by_path(dev, "aws_cloudwatch_log_group", "job-nightly-report/workload/logs")
    assert log_filter["log_group_name"] == ref("aws_cloudwatch_log_group", group, "name")
    transformation = log_filter["metric_transformation"]
    assert (nightly["namespace"], nightly["metric_name"]) == (
        transformation["namespace"],
        transformation["name"],
    )
    # cron(): 25 hourly periods, all without a log line.
    assert (nightly["period"], nightly["evaluation_periods"], nightly["datapoints_to_alarm"]) == (
        3600,
        25,
        25,
    )
    assert (nightly["comparison_operator"], nightly["threshold"]) == ("LessThanThreshold", 1)
    assert nightly["treat_missing_data"] == "breaching"
    queue, _ = by_path(dev, "aws_sqs_queue", "job-nightly-report/schedule/dlq")
    dead = alarm(dev, "job-nightly-report/alarms/dead-letters")
    assert dead["dimensions"] == {"QueueName": ref("aws_sqs_queue", queue, "name")}
    assert dead["metric_name"] == "ApproximateNumberOfMessagesVisible"
    # On-demand jobs have neither.
    paths = [
        b["//"]["metadata"]["path"] for b in resources(dev, "aws_cloudwatch_metric_alarm").values()
    ]
    assert not any("/job-migrate/" in p for p in paths)

    shift = synthesized["rollouts"]
    assert alarm(shift, "job-sync/alarms/missed-run")["evaluation_periods"] == 1  # rate(15 min)
    assert alarm(shift, "job-sync/alarms/dead-letters")["threshold"] == 5
    assert alarm(shift, "job-weekly/alarms/missed-run")["evaluation_periods"] == 168
    weekly = [
        p
        for p in (
            b["//"]["metadata"]["path"]
            for b in resources(shift, "aws_cloudwatch_metric_alarm").values()
        )
        if "/job-weekly/" in p
    ]
    assert not any(p.endswith("dead-letters") for p in weekly)  # no queue, no alarm
    rules = [
        b["//"]["metadata"]["path"] for b in resources(shift, "aws_cloudwatch_event_rule").values()
    ]
    assert not any("/job-migrate/" in p for p in rules)  # failed_runs: false


def test_subscriptions_from_config(synthesized: dict[str, Json]) -> None:
    stack = synthesized["rollouts"]
    subscriptions = resources(stack, "aws_sns_topic_subscription")
    assert sorted((s["protocol"], s["endpoint"]) for s in subscriptions.values()) == [
        ("email", "oncall@example.com"),
        ("https", "https://hooks.example.com/alarms/T123"),
    ]
    assert all(s["topic_arn"] == topic_ref(stack) for s in subscriptions.values())
    assert not resources(synthesized["dev"], "aws_sns_topic_subscription")


@pytest.mark.invariant
@pytest.mark.parametrize("env", DEFAULT_ENVIRONMENTS)
def test_dashboard_draws_every_alarm_it_shares_metrics_with(
    synthesized: dict[str, Json], env: str
) -> None:
    stack = synthesized[env]
    _, dashboard = only(stack, "aws_cloudwatch_dashboard")
    assert dashboard["dashboard_name"] == ENVIRONMENTS[env].resource_prefix
    widgets = json.loads(dashboard["dashboard_body"])["widgets"]
    graphs = [w for w in widgets if w["type"] == "metric"]
    thresholds = {
        (w["properties"]["title"], w["properties"]["annotations"]["horizontal"][0]["value"])
        for w in graphs
        if "annotations" in w["properties"]
    }
    for body in resources(stack, "aws_cloudwatch_metric_alarm").values():
        if "metric_name" in body:
            drawn = [
                w
                for w in graphs
                if any(
                    row[:2] == [body["namespace"], body["metric_name"]]
                    for row in w["properties"]["metrics"]
                )
                and w["properties"].get("annotations", {}).get("horizontal", [{}])[0].get("value")
                == body["threshold"]
            ]
            assert drawn, f"{body['alarm_name']} has no graph with its metric and threshold"
    assert thresholds
    logs = [w for w in widgets if w["type"] == "log"]
    assert len(logs) == len(ENVIRONMENTS[env].jobs)


@pytest.mark.invariant
def test_alarm_rule_and_dashboard_names_are_unique_across_stacks(
    synthesized: dict[str, Json],
) -> None:
    """CloudWatch alarm, EventBridge rule and dashboard names are unique per account and
    region; environments may share both."""
    for type_, field in (
        ("aws_cloudwatch_metric_alarm", "alarm_name"),
        ("aws_cloudwatch_event_rule", "name"),
        ("aws_cloudwatch_dashboard", "dashboard_name"),
        ("aws_sns_topic", "name"),
    ):
        names = [
            body[field]
            for stack in synthesized.values()
            for body in resources(stack, type_).values()
        ]
        assert names and len(names) == len(set(names)), type_
