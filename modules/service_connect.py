"""ECS Service Connect: the environment's Cloud Map HTTP namespace, and each participating
service's `service_connect_configuration` (server or client-only) with its proxy's log group."""

from __future__ import annotations

from constructs import Construct

from envs.schema.service import ServiceConfig
from envs.schema.service_connect import ServiceConnectConfig, discovery_name
from modules.aws import cloudwatch_log_group, ecs_service, service_discovery_http_namespace
from modules.kms import LogsKey

PORT_NAME = "http"
"""Name of the main container's port mapping that Service Connect publishes (`portName`)."""
APP_PROTOCOL = "http"
"""The port mapping's `appProtocol`: Service Connect proxies HTTP with per-request metrics."""
PROXY_LOG_STREAM_PREFIX = "service-connect"


class ServiceConnectNamespace(Construct):
    """A Cloud Map HTTP namespace (Service Connect needs no DNS zone: clients resolve the names
    through the proxy ECS adds to each task).

    `configuration()` builds a service's `service_connect_configuration`: every participant
    sends its proxy's logs to a KMS-encrypted log group of its own. Provider 6.25.0 has no
    `access_log_configuration` block (cdktf-cdktf-provider-aws 21.22.1's ecs_service binding),
    so per-request access logs are not configured; the proxy's own log is.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        config: ServiceConnectConfig,
        *,
        name: str,
        logs_key: LogsKey,
        region: str,
        log_retention_days: int,
    ) -> None:
        super().__init__(scope, id_)
        self.namespace = service_discovery_http_namespace.ServiceDiscoveryHttpNamespace(
            self,
            "namespace",
            name=config.namespace_name or name,
            description=f"ECS Service Connect for {name}",
        )
        self.arn: str = self.namespace.arn
        self.name: str = self.namespace.name
        self._logs_key = logs_key
        self._region = region
        self._retention = log_retention_days
        self.log_groups: dict[str, cloudwatch_log_group.CloudwatchLogGroup] = {}
        """Service name -> its Service Connect proxy's log group."""

    def configuration(
        self, owner: Construct, service: ServiceConfig, *, log_group_name: str, server: bool
    ) -> ecs_service.EcsServiceServiceConnectConfiguration:
        """The service's Service Connect block: published under its discovery name on its
        container port (`server`), or client-only."""
        log_group = cloudwatch_log_group.CloudwatchLogGroup(
            owner,
            "service-connect-logs",
            name=log_group_name,
            retention_in_days=self._retention,
            kms_key_id=self._logs_key.arn,
        )
        self.log_groups[service.name] = log_group
        published = None
        if server:
            settings = service.service_connect
            name = discovery_name(service)
            timeout = None
            if (settings.idle_timeout_seconds, settings.per_request_timeout_seconds) != (
                None,
                None,
            ):
                timeout = ecs_service.EcsServiceServiceConnectConfigurationServiceTimeout(
                    idle_timeout_seconds=settings.idle_timeout_seconds,
                    per_request_timeout_seconds=settings.per_request_timeout_seconds,
                )
            published = [
                ecs_service.EcsServiceServiceConnectConfigurationService(
                    port_name=PORT_NAME,
                    discovery_name=name,
                    client_alias=ecs_service.EcsServiceServiceConnectConfigurationServiceClientAlias(
                        port=service.container_port, dns_name=name
                    ),
                    timeout=timeout,
                )
            ]
        return ecs_service.EcsServiceServiceConnectConfiguration(
            enabled=True,
            namespace=self.arn,
            service=published,
            log_configuration=ecs_service.EcsServiceServiceConnectConfigurationLogConfiguration(
                log_driver="awslogs",
                options={
                    "awslogs-group": log_group.name,
                    "awslogs-region": self._region,
                    "awslogs-stream-prefix": PROXY_LOG_STREAM_PREFIX,
                },
            ),
        )
