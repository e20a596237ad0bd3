"""What compose features map to: managed services, unmapped keys and why, secret-looking names."""

from __future__ import annotations

import re

# Compose service images that are data stores or brokers: AWS runs them as managed services.
MANAGED_SERVICES: dict[str, str] = {
    "redis": "Amazon ElastiCache (Redis OSS or Valkey)",
    "valkey": "Amazon ElastiCache (Valkey)",
    "memcached": "Amazon ElastiCache (Memcached)",
    "postgres": "Amazon RDS or Aurora PostgreSQL",
    "postgis": "Amazon RDS or Aurora PostgreSQL (with PostGIS)",
    "mysql": "Amazon RDS or Aurora MySQL",
    "mariadb": "Amazon RDS for MariaDB",
    "mongo": "Amazon DocumentDB",
    "rabbitmq": "Amazon MQ for RabbitMQ (or an SQS queue)",
    "elasticsearch": "Amazon OpenSearch Service",
    "opensearch": "Amazon OpenSearch Service",
    "kafka": "Amazon MSK",
    "cp-kafka": "Amazon MSK",
    "zookeeper": "Amazon MSK (no ZooKeeper to run)",
    "minio": "Amazon S3",
    "localstack": "the AWS services it emulates",
    "mailhog": "Amazon SES (a local mail catcher is a development tool)",
    "mailpit": "Amazon SES (a local mail catcher is a development tool)",
}

# Service keys with no equivalent, and why.
UNMAPPED_SERVICE_KEYS: dict[str, str] = {
    "container_name": "ECS names tasks itself; the service's key is its name",
    "hostname": "tasks get VPC DNS names; services reach each other through the internal ALB",
    "domainname": "tasks get VPC DNS names; services reach each other through the internal ALB",
    "networks": "one VPC per environment; internal services admit only their allowed_callers",
    "network_mode": "Fargate tasks always use awsvpc networking",
    "restart": "ECS services replace stopped tasks themselves; jobs run to completion",
    "privileged": "Fargate does not run privileged containers",
    "cap_add": "Fargate adds no Linux capabilities except SYS_PTRACE, which the platform omits",
    "cap_drop": "the platform does not set Linux capabilities",
    "devices": "Fargate gives containers no host devices",
    "security_opt": "Fargate does not accept Docker security options",
    "sysctls": "the platform does not set kernel parameters",
    "ulimits": "the platform keeps Fargate's default ulimits",
    "ipc": "Fargate does not share IPC namespaces",
    "pid": "Fargate does not share the host PID namespace",
    "shm_size": "Fargate does not size /dev/shm",
    "extra_hosts": "Fargate (awsvpc) does not accept extra /etc/hosts entries; use DNS",
    "dns": "Fargate tasks use the VPC resolver",
    "dns_search": "Fargate tasks use the VPC resolver",
    "labels": "Docker labels are not used; the platform tags AWS resources",
    "logging": "logs always go to CloudWatch Logs (awslogs, KMS-encrypted)",
    "stdin_open": "tasks have no interactive terminal; use ECS Exec (enable_execute_command)",
    "tty": "tasks have no interactive terminal; use ECS Exec (enable_execute_command)",
    "secrets": "compose secrets are files under /run/secrets; the platform injects secrets as "
    "environment variables: list them under secrets",
    "configs": "compose configs are files; build them into the image",
    "profiles": "every service is imported whatever its profile",
    "user": "set USER in the Dockerfile",
    "working_dir": "set WORKDIR in the Dockerfile",
    "init": "the platform turns on an init process only with ECS Exec",
    "stop_grace_period": "the platform keeps ECS's default stop timeout (30 s)",
    "stop_signal": "ECS stops containers with SIGTERM, then SIGKILL",
    "pull_policy": "ECS pulls the image each time a task starts",
    "scale": "use deploy.replicas (desired_count) or autoscaling",
    "external_links": "services reach each other through the internal ALB",
    "volumes_from": "Fargate tasks do not share volumes with other tasks",
    "tmpfs": "only /tmp is writable (a task volume); set readonly_root_filesystem false for more",
}
# Keys the importer reads (and turns into config or into a note of their own).
MAPPED_SERVICE_KEYS = frozenset(
    {
        "image", "build", "command", "entrypoint", "ports", "expose", "environment",
        "env_file", "healthcheck", "depends_on", "links", "volumes", "deploy", "platform",
        "cpus", "mem_limit", "read_only",
    }
)  # fmt: skip
TOP_LEVEL_NOTES: dict[str, str] = {
    "networks": "one VPC per environment; internal services admit only their allowed_callers",
    "secrets": "compose secrets are files; the platform injects SSM or Secrets Manager values "
    "as environment variables (secrets)",
    "configs": "compose configs are files; build them into the image",
}
TOP_LEVEL_IGNORED = frozenset({"version", "name", "services", "volumes"})
SECRET_NAME = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|API_KEY|PRIVATE_KEY|CREDENTIAL", re.I)
