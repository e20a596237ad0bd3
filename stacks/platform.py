"""One environment's platform: provider, S3 state backend, default tags, constructs, outputs."""

from __future__ import annotations

from typing import Any

from cdktf import S3Backend, S3BackendAssumeRoleConfig, TerraformOutput, TerraformStack
from constructs import Construct

from envs import load_environments
from envs.schema.environment import EnvironmentConfig
from envs.schema.queues import CONSUMER_URL_VARIABLE, producer_url_variable
from envs.schema.resources import bucket_variable
from envs.schema.service import Exposure, caller_url_variable
from envs.schema.service_connect import participants as service_connect_participants
from envs.schema.service_connect import service_connect_url
from envs.schema.storage import EfsMountConfig
from envs.schema.workload import WorkloadConfig
from modules.alarms import LoadBalancerAlarms
from modules.alb import LoadBalancer
from modules.app_bucket import AppBucket
from modules.aws import data_aws_caller_identity, provider
from modules.dashboard import Dashboard, Section
from modules.domain import Domain
from modules.ecr import EcrRepository
from modules.ecs_cluster import EcsCluster
from modules.efs import EfsVolume, SharedFileSystem
from modules.endpoints import Endpoints
from modules.job import Job
from modules.kms import LogsKey
from modules.literal import literal
from modules.network import Network
from modules.notifications import AlarmTopic
from modules.queue import QueueScaling, WorkQueue
from modules.release import PromotionSource, ReleasePolicy, ServiceRelease
from modules.service import FargateService
from modules.service_connect import ServiceConnectNamespace
from modules.waf import WebAcl
from modules.workload import WorkloadContext
from ops.run_task_contract import SPECS_OUTPUT

MANAGED_BY = "cdktf"
LOG_GROUPS = ("/ecs/{prefix}/", "/vpc/{prefix}/", "aws-waf-logs-{prefix}-")
"""Name prefixes of every log group an environment creates (workloads and ECS Exec, flow
logs, WAF); the logs key serves these only."""


def default_tags(config: EnvironmentConfig) -> dict[str, str]:
    """Tags on every resource of the environment (the provider's `default_tags`)."""
    return {
        **config.tags,
        "Project": config.project,
        "Environment": config.name,
        "ManagedBy": MANAGED_BY,
    }


