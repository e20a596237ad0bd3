"""Config for alarms and their notifications: the environment's topic, per-service, per-ALB
and per-job alarm thresholds.

Every threshold can be tuned, and every alarm switched off with `null`. Limits cited below:
- CloudWatch PutMetricAlarm
  (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html):
  Period is 10, 20, 30 or a multiple of 60 seconds; Period x EvaluationPeriods is at most one
  day below a one-hour period and at most seven days otherwise; DatapointsToAlarm is at most
  EvaluationPeriods.
- SNS Subscribe (https://docs.aws.amazon.com/sns/latest/api/API_Subscribe.html): the `email`
  protocol takes an email address, `https` a URL starting with https://.
"""

from __future__ import annotations

import enum
import re
from typing import Annotated

from pydantic import model_validator

from envs.schema.common import Strict, between

# CloudWatch PutMetricAlarm limits (see the module docstring for the source).
ALARM_WINDOW_MAX_SECONDS_SHORT_PERIOD = 86_400
ALARM_WINDOW_MAX_SECONDS = 604_800
ONE_HOUR_SECONDS = 3600
MISSED_RUN_MAX_HOURS = ALARM_WINDOW_MAX_SECONDS // ONE_HOUR_SECONDS
"""The missed-run alarm evaluates hourly periods: at most 7 days of them."""
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
HTTPS_URL = re.compile(r"^https://[^\s/]+(/\S*)?$")


def check_alarm_window(period_seconds: int, evaluation_periods: int) -> list[str]:
    """CloudWatch's rules for a metric alarm's period and evaluation window."""
    problems = []
    if period_seconds < 60 or period_seconds % 60:
        problems.append(f"period_seconds must be a multiple of 60; got {period_seconds}")
    if evaluation_periods < 1:
        problems.append(f"evaluation_periods must be >= 1; got {evaluation_periods}")
    limit = (
        ALARM_WINDOW_MAX_SECONDS_SHORT_PERIOD
        if period_seconds < ONE_HOUR_SECONDS
        else ALARM_WINDOW_MAX_SECONDS
    )
    if period_seconds * evaluation_periods > limit:
        problems.append(
            f"period_seconds x evaluation_periods = {period_seconds * evaluation_periods} s; "
            f"CloudWatch allows at most {limit} s for a {period_seconds} s period"
        )
    return problems


class SubscriptionProtocol(enum.StrEnum):
    """How an alarm notification reaches people or tools."""

    EMAIL = "email"
    """An email address; AWS mails a confirmation link that must be clicked once."""
    HTTPS = "https"
    """An HTTPS endpoint (chat webhook relay, incident tool); it must confirm the subscription."""


class SubscriptionConfig(Strict):
    """One subscriber of the environment's alarm topic."""

    protocol: SubscriptionProtocol
    """`email` or `https`."""
    endpoint: str
    """The email address or the https:// URL."""

    @model_validator(mode="after")
    def _endpoint(self) -> SubscriptionConfig:
        pattern = EMAIL if self.protocol is SubscriptionProtocol.EMAIL else HTTPS_URL
        if not pattern.fullmatch(self.endpoint):
            kind = (
                "an email address"
                if self.protocol is SubscriptionProtocol.EMAIL
                else "a URL starting with https://"
            )
            raise ValueError(
                f"endpoint: {self.endpoint!r} is not {kind} (protocol {self.protocol})"
            )
        return self


