"""Application load balancer: one construct, used for the public and the internal ALB."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from cdktf import TerraformResourceLifecycle
from constructs import Construct

from envs.schema.alb import AlbConfig
from envs.schema.deployment import TEST_TRAFFIC_HEADER
from envs.schema.service import CATCH_ALL_PRIORITY, TEST_RULE_OFFSET, Exposure, ServiceConfig
from modules.aws import (
    data_aws_elb_service_account,
    lb,
    lb_listener,
    lb_listener_rule,
    lb_target_group,
)
from modules.log_bucket import LogBucket
from modules.network import Network
from modules.ports import HTTP, HTTPS
from modules.security_group import SecurityGroup

ActionT = TypeVar("ActionT")


class LoadBalancer(Construct):
    """An ALB with its own security group, listeners and one IP target group per service.

    - `public`: internet-facing in the public subnets; ingress from anywhere on its listener
      ports only. `internal`: in the private subnets; ingress on its listener port only from
      security groups granted with `allow_from`.
    - Without a certificate: HTTP on 80. With one (`certificate_arn`: a `Certificate`'s validated
      ARN, or an existing one): HTTPS on 443 (TLS 1.2+ policy) and 80 redirecting to it.
      Optional Cognito authentication runs before every forward.
    - The listener's default action answers 404 until a service without path/host routing
      is attached; other services get listener rules in the order they are added.
    - Egress goes only to attached services' security groups on their container ports, plus
      HTTPS to the internet when Cognito authenticates (the ALB calls the user pool's token
      and user-info endpoints itself; they have no fixed address range).
    - An internet-facing ALB is created only after the VPC's internet gateway: without it
      CreateLoadBalancer fails with `InvalidSubnet: VPC ... has no internet gateway` and the
      provider does not retry (internal/service/elbv2/load_balancer.go; its acceptance tests
      add `depends_on = [aws_internet_gateway...]` for this).
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        config: AlbConfig,
        *,
        exposure: Exposure,
        network: Network,
        name: str,
        account_id: str,
        certificate_arn: str | None = None,
    ) -> None:
        super().__init__(scope, id_)
        self.config = config
        self.network = network
        self.account_id = account_id
        """The stack's account (access-log delivery prefix); never looked up again here."""
        self.exposure = exposure
        public = exposure is Exposure.PUBLIC
        self.https = https = certificate_arn is not None
        self.security_group = SecurityGroup(
            self,
            "sg",
            name=f"{name}-alb",
            description=f"{exposure} ALB: listener ports in, attached services out",
            vpc_id=network.vpc_id,
        )
        self.listener_port = HTTPS if https else HTTP
        if public:
            for port in (HTTP, HTTPS) if https else (HTTP,):
                self.security_group.allow_from_anywhere(port, description="web clients")
        if config.cognito is not None:
            # https://docs.aws.amazon.com/elasticloadbalancing/latest/application/listener-authenticate-users.html
            # ("the load balancer security group must allow outbound traffic to the IdP
            # token endpoint and user info endpoint over HTTPS").
            self.security_group.allow_to_anywhere(HTTPS, description="Cognito token/user info")
        self._callers: set[str] = set()

        self.log_bucket = self._log_bucket(name) if config.access_logs.enabled else None
        self.alb = lb.Lb(
            self,
            "lb",
            name=name,
            internal=not public,
            load_balancer_type="application",
            security_groups=[self.security_group.id],
            subnets=network.public_subnet_ids if public else network.private_subnet_ids,
            drop_invalid_header_fields=True,
            enable_deletion_protection=config.deletion_protection,
            idle_timeout=config.idle_timeout_seconds,
            access_logs=(
                lb.LbAccessLogs(bucket=self.log_bucket.bucket_id, enabled=True, prefix=name)
                if self.log_bucket
                else None
            ),
            # ELB checks it may write before it turns logging on; an internet-facing ALB
            # needs the internet gateway attached first.
            depends_on=[
                *([self.log_bucket.policy] if self.log_bucket else []),
                *([network.internet_gateway] if public else []),
            ]
            or None,
            tags={"Name": name},
        )
        self.arn: str = self.alb.arn
        self.dns_name: str = self.alb.dns_name
        self.zone_id: str = self.alb.zone_id
        scheme = "https" if https else "http"
        self.url = f"{scheme}://{self.alb.dns_name}"

        not_found = lb_listener.LbListenerDefaultAction(
            type="fixed-response",
            fixed_response=lb_listener.LbListenerDefaultActionFixedResponse(
                content_type="text/plain", message_body="Not Found", status_code="404"
            ),
        )
        self.listener = lb_listener.LbListener(
            self,
            "https" if https else "http",
            load_balancer_arn=self.alb.arn,
            port=self.listener_port,
            protocol="HTTPS" if https else "HTTP",
            certificate_arn=certificate_arn,
            ssl_policy=config.ssl_policy if https else None,
            default_action=[not_found],
        )
        if https:
            lb_listener.LbListener(
                self,
                "http-redirect",
                load_balancer_arn=self.alb.arn,
                port=HTTP,
                protocol="HTTP",
                default_action=[
                    lb_listener.LbListenerDefaultAction(
                        type="redirect",
                        redirect=lb_listener.LbListenerDefaultActionRedirect(
                            port=str(HTTPS), protocol="HTTPS", status_code="HTTP_301"
                        ),
                    )
                ],
            )
        self.target_groups: dict[str, lb_target_group.LbTargetGroup] = {}
        self.alternate_target_groups: dict[str, lb_target_group.LbTargetGroup] = {}
        self.production_rules: dict[str, lb_listener_rule.LbListenerRule] = {}
        self.test_rules: dict[str, lb_listener_rule.LbListenerRule] = {}
        # Service name -> the listener or listener rule that forwards to its target group: an
        # ECS service must be created after it (CreateService rejects a target group that is
        # not yet associated with a load balancer).
        self.routes: dict[str, lb_listener.LbListener | lb_listener_rule.LbListenerRule] = {}

    def _log_bucket(self, name: str) -> LogBucket:
        elb_account = data_aws_elb_service_account.DataAwsElbServiceAccount(self, "elb-account")
        return LogBucket(
            self,
            "access-logs",
            bucket_prefix=f"{name}-logs",  # <= 37 characters with a 32-character name
            retention_days=self.config.access_logs.retention_days,
            force_destroy=not self.config.deletion_protection,
            delivery_principal={"AWS": elb_account.arn},
            delivery_prefix=f"{name}/AWSLogs/{self.account_id}/",
        )

    def allow_from(self, caller: SecurityGroup, *, description: str) -> None:
        """Let a caller's security group reach the listener (internal ALB); once per caller,
        however many of the ALB's services it calls (one rule pair per caller and port)."""
        if caller.name in self._callers:
            return
        self._callers.add(caller.name)
        self.security_group.allow_from(caller, self.listener_port, description=description)

    def _forward_actions(
        self,
        target_group_arn: str,
        action: Callable[..., ActionT],
        authenticate_cognito: Callable[..., Any],
    ) -> list[ActionT]:
        """Forward to the target group, after Cognito authentication when configured.

        `action` and `authenticate_cognito` are the listener's or the listener rule's struct
        classes (same fields, different types in the provider bindings).
        """
        cognito = self.config.cognito
        if cognito is None:
            return [action(type="forward", target_group_arn=target_group_arn)]
        return [
            action(
                type="authenticate-cognito",
                order=1,
                authenticate_cognito=authenticate_cognito(
                    user_pool_arn=cognito.user_pool_arn,
                    user_pool_client_id=cognito.user_pool_client_id,
                    user_pool_domain=cognito.user_pool_domain,
                ),
            ),
            action(type="forward", order=2, target_group_arn=target_group_arn),
        ]

    def add_service(
        self,
        service: ServiceConfig,
        *,
        target_group_name: str,
        targets: SecurityGroup,
        alternate_target_group_name: str | None = None,
    ) -> lb_target_group.LbTargetGroup:
        """Create the service's IP target group, route to it, and open ALB -> task traffic.

        With `alternate_target_group_name` (blue/green, linear, canary) a second target group
        is created and the service is routed by a production listener rule that forwards to
        both with weights, plus a test rule (see `_add_shifting_rules`); ECS moves the weights.
        """
        group = self._target_group(f"tg-{service.name}", target_group_name, service)
        self.target_groups[service.name] = group
        conditions = self._conditions(service)
        if alternate_target_group_name is not None:
            alternate = self._target_group(
                f"tg-{service.name}-alternate", alternate_target_group_name, service
            )
            self.alternate_target_groups[service.name] = alternate
            self._add_shifting_rules(service, conditions, group, alternate)
        elif conditions:
            self.routes[service.name] = lb_listener_rule.LbListenerRule(
                self,
                f"rule-{service.name}",
                listener_arn=self.listener.arn,
                priority=service.rule_priority,
                action=self._forward_actions(
                    group.arn,
                    lb_listener_rule.LbListenerRuleAction,
                    lb_listener_rule.LbListenerRuleActionAuthenticateCognito,
                ),
                condition=conditions,
            )
        else:
            self.routes[service.name] = self.listener
            self.listener.put_default_action(
                self._forward_actions(
                    group.arn,
                    lb_listener.LbListenerDefaultAction,
                    lb_listener.LbListenerDefaultActionAuthenticateCognito,
                )
            )
        targets.allow_from(
            self.security_group,
            service.container_port,
            description=f"{self.exposure} ALB to {service.name}",
        )
        return group

    def _target_group(
        self, id_: str, name: str, service: ServiceConfig
    ) -> lb_target_group.LbTargetGroup:
        return lb_target_group.LbTargetGroup(
            self,
            id_,
            name=name,
            port=service.container_port,
            protocol="HTTP",
            target_type="ip",
            vpc_id=self.network.vpc_id,
            deregistration_delay=str(service.deregistration_delay_seconds),
            health_check=lb_target_group.LbTargetGroupHealthCheck(
                enabled=True,
                path=service.health_check.path,
                matcher=service.health_check.matcher,
                interval=service.health_check.interval_seconds,
                timeout=service.health_check.timeout_seconds,
                healthy_threshold=service.health_check.healthy_threshold,
                unhealthy_threshold=service.health_check.unhealthy_threshold,
                protocol="HTTP",
                port="traffic-port",
            ),
            stickiness=(
                lb_target_group.LbTargetGroupStickiness(
                    type="lb_cookie",
                    enabled=True,
                    cookie_duration=service.stickiness.duration_seconds,
                )
                if service.stickiness
                else None
            ),
            tags={"Name": name, "Service": service.name},
        )

    @staticmethod
    def _conditions(service: ServiceConfig) -> list[lb_listener_rule.LbListenerRuleCondition]:
        rule = lb_listener_rule
        conditions: list[lb_listener_rule.LbListenerRuleCondition] = []
        if service.path_patterns:
            conditions.append(
                rule.LbListenerRuleCondition(
                    path_pattern=rule.LbListenerRuleConditionPathPattern(
                        values=list(service.path_patterns)
                    )
                )
            )
        if service.host_headers:
            conditions.append(
                rule.LbListenerRuleCondition(
                    host_header=rule.LbListenerRuleConditionHostHeader(
                        values=list(service.host_headers)
                    )
                )
            )
        return conditions

    def _add_shifting_rules(
        self,
        service: ServiceConfig,
        conditions: list[lb_listener_rule.LbListenerRuleCondition],
        primary: lb_target_group.LbTargetGroup,
        alternate: lb_target_group.LbTargetGroup,
    ) -> None:
        """Production and test listener rules for ECS's traffic-shifting deployments.

        ECS needs a listener *rule* (not the default action) whose forward action lists both
        target groups (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/alb-resources-for-blue-green.html);
        a service that is the listener's default route gets a catch-all `/*` rule last. The
        test rule matches the same requests carrying header `x-deployment-test: <service>`
        and is evaluated first. ECS rewrites both rules' weights during a deployment, so
        Terraform ignores changes to their actions.
        """
        rule = lb_listener_rule
        if conditions:
            priority = service.rule_priority
        else:
            conditions = [
                rule.LbListenerRuleCondition(
                    path_pattern=rule.LbListenerRuleConditionPathPattern(values=["/*"])
                )
            ]
            priority = CATCH_ALL_PRIORITY

        def weighted() -> list[lb_listener_rule.LbListenerRuleAction]:
            return [
                rule.LbListenerRuleAction(
                    type="forward",
                    forward=rule.LbListenerRuleActionForward(
                        target_group=[
                            rule.LbListenerRuleActionForwardTargetGroup(
                                arn=primary.arn, weight=100
                            ),
                            rule.LbListenerRuleActionForwardTargetGroup(
                                arn=alternate.arn, weight=0
                            ),
                        ]
                    ),
                )
            ]

        ignore_actions = TerraformResourceLifecycle(ignore_changes=["action"])
        self.production_rules[service.name] = self.routes[service.name] = rule.LbListenerRule(
            self,
            f"rule-{service.name}",
            listener_arn=self.listener.arn,
            priority=priority,
            action=weighted(),
            condition=conditions,
            lifecycle=ignore_actions,
        )
        test_header = rule.LbListenerRuleCondition(
            http_header=rule.LbListenerRuleConditionHttpHeader(
                http_header_name=TEST_TRAFFIC_HEADER, values=[service.name]
            )
        )
        self.test_rules[service.name] = rule.LbListenerRule(
            self,
            f"rule-{service.name}-test",
            listener_arn=self.listener.arn,
            priority=priority - TEST_RULE_OFFSET,
            action=weighted(),
            condition=[*conditions, test_header],
            lifecycle=ignore_actions,
        )
