"""One compose service's own settings: image, command, size, environment and secrets,
health check, platform; its volumes in `ops.import_compose.volumes`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ops.import_compose.compose import (
    LOCAL_URL,
    _duration_seconds,
    _env_file_names,
    _environment,
    _hosts_in,
    _memory_mib,
    _resolve,
    _words,
    fargate_size,
)
from ops.import_compose.document import Document
from ops.import_compose.mapping import MAPPED_SERVICE_KEYS, SECRET_NAME, UNMAPPED_SERVICE_KEYS
from ops.import_compose.volumes import volumes


def workload_settings(doc: Document, name: str, owners: Mapping[str, str]) -> dict[str, Any]:
    spec = doc.specs[name]
    config: dict[str, Any] = {}
    for key in spec:
        if key in UNMAPPED_SERVICE_KEYS:
            doc.note(f"{name}.{key}: not mapped: {UNMAPPED_SERVICE_KEYS[key]}")
        elif key not in MAPPED_SERVICE_KEYS and not str(key).startswith("x-"):
            doc.note(f"{name}.{key}: not mapped: no equivalent in the platform")
    if name in owners:
        config["same_image_as"] = doc.names[owners[name]]
    elif "build" in spec:
        if "image" in spec:
            doc.note(
                f"{name}.image: {spec['image']!r} is where compose tags its build; the "
                "platform pushes builds to the project's ECR repository instead"
            )
    elif "image" in spec:
        config["image"] = {"external": str(spec["image"])}
    else:
        doc.note(f"{name}: has neither image nor build; it runs the project's ECR image")
    for key in ("entrypoint", "command"):
        if spec.get(key) is not None:
            config[key] = _words(spec[key])
    _size(doc, name, spec, config)
    _variables(doc, name, config)
    _health(doc, name, config)
    volumes(doc, name, config)
    platform = spec.get("platform")
    if platform is not None:
        arch = {"linux/arm64": "ARM64", "linux/arm64/v8": "ARM64", "linux/amd64": "X86_64"}
        if str(platform) in arch:
            config["cpu_architecture"] = arch[str(platform)]
        else:
            doc.note(f"{name}.platform: {platform!r} not mapped: Fargate runs linux/amd64 "
                      "or linux/arm64")  # fmt: skip
    for dependency in doc.depends_on(name):
        if dependency in doc.managed:
            continue  # covered by the managed-service note
        condition = doc.depends_on(name)[dependency]
        if condition != "service_completed_successfully":
            doc.note(
                f"{name}.depends_on: {dependency!r} not mapped: ECS services start "
                "independently; retry the connection at startup"
            )
    return config


def _size(doc: Document, name: str, spec: Mapping[str, Any], config: dict[str, Any]) -> None:
    deploy = spec.get("deploy") or {}
    limits = (deploy.get("resources") or {}).get("limits") or {}
    cpus = limits.get("cpus", spec.get("cpus"))
    memory = limits.get("memory", spec.get("mem_limit"))
    wanted_cpus = None
    if cpus is not None:
        try:
            wanted_cpus = float(cpus)
        except ValueError:
            doc.note(f"{name}.deploy.resources.limits.cpus: {cpus!r} is not a number")
    wanted_memory = None
    if memory is not None:
        wanted_memory = _memory_mib(memory)
        if wanted_memory is None:
            doc.note(f"{name}.deploy.resources.limits.memory: {memory!r} is not a size")
    if wanted_cpus is not None or wanted_memory is not None:
        cpu, memory_mib = fargate_size(wanted_cpus, wanted_memory)
        config["cpu"], config["memory_mib"] = cpu, memory_mib
    if isinstance(deploy.get("replicas"), int):
        config["desired_count"] = deploy["replicas"]
    for key in deploy:
        if key not in ("resources", "replicas"):
            doc.note(f"{name}.deploy.{key}: not mapped: the platform sets ECS deployment "
                      "and placement itself")  # fmt: skip


def _variables(doc: Document, name: str, config: dict[str, Any]) -> None:
    from envs.schema.common import ENV_VAR_NAME

    spec = doc.specs[name]
    environment: dict[str, str] = {}
    secrets: dict[str, str] = {}
    where = doc.names[name]
    for variable, value in _environment(spec).items():
        if not ENV_VAR_NAME.fullmatch(variable):
            doc.note(f"{name}.environment.{variable}: not a variable name; skipped")
        elif value is None:
            doc.note(
                f"{name}.environment.{variable}: takes its value from the shell running "
                "compose; set it in environment or secrets"
            )
        elif SECRET_NAME.search(variable) or any(
            host in doc.managed for host in _hosts_in(value, list(doc.specs))
        ):
            secrets[variable] = doc.options.parameter_arn(where, variable)
        elif (resolved := _resolve(value)) is None:
            doc.note(
                f"{name}.environment.{variable}: {value!r} needs the shell's variables; "
                "set its value in environment"
            )
        else:
            environment[variable] = resolved
    names, notes = _env_file_names(spec, doc.options.base_dir)
    for note in notes:
        doc.note(f"{name}.{note}")
    for variable in names:
        if ENV_VAR_NAME.fullmatch(variable) and variable not in environment:
            secrets[variable] = doc.options.parameter_arn(where, variable)
    if secrets:
        doc.note(
            f"{name}: {len(secrets)} secret(s) ({', '.join(sorted(secrets))}) read from SSM "
            f"parameters under /{doc.options.project}/{where}/: create them (values were "
            "not copied)"
        )
    if environment:
        config["environment"] = dict(sorted(environment.items()))
    if secrets:
        config["secrets"] = dict(sorted(secrets.items()))


def _health(doc: Document, name: str, config: dict[str, Any]) -> None:
    from pydantic import ValidationError

    from envs.schema.containers import ContainerHealthCheckConfig

    check = doc.specs[name].get("healthcheck")
    if not isinstance(check, dict) or check.get("disable"):
        return
    test = check.get("test")
    if isinstance(test, str):
        command = ["CMD-SHELL", test]
    elif isinstance(test, list) and test and test[0] in ("CMD", "CMD-SHELL"):
        command = [str(word) for word in test]
    else:
        if test not in (None, ["NONE"]):
            doc.note(f"{name}.healthcheck.test: {test!r} not mapped: use CMD or CMD-SHELL")
        return
    settings: dict[str, Any] = {"command": command}
    for key, target in (
        ("interval", "interval_seconds"),
        ("timeout", "timeout_seconds"),
        ("start_period", "start_period_seconds"),
    ):
        if key in check:
            seconds = _duration_seconds(check[key])
            if seconds is None:
                doc.note(f"{name}.healthcheck.{key}: {check[key]!r} is not a duration")
            else:
                settings[target] = seconds
    if "retries" in check:
        settings["retries"] = check["retries"]
    try:
        ContainerHealthCheckConfig.model_validate(settings)
    except ValidationError as error:
        reason = error.errors()[0]["msg"].removeprefix("Value error, ")
        doc.note(f"{name}.healthcheck: not mapped: ECS refuses it ({reason})")
        return
    config["container_health_check"] = settings


def health_path(check: Mapping[str, Any] | None) -> str | None:
    """The HTTP path a container health check calls on localhost, if any."""
    if check is None:
        return None
    match = LOCAL_URL.search(" ".join(check["command"][1:]))
    return match[1] if match else None
