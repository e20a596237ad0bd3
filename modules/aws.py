"""The one door to the AWS provider bindings (`cdktf-cdktf-provider-aws` 21.22.1).

The package's `__init__` eagerly imports all ~2,200 resource submodules (13-18 s, up to
1.5 GB on a 2-core machine). Each submodule only needs the package's jsii assembly
(`cdktf_cdktf_provider_aws._jsii`), so this module registers the package in `sys.modules`
*without running its `__init__`* (a module object carrying the package's `__path__`), loads
`_jsii`, and then imports just the submodules listed below. The synthesized JSON is
byte-identical to a naive import (checked by `make bench`).

Every provider import in the project goes through here: `from modules.aws import vpc`.
If the full package was already imported (as the benchmark's naive path does), it is reused.
The provider package is pinned and frozen upstream, so its layout will not move.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys

PROVIDER_PACKAGE = "cdktf_cdktf_provider_aws"


def _register_package_without_init() -> None:
    if PROVIDER_PACKAGE in sys.modules:
        return
    spec = importlib.util.find_spec(PROVIDER_PACKAGE)
    if spec is None or spec.submodule_search_locations is None:
        raise ImportError(
            f"{PROVIDER_PACKAGE} is not installed; run `make synth` (it installs requirements.txt)"
        )
    # module_from_spec builds the package module (with __path__) but does not execute it.
    sys.modules[PROVIDER_PACKAGE] = importlib.util.module_from_spec(spec)
    importlib.import_module(f"{PROVIDER_PACKAGE}._jsii")


_register_package_without_init()

# Only the submodules the project uses. Add a line here when a construct needs a new resource.
from cdktf_cdktf_provider_aws import (  # noqa: E402
    acm_certificate,
    acm_certificate_validation,
    appautoscaling_policy,
    appautoscaling_scheduled_action,
    appautoscaling_target,
    cloudwatch_dashboard,
    cloudwatch_event_rule,
    cloudwatch_event_target,
    cloudwatch_log_group,
    cloudwatch_log_metric_filter,
    cloudwatch_log_resource_policy,
    cloudwatch_metric_alarm,
    data_aws_caller_identity,
    data_aws_elb_service_account,
    data_aws_route53_zone,
    default_network_acl,
    default_security_group,
    ecr_lifecycle_policy,
    ecr_repository,
    ecs_cluster,
    ecs_cluster_capacity_providers,
    ecs_service,
    ecs_task_definition,
    efs_access_point,
    efs_backup_policy,
    efs_file_system,
    efs_file_system_policy,
    efs_mount_target,
    eip,
    flow_log,
    iam_policy,
    iam_role,
    iam_role_policy,
    iam_role_policy_attachment,
    internet_gateway,
    kms_alias,
    kms_key,
    lb,
    lb_listener,
    lb_listener_rule,
    lb_target_group,
    nat_gateway,
    provider,
    route,
    route53_record,
    route53_zone,
    route_table,
    route_table_association,
    s3_bucket,
    s3_bucket_lifecycle_configuration,
    s3_bucket_ownership_controls,
    s3_bucket_policy,
    s3_bucket_public_access_block,
    s3_bucket_server_side_encryption_configuration,
    s3_bucket_versioning,
    scheduler_schedule,
    security_group,
    service_discovery_http_namespace,
    sns_topic,
    sns_topic_policy,
    sns_topic_subscription,
    sqs_queue,
    sqs_queue_policy,
    sqs_queue_redrive_allow_policy,
    ssm_parameter,
    subnet,
    vpc,
    vpc_endpoint,
    vpc_security_group_egress_rule,
    vpc_security_group_ingress_rule,
    wafv2_web_acl,
    wafv2_web_acl_association,
    wafv2_web_acl_logging_configuration,
)

__all__ = [
    "acm_certificate",
    "acm_certificate_validation",
    "appautoscaling_policy",
    "appautoscaling_scheduled_action",
    "appautoscaling_target",
    "cloudwatch_dashboard",
    "cloudwatch_event_rule",
    "cloudwatch_event_target",
    "cloudwatch_log_group",
    "cloudwatch_log_metric_filter",
    "cloudwatch_log_resource_policy",
    "cloudwatch_metric_alarm",
    "data_aws_caller_identity",
    "data_aws_elb_service_account",
    "data_aws_route53_zone",
    "default_network_acl",
    "default_security_group",
    "ecr_lifecycle_policy",
    "ecr_repository",
    "ecs_cluster",
    "ecs_cluster_capacity_providers",
    "ecs_service",
    "ecs_task_definition",
    "efs_access_point",
    "efs_backup_policy",
    "efs_file_system",
    "efs_file_system_policy",
    "efs_mount_target",
    "eip",
    "flow_log",
    "iam_policy",
    "iam_role",
    "iam_role_policy",
    "iam_role_policy_attachment",
    "internet_gateway",
    "kms_alias",
    "kms_key",
    "lb",
    "lb_listener",
    "lb_listener_rule",
    "lb_target_group",
    "nat_gateway",
    "provider",
    "route",
    "route53_record",
    "route53_zone",
    "route_table",
    "route_table_association",
    "s3_bucket",
    "s3_bucket_lifecycle_configuration",
    "s3_bucket_ownership_controls",
    "s3_bucket_policy",
    "s3_bucket_public_access_block",
    "s3_bucket_server_side_encryption_configuration",
    "s3_bucket_versioning",
    "scheduler_schedule",
    "security_group",
    "service_discovery_http_namespace",
    "sns_topic",
    "sns_topic_policy",
    "sns_topic_subscription",
    "sqs_queue",
    "sqs_queue_policy",
    "sqs_queue_redrive_allow_policy",
    "ssm_parameter",
    "subnet",
    "vpc",
    "vpc_endpoint",
    "vpc_security_group_egress_rule",
    "vpc_security_group_ingress_rule",
    "wafv2_web_acl",
    "wafv2_web_acl_association",
    "wafv2_web_acl_logging_configuration",
]