class PlatformStack(TerraformStack):
    """Everything one environment runs on; state in S3 under `<project>/<env>/terraform.tfstate`.

    Traffic: internet -> public ALB (80/443) -> public services (container port) -> internal
    ALB (listener port) -> internal services (container port), or caller tasks -> Service
    Connect services' tasks (container port); every task -> VPC endpoints (443). Nothing else
    is open.
    """

    def __init__(
        self,
        scope: Construct,
        config: EnvironmentConfig,
        *,
        promotion_source: EnvironmentConfig | None = None,
    ) -> None:
        """`promotion_source`: the config of `config.release.promote_from` (its region and
        account scope the release policy); loaded from envs/ when not given."""
        super().__init__(scope, config.name)
        # The one place user text enters constructs: escaped so Terraform reads it literally.
        config = literal(config)
        self.config = config
        prefix = config.resource_prefix
        provider.AwsProvider(
            self,
            "aws",
            region=config.region,
            # The account guard: credentials for any other account fail before a read.
            allowed_account_ids=[config.account_id],
            assume_role=(
                [provider.AwsProviderAssumeRole(role_arn=config.role_arn)]
                if config.role_arn
                else None
            ),
            default_tags=[provider.AwsProviderDefaultTags(tags=default_tags(config))],
        )
        S3Backend(
            self,
            bucket=config.state.bucket,
            key=config.state_key,
            region=config.state.region,
            encrypt=True,
            kms_key_id=config.state_kms_key_arn,
            assume_role=(
                S3BackendAssumeRoleConfig(role_arn=config.role_arn) if config.role_arn else None
            ),
        )
        # cdktf 0.21's S3Backend predates S3-native locking (Terraform >= 1.10); add it raw.
        self.add_override("terraform.backend.s3.use_lockfile", True)

        caller = data_aws_caller_identity.DataAwsCallerIdentity(self, "caller")
        log_group_arn = f"arn:aws:logs:{config.region}:{config.account_id}:log-group:"
        self.logs_key = LogsKey(
            self,
            "logs-key",
            name=prefix,
            region=config.region,
            account_id=config.account_id,
            admin_role_arns=config.key_admins,
            # Every log group this stack creates (see LOG_GROUPS), nothing else.
            log_group_arns=[f"{log_group_arn}{p.format(prefix=prefix)}*" for p in LOG_GROUPS],
            cluster_name=prefix,
        )
        self.network = Network(
            self,
            "network",
            config.network,
            name=prefix,
            logs_key=self.logs_key,
            account_id=caller.account_id,
            region=config.region,
        )
        self.buckets = {
            name: AppBucket(self, f"bucket-{name}", bucket, prefix=config.bucket_prefix(name))
            for name, bucket in config.buckets.items()
        }
        self.endpoints = (
            Endpoints(
                self,
                "endpoints",
                config.endpoints,
                network=self.network,
                region=config.region,
                name=prefix,
                app_buckets=list(self.buckets.values()),
            )
            if config.endpoints.enabled
            else None
        )
        existing_certificates = {
            exposure: alb.certificate_arn
            for exposure, alb in (
                (Exposure.PUBLIC, config.public_alb),
                (Exposure.INTERNAL, config.internal_alb),
            )
            if alb.certificate_arn is not None
        }
        self.domain = self._domain(existing_certificates)
        # Existing ARNs, then what the domain requests (an ALB the domain does not name keeps
        # its certificate_arn, e.g. the internal one with internal_tls off).
        certificates = {
            **existing_certificates,
            **(self.domain.certificate_arns if self.domain else {}),
        }
        self.load_balancers: dict[Exposure, LoadBalancer] = {}
        for exposure, alb_config in (
            (Exposure.PUBLIC, config.public_alb),
            (Exposure.INTERNAL, config.internal_alb),
        ):
            if config.services_behind(exposure):
                self.load_balancers[exposure] = LoadBalancer(
                    self,
                    f"{exposure}-alb",
                    alb_config,
                    exposure=exposure,
                    network=self.network,
                    name=config.alb_name(exposure),
                    account_id=caller.account_id,
                    certificate_arn=certificates.get(exposure),
                )
        if self.domain is not None:
            self.domain.add_aliases(self.load_balancers)

        self.alarm_topic = AlarmTopic(
            self,
            "alarm-topic",
            config.alarms,
            name=prefix,
            region=config.region,
            account_id=caller.account_id,
            admin_role_arns=config.key_admins,
        )
        self.load_balancer_alarms = {
            exposure: LoadBalancerAlarms(
                self,
                f"{exposure}-alb-alarms",
                config.alarms,
                name=config.alb_name(exposure),
                load_balancer=alb,
                topic=self.alarm_topic,
            )
            for exposure, alb in self.load_balancers.items()
        }
        public_alb = self.load_balancers.get(Exposure.PUBLIC)
        if public_alb is not None and config.waf.enabled:
            WebAcl(
                self,
                "waf",
                config.waf,
                load_balancer=public_alb,
                logs_key=self.logs_key,
                name=f"{prefix}-public",
                region=config.region,
                account_id=caller.account_id,
                log_retention_days=config.ecs.log_retention_days,
            )
        self.service_connect = (
            ServiceConnectNamespace(
                self,
                "service-connect",
                config.service_connect,
                name=prefix,
                logs_key=self.logs_key,
                region=config.region,
                log_retention_days=config.ecs.log_retention_days,
            )
            if config.service_connect is not None
            else None
        )
        self.cluster = EcsCluster(
            self,
            "ecs",
            config.ecs,
            name=prefix,
            logs_key=self.logs_key,
            service_connect_namespace_arn=(
                self.service_connect.arn if self.service_connect is not None else None
            ),
        )
        self.context = WorkloadContext(
            prefix=prefix,
            region=config.region,
            account_id=caller.account_id,
            network=self.network,
            cluster=self.cluster,
            endpoints=self.endpoints,
            internet_egress=config.network.has_nat,
            log_retention_days=config.ecs.log_retention_days,
            logs_key=self.logs_key,
        )
        self.repositories: dict[str, EcrRepository] = {}
        self.queues = {
            s.name: WorkQueue(self, f"queue-{s.name}", s.queue, name=f"{prefix}-{s.name}")
            for s in config.services
            if s.queue is not None
        }
        self.file_systems = {
            name: SharedFileSystem(
                self,
                f"efs-{name}",
                fs,
                name=f"{prefix}-{name}",
                network=self.network,
            )
            for name, fs in config.file_systems.items()
        }
        self.access_points: dict[str, list[tuple[SharedFileSystem, Any, EfsMountConfig]]] = {}
        self.services: dict[str, FargateService] = {}
        connected = service_connect_participants(config)
        for service in config.services:  # rule priorities come from each service (rule_priority)
            image = self._image(service)
            # Routing as resolved for this environment: domain hosts become host rules where
            # several services share an ALB (EnvironmentConfig.host_rule).
            routed = service.model_copy(update={"host_headers": config.host_rule(service)})
            self.services[service.name] = FargateService(
                self,
                f"service-{service.name}",
                routed,
                context=self.context,
                image=image,
                load_balancer=self.load_balancers.get(service.exposure),
                target_group_name=config.target_group_name(service.name),
                alternate_target_group_name=config.alternate_target_group_name(service.name),
                alarm_topic=self.alarm_topic,
                extra_environment={
                    **self._callee_urls(service),
                    **self._queue_urls(service),
                    **self._bucket_names(service),
                },
                sidecar_images=self._sidecar_images(service),
                efs_volumes=self._efs_volumes(service),
                service_connect=self.service_connect if service.name in connected else None,
            )
        self.releases = {
            name: ServiceRelease(
                self,
                f"release-{name}",
                service=service,
                prefix=prefix,
                cluster=self.cluster,
                image=self._image(service.config),
                repository=self.repositories.get(name),
            )
            for name, service in self.services.items()
        }
        self.release_policy = (
            ReleasePolicy(
                self,
                "release-policy",
                name=f"{prefix}-release",
                cluster=self.cluster,
                region=config.region,
                account_id=caller.account_id,
                releases=list(self.releases.values()),
                promotion_source=self._promotion_source(promotion_source),
            )
            if self.releases
            else None
        )
        self.jobs = {
            job.name: Job(
                self,
                f"job-{job.name}",
                job,
                context=self.context,
                image=self._image(job),
                alarm_topic=self.alarm_topic,
                extra_environment={
                    **self._callee_urls(job),
                    **self._queue_urls(job),
                    **self._bucket_names(job),
                },
                sidecar_images=self._sidecar_images(job),
                efs_volumes=self._efs_volumes(job),
            )
            for job in config.jobs
        }
        self._caller_rules()
        self._queue_wiring()
        self._bucket_grants()
        self._destinations()
        self._efs_grants()
        self.dashboard = (
            Dashboard(
                self,
                "dashboard",
                name=prefix,
                region=config.region,
                sections=self._dashboard_sections(),
            )
            if config.alarms.dashboard
            else None
        )
        self._outputs()

    def _caller_rules(self) -> None:
        """Callers reach the internal ALB's listener (one rule pair per caller), or a Service
        Connect service's tasks directly on its container port (no ALB in between)."""
        groups = {name: s.security_group for name, s in self.services.items()}
        groups |= {name: j.workload.security_group for name, j in self.jobs.items()}
        internal = self.load_balancers.get(Exposure.INTERNAL)
        callees: dict[str, list[str]] = {}
        for service in self.config.services:
            for caller_name in service.allowed_callers:
                if service.exposure is Exposure.SERVICE_CONNECT:
                    self.services[service.name].security_group.allow_from(
                        groups[caller_name],
                        service.container_port,
                        description=f"{caller_name} calls {service.name} (Service Connect)",
                    )
                else:
                    callees.setdefault(caller_name, []).append(service.name)
        for caller_name, called in callees.items():
            if internal is not None:  # the other callers' callees have exposure 'internal'
                internal.allow_from(
                    groups[caller_name],
                    description=f"{caller_name} calls {', '.join(called)}",
                )

    def _promotion_source(self, source: EnvironmentConfig | None) -> PromotionSource | None:
        """Where releases are promoted from (`release.promote_from`), in its own region and
        account."""
        name = self.config.release.promote_from
        if name is None:
            return None
        if source is None:
            source = load_environments((name,))[0]
        if source.name != name:
            raise ValueError(f"promotion_source is {source.name!r}, expected {name!r}")
        return PromotionSource(
            resource_prefix=source.resource_prefix,
            region=source.region,
            account_id=source.account_id,
        )

    def _efs_volumes(self, workload: WorkloadConfig) -> list[EfsVolume]:
        """An access point per mount of this workload, as the task definition's volumes."""
        volumes = []
        self.access_points[workload.name] = []
        for index, mount in enumerate(workload.efs_mounts):
            file_system = self.file_systems[mount.file_system]
            access_point = file_system.access_point(workload.name, index, mount)
            self.access_points[workload.name].append((file_system, access_point, mount))
            volumes.append(
                EfsVolume(
                    name=f"efs-{index}",
                    file_system_id=file_system.id,
                    access_point_id=access_point.id,
                    container_path=mount.container_path,
                    read_only=mount.read_only,
                )
            )
        return volumes

    def _efs_grants(self) -> None:
        """2049 from each mounting workload's group; mount (and write) via its access point."""
        workloads = {name: s.workload for name, s in self.services.items()}
        workloads |= {name: j.workload for name, j in self.jobs.items()}
        for name, mounts in self.access_points.items():
            admitted = set()
            for index, (file_system, access_point, mount) in enumerate(mounts):
                if file_system.name not in admitted:
                    file_system.admit(workloads[name].security_group)
                    admitted.add(file_system.name)
                file_system.grant(
                    workloads[name], access_point, read_only=mount.read_only, index=index
                )

    def _destinations(self) -> None:
        """Egress from each workload to its private destinations (and their ingress)."""
        workloads = [s.workload for s in self.services.values()]
        workloads += [j.workload for j in self.jobs.values()]
        for owner in workloads:
            group = owner.security_group
            for name, destination in sorted(owner.config.destinations.items()):
                for port in destination.ports:
                    description = f"{owner.config.name} to {name}"
                    if destination.security_group_id is not None:
                        group.allow_to_group_id(
                            destination.security_group_id,
                            port,
                            description=description,
                            peer_ingress=destination.manage_peer_ingress,
                        )
                    else:
                        assert destination.cidr is not None  # validated: one of the two
                        group.allow_to_cidr(destination.cidr, port, description=description)

    def _bucket_names(self, workload: WorkloadConfig) -> dict[str, str]:
        """`<BUCKET>_BUCKET` for each application bucket the workload is granted."""
        return {
            bucket_variable(name): bucket.name
            for name, bucket in self.buckets.items()
            if workload.name in bucket.config.grants
        }

    def _bucket_grants(self) -> None:
        workloads = {name: s.workload for name, s in self.services.items()}
        workloads |= {name: j.workload for name, j in self.jobs.items()}
        for name, bucket in self.buckets.items():
            for workload, access in bucket.config.grants.items():
                bucket.grant(workloads[workload], access, bucket=name)

    def _queue_urls(self, workload: WorkloadConfig) -> dict[str, str]:
        """`QUEUE_URL` for a consumer, `<CONSUMER>_QUEUE_URL` for each queue it produces to."""
        urls = {}
        for consumer in self.config.services:
            queue = self.queues.get(consumer.name)
            if queue is None:
                continue
            if consumer.name == workload.name:
                urls[CONSUMER_URL_VARIABLE] = queue.url
            elif consumer.queue is not None and workload.name in consumer.queue.producers:
                urls[producer_url_variable(consumer.name)] = queue.url
        return urls

    def _queue_wiring(self) -> None:
        """Consume and send grants on each queue, and its consumer's backlog scaling."""
        workloads = {name: s.workload for name, s in self.services.items()}
        workloads |= {name: j.workload for name, j in self.jobs.items()}
        for name, queue in self.queues.items():
            service = self.services[name]
            queue.grant_consume(service.workload)
            assert service.config.queue is not None
            for producer in service.config.queue.producers:
                queue.grant_send(workloads[producer], consumer=name)
            if service.config.queue.scaling is not None:
                QueueScaling(
                    service,
                    "queue-scaling",
                    service.config.queue,
                    queue=queue,
                    service=service,
                )

    def _sidecar_images(self, workload: WorkloadConfig) -> dict[str, str]:
        """Sidecar name -> image: its own, or the image of the workload or service it names."""
        services = {s.name: s for s in self.config.services}
        images = {}
        for name, sidecar in workload.sidecars.items():
            if sidecar.image is not None:
                images[name] = sidecar.image
            elif sidecar.same_image_as == workload.name:
                images[name] = self._image(workload)
            else:
                assert sidecar.same_image_as is not None  # validated: image or same_image_as
                images[name] = self._image(services[sidecar.same_image_as])
        return images

    def _dashboard_sections(self) -> list[Section]:
        sections = [
            Section(
                title=f"service {name} ({service.strategy} deployments)",
                specs=tuple(service.alarms.specs.values()),
                requests=service.alarms.request_metrics,
            )
            for name, service in self.services.items()
        ]
        sections += [
            Section(title=f"{exposure} ALB", specs=tuple(alarms.specs))
            for exposure, alarms in self.load_balancer_alarms.items()
        ]
        sections += [
            Section(
                title=f"job {name}",
                specs=tuple(job.alarms.specs),
                log_group_name=job.workload.log_group_name,
            )
            for name, job in self.jobs.items()
        ]
        return sections

    def _domain(self, existing_certificates: dict[Exposure, str]) -> Domain | None:
        """Zones, certificates and names when the environment has a domain."""
        domain = self.config.domain
        if domain is None:
            return None
        internal = self.config.services_behind(Exposure.INTERNAL) if domain.internal_tls else ()
        return Domain(
            self,
            "domain",
            domain,
            network=self.network,
            name=self.config.resource_prefix,
            public_hosts=domain.public_hosts
            if self.config.services_behind(Exposure.PUBLIC)
            else (),
            internal_hosts={s.name: domain.internal_host(s.name) for s in internal},
            existing_certificate_arns=existing_certificates,
        )

    def _image(self, workload: WorkloadConfig) -> str:
        """The image reference; creates the project ECR repository the image lives in."""
        image = self.config.image_of(workload)
        if image.external is not None:
            return image.external
        owner = self.config.image_owner(workload).name
        repository = self.repositories.get(owner)
        if repository is None:
            repository = EcrRepository(
                self,
                f"ecr-{owner}",
                self.config.ecs.ecr,
                name=f"{self.config.resource_prefix}/{owner}",
            )
            self.repositories[owner] = repository
        if image.digest:
            return f"{repository.url}@{image.digest}"
        return f"{repository.url}:{image.tag}"

    def _callee_urls(self, caller: WorkloadConfig) -> dict[str, str]:
        """`<CALLEE>_URL` for each service the caller may call: the internal ALB's URL (or the
        callee's internal name), or the callee's Service Connect name."""
        internal = self.load_balancers.get(Exposure.INTERNAL)
        urls = {}
        for callee in self.config.services:
            if caller.name not in callee.allowed_callers:
                continue
            if callee.exposure is Exposure.SERVICE_CONNECT:
                urls[caller_url_variable(callee.name)] = service_connect_url(callee)
            elif internal is not None:
                named = self.domain.internal_url(callee.name) if self.domain else None
                urls[caller_url_variable(callee.name)] = named or internal.url
        return urls

    def _outputs(self) -> None:
        TerraformOutput(self, "vpc_id", value=self.network.vpc_id)
        TerraformOutput(self, "vpc_cidr", value=self.network.vpc_cidr)
        TerraformOutput(self, "public_subnet_ids", value=self.network.public_subnet_ids)
        TerraformOutput(self, "private_subnet_ids", value=self.network.private_subnet_ids)
        TerraformOutput(self, "availability_zones", value=list(self.network.availability_zones))
        public = self.load_balancers.get(Exposure.PUBLIC)
        internal = self.load_balancers.get(Exposure.INTERNAL)
        if public is not None:
            named = self.domain.public_url if self.domain else None
            TerraformOutput(self, "public_url", value=named or public.url)
        if internal is not None:
            TerraformOutput(self, "internal_alb_dns_name", value=internal.dns_name)
        TerraformOutput(
            self,
            "alarm_topic_arn",
            value=self.alarm_topic.arn,
            description="SNS topic every alarm notifies; subscribe chat integrations here.",
        )
        if self.domain is not None and self.domain.public_zone is None:
            self._external_dns_outputs(public)
        TerraformOutput(self, "cluster_name", value=self.cluster.name)
        TerraformOutput(self, "cluster_arn", value=self.cluster.arn)
        TerraformOutput(
            self,
            "services",
            value={
                name: {
                    "service_name": service.name,
                    "task_definition_arn": service.workload.task_definition_arn,
                    "ecr_repository_url": (
                        self.repositories[name].url if name in self.repositories else None
                    ),
                    "log_group": service.workload.log_group_name,
                    "security_group_id": service.security_group.id,
                    "subnets": self.network.private_subnet_ids,
                }
                for name, service in self.services.items()
            },
        )
        if self.release_policy is not None:
            TerraformOutput(
                self,
                "release_policy_arn",
                value=self.release_policy.arn,
                description="Attach to the CI role that runs `python -m ops deploy`.",
            )
        TerraformOutput(
            self,
            SPECS_OUTPUT,
            # `environment` lets ops run-task refuse a spec used with another --env.
            value={
                name: {**job.run_task_spec, "environment": self.config.name}
                for name, job in self.jobs.items()
            },
            description="Per job: everything `python -m ops run-task` needs (one JSON object).",
        )

    def _external_dns_outputs(self, public: LoadBalancer | None) -> None:
        """`dns: external`: what to create at the DNS provider (README: DNS outside Route 53)."""
        assert self.domain is not None
        TerraformOutput(
            self,
            "certificate_validation_records",
            value={
                str(exposure): certificate.validation_options
                for exposure, certificate in self.domain.certificates.items()
            },
            description="Per certificate: the CNAMEs (resource_record_name -> "
            "resource_record_value) to create at the DNS provider so ACM can validate it.",
        )
        if public is not None:
            TerraformOutput(
                self,
                "dns_target",
                value={"hosts": list(self.domain.public_hosts), "target": public.dns_name},
                description="Create each host as a CNAME (ALIAS/ANAME at the zone apex) to target.",
            )