class AlarmsConfig(Strict):
    """The environment's alarm topic and load-balancer alarms.

    Every alarm of the environment notifies one KMS-encrypted SNS topic, on ALARM and on OK.
    Its ARN is the stack output `alarm_topic_arn` (for a chat integration to subscribe).
    """

    subscriptions: tuple[SubscriptionConfig, ...] = ()
    """Who is told: email addresses or HTTPS endpoints. Empty: subscribe outside Terraform."""
    elb_5xx_per_minute: int | None = 10
    """Alarm when the ALB itself answers more 5xx per minute than this (3 of 5 minutes)."""
    rejected_connections_per_minute: int | None = 0
    """Alarm when the ALB rejects more connections per minute than this (it hit its limit)."""
    dashboard: bool = True
    """A CloudWatch dashboard per environment drawn from the same metrics as the alarms."""

    @model_validator(mode="after")
    def _limits(self) -> AlarmsConfig:
        problems = []
        for field in ("elb_5xx_per_minute", "rejected_connections_per_minute"):
            value = getattr(self, field)
            if value is not None and value < 0:
                problems.append(f"{field} must be >= 0 or null; got {value}")
        endpoints = [s.endpoint for s in self.subscriptions]
        for endpoint in sorted({e for e in endpoints if endpoints.count(e) > 1}):
            problems.append(f"subscriptions: {endpoint!r} is listed more than once")
        if problems:
            raise ValueError("alarms: " + "; ".join(problems))
        return self


class LatencyStatistic(enum.StrEnum):
    """Which percentile of target response time is alarmed on."""

    P95 = "p95"
    P99 = "p99"


class ServiceAlarm(enum.StrEnum):
    """A service alarm, by what it watches."""

    TARGET_5XX_RATE = "target_5xx_rate"
    TARGET_5XX_COUNT = "target_5xx_count"
    LATENCY = "latency"
    UNHEALTHY_HOSTS = "unhealthy_hosts"
    RUNNING_BELOW_DESIRED = "running_below_desired"
    CPU_HIGH = "cpu_high"
    MEMORY_HIGH = "memory_high"


LOAD_BALANCER_ALARMS = frozenset(
    {
        ServiceAlarm.TARGET_5XX_RATE,
        ServiceAlarm.TARGET_5XX_COUNT,
        ServiceAlarm.LATENCY,
        ServiceAlarm.UNHEALTHY_HOSTS,
    }
)
"""Alarms on target-group metrics: they exist only for a service behind a load balancer."""


