"""One CloudWatch dashboard per environment, drawn from the alarms' own specs.

Body format: https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from constructs import Construct

from modules.alarms import AlarmSpec, Metric
from modules.aws import cloudwatch_dashboard

WIDTH = 8
HEIGHT = 6
ROW = 24 // WIDTH


@dataclass(frozen=True)
class Section:
    """A titled row group: a service, a load balancer or a job."""

    title: str
    specs: tuple[AlarmSpec, ...]
    requests: tuple[Metric, ...] = ()
    """Request counts to graph beside the alarms (services behind a load balancer)."""
    log_group_name: str | None = None
    """A job's log group: its last runs are listed from it."""


def _metric_row(metric: Metric, metric_id: str, *, visible: bool) -> list[Any]:
    row: list[Any] = [metric.namespace, metric.name]
    for name, value in metric.dimensions.items():
        row += [name, value]
    row.append({"id": metric_id, "stat": metric.stat, "visible": visible})
    return row


def spec_widget(spec: AlarmSpec, *, region: str) -> dict[str, Any]:
    """A graph of what the alarm compares, with its threshold drawn as a line."""
    direct = spec.expression is None and len(spec.metrics) == 1
    metrics: list[Any] = [
        _metric_row(metric, f"m{index}", visible=direct)
        for index, metric in enumerate(spec.metrics)
    ]
    if not direct:
        metrics.insert(0, [{"expression": spec.expression, "id": "e0", "label": spec.title}])
    return {
        "type": "metric",
        "width": WIDTH,
        "height": HEIGHT,
        "properties": {
            "title": spec.title,
            "region": region,
            "view": "timeSeries",
            "period": spec.period_seconds,
            "metrics": metrics,
            "annotations": {"horizontal": [{"label": "alarm", "value": spec.threshold}]},
        },
    }


class Dashboard(Construct):
    """Per section a text header, then one graph per alarm (plus requests, plus last runs)."""

    def __init__(
        self, scope: Construct, id_: str, *, name: str, region: str, sections: list[Section]
    ) -> None:
        super().__init__(scope, id_)
        widgets: list[dict[str, Any]] = []
        for section in sections:
            widgets.append(
                {
                    "type": "text",
                    "width": 24,
                    "height": 1,
                    "properties": {"markdown": f"## {section.title}"},
                }
            )
            if section.requests:
                widgets.append(
                    {
                        "type": "metric",
                        "width": WIDTH,
                        "height": HEIGHT,
                        "properties": {
                            "title": "Requests",
                            "region": region,
                            "view": "timeSeries",
                            "period": 60,
                            "metrics": [
                                _metric_row(m, f"m{i}", visible=True)
                                for i, m in enumerate(section.requests)
                            ],
                        },
                    }
                )
            widgets.extend(spec_widget(spec, region=region) for spec in section.specs)
            if section.log_group_name is not None:
                widgets.append(
                    {
                        "type": "log",
                        "width": WIDTH,
                        "height": HEIGHT,
                        "properties": {
                            "title": "Last runs (newest log lines)",
                            "region": region,
                            "view": "table",
                            "query": (
                                f"SOURCE '{section.log_group_name}' | fields @timestamp, "
                                "@logStream, @message | sort @timestamp desc | limit 20"
                            ),
                        },
                    }
                )
        self.widgets = widgets
        self.dashboard = cloudwatch_dashboard.CloudwatchDashboard(
            self,
            "dashboard",
            dashboard_name=name,
            dashboard_body=json.dumps({"widgets": widgets}),
        )
        self.name = name
