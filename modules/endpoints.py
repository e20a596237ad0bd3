"""VPC endpoints: interface endpoints for AWS APIs and the S3 gateway for ECR image layers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from constructs import Construct

from envs.schema.network import EndpointsConfig, InterfaceEndpoint
from modules.aws import vpc_endpoint
from modules.iam import policy_json
from modules.network import Network
from modules.ports import HTTPS
from modules.security_group import SecurityGroup

if TYPE_CHECKING:  # annotation only: app_bucket -> workload -> endpoints at run time
    from modules.app_bucket import AppBucket

# What tasks may do to the env's named buckets through the gateway (object read/write, list).
NAMED_BUCKET_ACTIONS = (
    "s3:AbortMultipartUpload",
    "s3:DeleteObject",
    "s3:GetBucketLocation",
    "s3:GetObject",
    "s3:ListBucket",
    "s3:ListMultipartUploadParts",
    "s3:PutObject",
)


def ecr_layer_bucket_arn(region: str) -> str:
    """The AWS-owned bucket ECR serves image layers from (per region)."""
    return f"arn:aws:s3:::prod-{region}-starport-layer-bucket"


class Endpoints(Construct):
    """Interface endpoints (one ENI per AZ in the private subnets, private DNS on) behind one
    security group, plus an S3 gateway endpoint on every private route table.

    Nothing can use them but the shared `workloads` security group, which every task carries
    next to its own (`workloads_security_group`): it may open 443 to the endpoints and to S3's
    prefix list, and the endpoints admit it alone. The endpoints' rule count therefore stays
    constant however many workloads there are (AWS's default quota is 60 inbound rules per
    security group: https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html).
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        config: EndpointsConfig,
        *,
        network: Network,
        region: str,
        name: str,
        app_buckets: Sequence[AppBucket] = (),
    ) -> None:
        super().__init__(scope, id_)
        self.config = config
        self.app_bucket_arns = tuple(bucket.arn for bucket in app_buckets)
        """The project's application buckets: reachable through a restricted gateway too."""
        self.security_group = SecurityGroup(
            self,
            "endpoints",
            name=f"{name}-vpc-endpoints",
            description="Interface VPC endpoints: HTTPS from granted workloads only",
            vpc_id=network.vpc_id,
        )
        self.workloads_security_group = SecurityGroup(
            self,
            "workloads",
            name=f"{name}-workloads",
            description="Every task: HTTPS to the VPC endpoints and S3's prefix list",
            vpc_id=network.vpc_id,
        )
        self.interface: dict[InterfaceEndpoint, vpc_endpoint.VpcEndpoint] = {}
        for service in config.interface_services:
            self.interface[service] = vpc_endpoint.VpcEndpoint(
                self,
                service.value,
                vpc_id=network.vpc_id,
                service_name=f"com.amazonaws.{region}.{service.value}",
                vpc_endpoint_type="Interface",
                private_dns_enabled=True,
                subnet_ids=network.private_subnet_ids,
                security_group_ids=[self.security_group.id],
                tags={"Name": f"{name}-{service.value}"},
            )
        self.s3_gateway = vpc_endpoint.VpcEndpoint(
            self,
            "s3",
            vpc_id=network.vpc_id,
            service_name=f"com.amazonaws.{region}.s3",
            vpc_endpoint_type="Gateway",
            route_table_ids=network.private_route_table_ids,
            policy=self._s3_policy(region) if config.restrict_s3_gateway else None,
            tags={"Name": f"{name}-s3"},
        )
        self._open_workloads_group()

    def _s3_policy(self, region: str) -> str:
        statements: list[dict[str, str | list[str]]] = [
            {
                "Sid": "EcrImageLayers",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"{ecr_layer_bucket_arn(region)}/*",
            }
        ]
        arns = [f"arn:aws:s3:::{bucket}" for bucket in self.config.s3_allowed_buckets]
        arns += self.app_bucket_arns
        if arns:
            statements.append(
                {
                    "Sid": "NamedBuckets",
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": list(NAMED_BUCKET_ACTIONS),
                    "Resource": [*arns, *(f"{arn}/*" for arn in arns)],
                }
            )
        return policy_json(statements)

    def _open_workloads_group(self) -> None:
        """The shared group's only rules: 443 to the interface endpoints and to S3."""
        workloads = self.workloads_security_group
        if self.interface:
            self.security_group.allow_from(
                workloads, HTTPS, description="tasks to AWS APIs over PrivateLink"
            )
        workloads.allow_to_prefix_list(
            self.s3_gateway.prefix_list_id, HTTPS, description="S3 via the gateway endpoint"
        )