class ServiceAlarmsConfig(Strict):
    """A service's alarms and which of them roll a deployment back.

    Each threshold set to null switches its alarm off. Target alarms exist only behind a load
    balancer; `running_below_desired` only with Container Insights on.
    """

    target_5xx_rate_percent: float | None = 5.0
    """Alarm when more than this share of requests get a 5xx from the tasks (with at least
    `min_requests_for_rate` requests in the minute, so one failure at night does not page)."""
    min_requests_for_rate: int = 20
    """Requests per minute below which the 5xx rate counts as 0."""
    target_5xx_count_per_minute: int | None = 50
    """Alarm when the tasks answer more 5xx per minute than this, whatever the traffic."""
    latency_statistic: LatencyStatistic = LatencyStatistic.P95
    """Which percentile of TargetResponseTime the latency alarm watches."""
    latency_threshold_seconds: float | None = 2.0
    """Alarm when that percentile of the target response time exceeds this."""
    unhealthy_hosts: int | None = 1
    """Alarm when at least this many targets fail the load balancer's health check."""
    running_below_desired: bool = True
    """Alarm when fewer tasks run than desired (Container Insights RunningTaskCount)."""
    cpu_high_percent: Annotated[int, between(1, 100)] | None = 90
    """Alarm when average CPU utilisation stays above this."""
    memory_high_percent: Annotated[int, between(1, 100)] | None = 90
    """Alarm when average memory utilisation stays above this."""
    period_seconds: int = 60
    """Length of one evaluation period."""
    evaluation_periods: int = 5
    """Periods looked at ("N" of "M out of N")."""
    datapoints_to_alarm: int = 3
    """Breaching periods among them that fire the alarm ("M")."""
    rollback_on: tuple[ServiceAlarm, ...] | None = None
    """Alarms that roll a deployment back (ECS deployment alarms); null: the target 5xx rate
    and latency alarms behind a load balancer, none otherwise; []: off."""

    @model_validator(mode="after")
    def _limits(self) -> ServiceAlarmsConfig:
        problems = check_alarm_window(self.period_seconds, self.evaluation_periods)
        if not 1 <= self.datapoints_to_alarm <= self.evaluation_periods:
            problems.append(
                f"datapoints_to_alarm must be 1-evaluation_periods ({self.evaluation_periods}); "
                f"got {self.datapoints_to_alarm}"
            )
        rate = self.target_5xx_rate_percent
        if rate is not None and not 0 < rate <= 100:
            problems.append(f"target_5xx_rate_percent must be > 0 and <= 100; got {rate}")
        for field in ("target_5xx_count_per_minute", "unhealthy_hosts"):
            value = getattr(self, field)
            if value is not None and value < 1:
                problems.append(f"{field} must be >= 1 or null; got {value}")
        if self.min_requests_for_rate < 1:
            problems.append(f"min_requests_for_rate must be >= 1; got {self.min_requests_for_rate}")
        latency = self.latency_threshold_seconds
        if latency is not None and latency <= 0:
            problems.append(f"latency_threshold_seconds must be > 0 or null; got {latency}")
        for alarm in self.rollback_on or ():
            if not self.is_on(alarm):
                problems.append(
                    f"rollback_on: {alarm} is switched off in this block; turn it on or "
                    "remove it from rollback_on"
                )
        if problems:
            raise ValueError("alarms: " + "; ".join(problems))
        return self

    def is_on(self, alarm: ServiceAlarm) -> bool:
        """Whether the config asks for `alarm` (before asking if its metric exists)."""
        setting = {
            ServiceAlarm.TARGET_5XX_RATE: self.target_5xx_rate_percent,
            ServiceAlarm.TARGET_5XX_COUNT: self.target_5xx_count_per_minute,
            ServiceAlarm.LATENCY: self.latency_threshold_seconds,
            ServiceAlarm.UNHEALTHY_HOSTS: self.unhealthy_hosts,
            ServiceAlarm.RUNNING_BELOW_DESIRED: self.running_below_desired or None,
            ServiceAlarm.CPU_HIGH: self.cpu_high_percent,
            ServiceAlarm.MEMORY_HIGH: self.memory_high_percent,
        }[alarm]
        return setting is not None

    def rollback_alarms(self, *, load_balanced: bool) -> tuple[ServiceAlarm, ...]:
        if self.rollback_on is not None:
            return self.rollback_on
        if not load_balanced:
            return ()
        return tuple(
            a for a in (ServiceAlarm.TARGET_5XX_RATE, ServiceAlarm.LATENCY) if self.is_on(a)
        )


class JobAlarmsConfig(Strict):
    """A job's alerts: failed runs, missed scheduled runs, a growing dead-letter queue."""

    failed_runs: bool = True
    """Notify when a run stops with a non-zero exit code or fails to start (EventBridge rule)."""
    # CloudWatch evaluates at most 7 days (ALARM_WINDOW_MAX_SECONDS above).
    missed_run_window_hours: Annotated[int, between(1, MISSED_RUN_MAX_HOURS)] | None = None
    """Alarm when a scheduled job writes no log line for this many hours. Null: twice
    a rate() interval (at least 1 hour), 25 hours for cron(), none for at() or a disabled
    schedule. Set it for crons that run less often than daily."""
    dead_letter_messages: int | None = 1
    """Alarm when the schedule's dead-letter queue holds at least this many messages."""

    @model_validator(mode="after")
    def _limits(self) -> JobAlarmsConfig:
        problems = []
        if self.dead_letter_messages is not None and self.dead_letter_messages < 1:
            problems.append(
                f"dead_letter_messages must be >= 1 or null; got {self.dead_letter_messages}"
            )
        if problems:
            raise ValueError("alarms: " + "; ".join(problems))
        return self
