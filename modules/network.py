"""Network: VPC, public and private subnets per AZ, internet gateway, NAT, routes, flow logs."""

from __future__ import annotations

from constructs import Construct

from envs.schema.network import NatMode, NetworkConfig
from modules.aws import (
    cloudwatch_log_group,
    default_network_acl,
    default_security_group,
    eip,
    flow_log,
    iam_role,
    iam_role_policy,
    internet_gateway,
    nat_gateway,
    route,
    route_table,
    route_table_association,
    subnet,
    vpc,
)
from modules.iam import policy_json, service_trust
from modules.kms import LogsKey
from modules.security_group import ANYWHERE_IPV4

ADMIN_PORTS = (22, 3389)
"""SSH and RDP: never reachable from anywhere, whatever a security group says."""
HIGHEST_PORT = 65535


def ports_except(excluded: tuple[int, ...]) -> list[tuple[int, int]]:
    """Port ranges covering 0-65535 without the `excluded` ports (sorted, inclusive)."""
    ranges, low = [], 0
    for port in sorted(excluded):
        if low <= port - 1:
            ranges.append((low, port - 1))
        low = port + 1
    if low <= HIGHEST_PORT:
        ranges.append((low, HIGHEST_PORT))
    return ranges


class Network(Construct):
    """A VPC spread over the configured AZs.

    Public subnets route 0.0.0.0/0 to the internet gateway. Private subnets route 0.0.0.0/0
    to a NAT gateway (`single`: one shared, `per_az`: their own AZ's), or have no default
    route at all (`none`: AWS is reached through VPC endpoints only). The VPC's default
    security group is stripped of all rules so nothing can use it by accident.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        config: NetworkConfig,
        *,
        name: str,
        logs_key: LogsKey,
        account_id: str,
        region: str,
    ) -> None:
        super().__init__(scope, id_)
        self.config = config
        plan = config.subnets
        self.availability_zones: tuple[str, ...] = config.availability_zones

        self.vpc = vpc.Vpc(
            self,
            "vpc",
            cidr_block=str(config.vpc_cidr),
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags={"Name": name},
        )
        self.vpc_id: str = self.vpc.id
        self.vpc_cidr: str = str(config.vpc_cidr)

        default_security_group.DefaultSecurityGroup(
            self,
            "default-sg",
            vpc_id=self.vpc.id,
            ingress=[],
            egress=[],
            tags={"Name": f"{name}-default-unused"},
        )

        igw = internet_gateway.InternetGateway(self, "igw", vpc_id=self.vpc.id, tags={"Name": name})
        # Internet-facing resources (NAT, public load balancers) must be created after it:
        # CreateLoadBalancer fails with InvalidSubnet while the VPC has no gateway attached.
        self.internet_gateway = igw

        self.public_subnets: list[subnet.Subnet] = []
        self.private_subnets: list[subnet.Subnet] = []
        for az, public_cidr, private_cidr in zip(
            config.availability_zones, plan.public, plan.private, strict=True
        ):
            self.public_subnets.append(
                subnet.Subnet(
                    self,
                    f"public-{az}",
                    vpc_id=self.vpc.id,
                    availability_zone=az,
                    cidr_block=str(public_cidr),
                    map_public_ip_on_launch=False,
                    tags={"Name": f"{name}-public-{az}", "Tier": "public"},
                )
            )
            self.private_subnets.append(
                subnet.Subnet(
                    self,
                    f"private-{az}",
                    vpc_id=self.vpc.id,
                    availability_zone=az,
                    cidr_block=str(private_cidr),
                    map_public_ip_on_launch=False,
                    tags={"Name": f"{name}-private-{az}", "Tier": "private"},
                )
            )
        self.public_subnet_ids: list[str] = [s.id for s in self.public_subnets]
        self.private_subnet_ids: list[str] = [s.id for s in self.private_subnets]

        public_routes = route_table.RouteTable(
            self, "public-rt", vpc_id=self.vpc.id, tags={"Name": f"{name}-public"}
        )
        route.Route(
            self,
            "public-default",
            route_table_id=public_routes.id,
            destination_cidr_block=ANYWHERE_IPV4,
            gateway_id=igw.id,
        )
        for az, public_subnet in zip(config.availability_zones, self.public_subnets, strict=True):
            route_table_association.RouteTableAssociation(
                self,
                f"public-{az}-rta",
                subnet_id=public_subnet.id,
                route_table_id=public_routes.id,
            )
        self.public_route_table_id: str = public_routes.id

        nat_ids = self._nat_gateways(name, igw)
        self.nat_gateway_count = len(nat_ids)

        # One private route table per AZ whatever the NAT mode: switching modes later then
        # changes routes, not table associations.
        self.private_route_tables: list[route_table.RouteTable] = []
        for index, (az, private_subnet) in enumerate(
            zip(config.availability_zones, self.private_subnets, strict=True)
        ):
            table = route_table.RouteTable(
                self, f"private-{az}-rt", vpc_id=self.vpc.id, tags={"Name": f"{name}-private-{az}"}
            )
            if nat_ids:
                route.Route(
                    self,
                    f"private-{az}-default",
                    route_table_id=table.id,
                    destination_cidr_block=ANYWHERE_IPV4,
                    nat_gateway_id=nat_ids[index % len(nat_ids)],
                )
            route_table_association.RouteTableAssociation(
                self, f"private-{az}-rta", subnet_id=private_subnet.id, route_table_id=table.id
            )
            self.private_route_tables.append(table)
        self.private_route_table_ids: list[str] = [t.id for t in self.private_route_tables]

        self._default_network_acl(name)
        if config.flow_logs.enabled:
            self._flow_logs(name, logs_key, account_id, region)

    def _default_network_acl(self, name: str) -> None:
        """Every subnet stays on the VPC's default network ACL, which is adopted with rules
        that allow all traffic except SSH (22) and RDP (3389) from anywhere (FSBP EC2.21:
        https://docs.aws.amazon.com/securityhub/latest/userguide/ec2-controls.html#ec2-21).
        ACLs are stateless, so the allowed ranges also carry return traffic."""
        acl = default_network_acl
        ingress = [
            acl.DefaultNetworkAclIngress(
                rule_no=rule_no,
                action="deny",
                protocol=protocol,
                cidr_block=ANYWHERE_IPV4,
                from_port=port,
                to_port=port,
            )
            for rule_no, (protocol, port) in enumerate(
                ((p, port) for p in ("tcp", "udp") for port in ADMIN_PORTS), start=100
            )
        ]
        rule_no = 200
        for protocol in ("tcp", "udp"):
            for low, high in ports_except(ADMIN_PORTS):
                ingress.append(
                    acl.DefaultNetworkAclIngress(
                        rule_no=rule_no,
                        action="allow",
                        protocol=protocol,
                        cidr_block=ANYWHERE_IPV4,
                        from_port=low,
                        to_port=high,
                    )
                )
                rule_no += 1
        ingress.append(
            acl.DefaultNetworkAclIngress(
                rule_no=rule_no,
                action="allow",
                protocol="icmp",
                cidr_block=ANYWHERE_IPV4,
                from_port=0,
                to_port=0,
                icmp_type=-1,
                icmp_code=-1,
            )
        )
        acl.DefaultNetworkAcl(
            self,
            "default-acl",
            default_network_acl_id=self.vpc.default_network_acl_id,
            subnet_ids=[*self.public_subnet_ids, *self.private_subnet_ids],
            ingress=ingress,
            egress=[
                acl.DefaultNetworkAclEgress(
                    rule_no=100,
                    action="allow",
                    protocol="-1",
                    cidr_block=ANYWHERE_IPV4,
                    from_port=0,
                    to_port=0,
                )
            ],
            tags={"Name": f"{name}-default"},
        )

    def _nat_gateways(self, name: str, igw: internet_gateway.InternetGateway) -> list[str]:
        if self.config.nat_mode is NatMode.NONE:
            return []
        count = 1 if self.config.nat_mode is NatMode.SINGLE else len(self.public_subnets)
        ids = []
        placements = zip(self.availability_zones, self.public_subnets, strict=True)
        for az, public_subnet in list(placements)[:count]:
            address = eip.Eip(
                self,
                f"nat-{az}-eip",
                domain="vpc",
                tags={"Name": f"{name}-nat-{az}"},
                depends_on=[igw],
            )
            gateway = nat_gateway.NatGateway(
                self,
                f"nat-{az}",
                allocation_id=address.id,
                subnet_id=public_subnet.id,
                connectivity_type="public",
                tags={"Name": f"{name}-nat-{az}"},
                depends_on=[igw],
            )
            ids.append(gateway.id)
        return ids

    def _flow_logs(self, name: str, logs_key: LogsKey, account_id: str, region: str) -> None:
        log_group = cloudwatch_log_group.CloudwatchLogGroup(
            self,
            "flow-logs",
            name=f"/vpc/{name}/flow-logs",
            retention_in_days=self.config.flow_logs.retention_days,
            kms_key_id=logs_key.arn,
        )
        role = iam_role.IamRole(
            self,
            "flow-logs-role",
            name=f"{name}-vpc-flow-logs",
            # Confused-deputy guard, as AWS documents for flow logs:
            # https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-iam-role.html
            assume_role_policy=service_trust(
                "vpc-flow-logs.amazonaws.com",
                conditions={
                    "StringEquals": {"aws:SourceAccount": account_id},
                    "ArnLike": {
                        "aws:SourceArn": f"arn:aws:ec2:{region}:{account_id}:vpc-flow-log/*"
                    },
                },
            ),
        )
        iam_role_policy.IamRolePolicy(
            self,
            "flow-logs-policy",
            role=role.id,
            name="write-flow-logs",
            policy=policy_json(
                [
                    {
                        "Effect": "Allow",
                        "Action": [
                            "logs:CreateLogStream",
                            "logs:PutLogEvents",
                            "logs:DescribeLogStreams",
                        ],
                        "Resource": f"{log_group.arn}:*",
                    }
                ]
            ),
        )
        flow_log.FlowLog(
            self,
            "flow-log",
            vpc_id=self.vpc.id,
            traffic_type=self.config.flow_logs.traffic_type.value,
            log_destination_type="cloud-watch-logs",
            log_destination=log_group.arn,
            iam_role_arn=role.arn,
            max_aggregation_interval=60,
            tags={"Name": f"{name}-flow-logs"},
        )
