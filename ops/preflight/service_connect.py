"""Rules: ECS Service Connect configurations that CreateService accepts."""

from __future__ import annotations

from collections.abc import Iterator

from ops.preflight.finding import Finding, When
from ops.preflight.model import Model, address, as_list, construct_path
from ops.preflight.rules import per_stack, rule
from ops.synth_reader import container_definitions


@rule(
    "service-connect-port-name",
    "each Service Connect service's port_name names a port mapping of the ECS service's task "
    "definition",
    "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceConnectService.html "
    "(portName 'must match the name of one of the portMappings from all the containers in the "
    "task definition'); the provider passes port_name through unchecked "
    "(internal/service/ecs/service.go service_connect_configuration.service.port_name)",
)
@per_stack
def _port_names(model: Model) -> Iterator[Finding]:
    for name, service in model.items("aws_ecs_service"):
        task = model.get(address(service.get("task_definition")))
        if task is None:
            continue
        named = {
            str(mapping["name"])
            for container in container_definitions(task)
            for mapping in as_list(container.get("portMappings"))
            if mapping.get("name")
        }
        for configuration in as_list(service.get("service_connect_configuration")):
            for published in as_list(configuration.get("service")):
                port_name = str(published.get("port_name", ""))
                if port_name not in named:
                    yield Finding(
                        "service-connect-port-name",
                        model.stack.name,
                        f"aws_ecs_service.{name}",
                        construct_path(service),
                        When.APPLY,
                        f"Service Connect port_name {port_name!r} names no port mapping of the "
                        f"task definition (named: {', '.join(sorted(named)) or 'none'})",
                        "give the container's port mapping that name, or publish a named one",
                    )
