"""Converting compose services into platform services, jobs and file systems."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ops.import_compose.compose import (
    LOCAL_URL,
    _base_image_name,
    _duration_seconds,
    _env_file_names,
    _environment,
    _hosts_in,
    _memory_mib,
    _port_entries,
    _resolve,
    _words,
    fargate_size,
)
from ops.import_compose.mapping import (
    MANAGED_SERVICES,
    MAPPED_SERVICE_KEYS,
    SECRET_NAME,
    TOP_LEVEL_IGNORED,
    TOP_LEVEL_NOTES,
    UNMAPPED_SERVICE_KEYS,
)
from ops.import_compose.model import Imported, Options

PUBLIC_HOST_PORTS = (80, 443)


class Converter:
    """One compose document -> Imported. Reads each service once, in file order."""

    def __init__(self, compose: Mapping[str, Any], options: Options) -> None:
        self.compose = compose
        self.options = options
        self.specs: dict[str, dict[str, Any]] = {
            str(name): spec if isinstance(spec, dict) else {}
            for name, spec in compose["services"].items()
        }
        self.result = Imported()
        self.names: dict[str, str] = {}
        """Compose name -> platform name (DNS-safe)."""
        self.managed: dict[str, str] = {}
        """Compose name -> the managed AWS service that replaces it."""

    def note(self, message: str) -> None:
        self.result.notes.append(message)

    def convert(self) -> Imported:
        from envs.schema.common import check_name

        for key in self.compose:
            if key in TOP_LEVEL_NOTES:
                self.note(f"{key} (top level): not mapped: {TOP_LEVEL_NOTES[key]}")
            elif key not in TOP_LEVEL_IGNORED and not str(key).startswith("x-"):
                self.note(f"{key} (top level): not mapped: no equivalent in the platform")
        for name, spec in self.specs.items():
            image = str(spec.get("image", ""))
            if image and "build" not in spec and _base_image_name(image) in MANAGED_SERVICES:
                self.managed[name] = MANAGED_SERVICES[_base_image_name(image)]
                continue
            platform_name = name.lower().replace("_", "-")
            try:
                check_name(platform_name)
            except ValueError as error:
                self.note(f"{name}: not imported: {error}")
                continue
            if platform_name != name:
                self.note(f"{name}: imported as {platform_name!r} (names are DNS labels)")
            self.names[name] = platform_name
        for name, product in self.managed.items():
            users = [n for n in self.names if self._uses(n, name)]
            self.note(
                f"{name}: not run on Fargate: image {self.specs[name]['image']!r} is a data "
                f"store or broker; use {product} and give its endpoint to "
                f"{', '.join(users) or 'the services that use it'} as a secret; open the way "
                "with their `destinations` (its security group and port)"
            )
        jobs = self._job_names()
        public = self._public_service(jobs)
        owners = self._image_owners(jobs)
        internal_seen = 0
        for name in self.names:
            where = self.names[name]
            config = self._workload(name, owners)
            if name in jobs:
                self._job(name, config)
                self.result.jobs[where] = config
                continue
            exposure, port = self._exposure(name, public)
            config["exposure"] = exposure
            if port is not None:
                config["container_port"] = port
                check = config.get("container_health_check")
                path = self._health_path(check)
                if path is not None:
                    config["health_check"] = {"path": path}
                else:
                    self.note(
                        f"{name}: the load balancer checks /health (set "
                        f"services.{where}.health_check.path if the app answers elsewhere)"
                    )
            if exposure == "internal":
                internal_seen += 1
                if internal_seen > 1:
                    config["path_patterns"] = [f"/{where}/*"]
                    self.note(
                        f"{name}: shares the internal ALB, so it is routed by path /{where}/*; "
                        "serve under that prefix or set host_headers instead"
                    )
            self.result.services[where] = config
        self._callers(jobs)
        if self.names:
            # Compose containers reach the internet by default; keep that, and say how to stop.
            for config in (*self.result.services.values(), *self.result.jobs.values()):
                config["internet_egress"] = True
            self.note(
                "all workloads: internet_egress is true, as compose containers reach the "
                "internet; set it to false where the VPC endpoints are enough (the egress proof "
                "names what is missing)"
            )
        return self.result

    # -- per service ------------------------------------------------------------------

    def _workload(self, name: str, owners: Mapping[str, str]) -> dict[str, Any]:
        spec = self.specs[name]
        config: dict[str, Any] = {}
        for key in spec:
            if key in UNMAPPED_SERVICE_KEYS:
                self.note(f"{name}.{key}: not mapped: {UNMAPPED_SERVICE_KEYS[key]}")
            elif key not in MAPPED_SERVICE_KEYS and not str(key).startswith("x-"):
                self.note(f"{name}.{key}: not mapped: no equivalent in the platform")
        if name in owners:
            config["same_image_as"] = self.names[owners[name]]
        elif "build" in spec:
            if "image" in spec:
                self.note(
                    f"{name}.image: {spec['image']!r} is where compose tags its build; the "
                    "platform pushes builds to the project's ECR repository instead"
                )
        elif "image" in spec:
            config["image"] = {"external": str(spec["image"])}
        else:
            self.note(f"{name}: has neither image nor build; it runs the project's ECR image")
        for key in ("entrypoint", "command"):
            if spec.get(key) is not None:
                config[key] = _words(spec[key])
        self._size(name, spec, config)
        self._environment(name, config)
        self._health(name, config)
        self._volumes(name, config)
        platform = spec.get("platform")
        if platform is not None:
            arch = {"linux/arm64": "ARM64", "linux/arm64/v8": "ARM64", "linux/amd64": "X86_64"}
            if str(platform) in arch:
                config["cpu_architecture"] = arch[str(platform)]
            else:
                self.note(f"{name}.platform: {platform!r} not mapped: Fargate runs linux/amd64 "
                          "or linux/arm64")  # fmt: skip
        for dependency in self._depends_on(name):
            if dependency in self.managed:
                continue  # covered by the managed-service note
            condition = self._depends_on(name)[dependency]
            if condition != "service_completed_successfully":
                self.note(
                    f"{name}.depends_on: {dependency!r} not mapped: ECS services start "
                    "independently; retry the connection at startup"
                )
        return config

    def _size(self, name: str, spec: Mapping[str, Any], config: dict[str, Any]) -> None:
        deploy = spec.get("deploy") or {}
        limits = (deploy.get("resources") or {}).get("limits") or {}
        cpus = limits.get("cpus", spec.get("cpus"))
        memory = limits.get("memory", spec.get("mem_limit"))
        wanted_cpus = None
        if cpus is not None:
            try:
                wanted_cpus = float(cpus)
            except ValueError:
                self.note(f"{name}.deploy.resources.limits.cpus: {cpus!r} is not a number")
        wanted_memory = None
        if memory is not None:
            wanted_memory = _memory_mib(memory)
            if wanted_memory is None:
                self.note(f"{name}.deploy.resources.limits.memory: {memory!r} is not a size")
        if wanted_cpus is not None or wanted_memory is not None:
            cpu, memory_mib = fargate_size(wanted_cpus, wanted_memory)
            config["cpu"], config["memory_mib"] = cpu, memory_mib
        if isinstance(deploy.get("replicas"), int):
            config["desired_count"] = deploy["replicas"]
        for key in deploy:
            if key not in ("resources", "replicas"):
                self.note(f"{name}.deploy.{key}: not mapped: the platform sets ECS deployment "
                          "and placement itself")  # fmt: skip

    def _environment(self, name: str, config: dict[str, Any]) -> None:
        from envs.schema.common import ENV_VAR_NAME

        spec = self.specs[name]
        environment: dict[str, str] = {}
        secrets: dict[str, str] = {}
        where = self.names[name]
        for variable, value in _environment(spec).items():
            if not ENV_VAR_NAME.fullmatch(variable):
                self.note(f"{name}.environment.{variable}: not a variable name; skipped")
            elif value is None:
                self.note(
                    f"{name}.environment.{variable}: takes its value from the shell running "
                    "compose; set it in environment or secrets"
                )
            elif SECRET_NAME.search(variable) or any(
                host in self.managed for host in _hosts_in(value, list(self.specs))
            ):
                secrets[variable] = self.options.parameter_arn(where, variable)
            elif (resolved := _resolve(value)) is None:
                self.note(
                    f"{name}.environment.{variable}: {value!r} needs the shell's variables; "
                    "set its value in environment"
                )
            else:
                environment[variable] = resolved
        names, notes = _env_file_names(spec, self.options.base_dir)
        for note in notes:
            self.note(f"{name}.{note}")
        for variable in names:
            if ENV_VAR_NAME.fullmatch(variable) and variable not in environment:
                secrets[variable] = self.options.parameter_arn(where, variable)
        if secrets:
            self.note(
                f"{name}: {len(secrets)} secret(s) ({', '.join(sorted(secrets))}) read from SSM "
                f"parameters under /{self.options.project}/{where}/: create them (values were "
                "not copied)"
            )
        if environment:
            config["environment"] = dict(sorted(environment.items()))
        if secrets:
            config["secrets"] = dict(sorted(secrets.items()))

    def _health(self, name: str, config: dict[str, Any]) -> None:
        from pydantic import ValidationError

        from envs.schema.containers import ContainerHealthCheckConfig

        check = self.specs[name].get("healthcheck")
        if not isinstance(check, dict) or check.get("disable"):
            return
        test = check.get("test")
        if isinstance(test, str):
            command = ["CMD-SHELL", test]
        elif isinstance(test, list) and test and test[0] in ("CMD", "CMD-SHELL"):
            command = [str(word) for word in test]
        else:
            if test not in (None, ["NONE"]):
                self.note(f"{name}.healthcheck.test: {test!r} not mapped: use CMD or CMD-SHELL")
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
                    self.note(f"{name}.healthcheck.{key}: {check[key]!r} is not a duration")
                else:
                    settings[target] = seconds
        if "retries" in check:
            settings["retries"] = check["retries"]
        try:
            ContainerHealthCheckConfig.model_validate(settings)
        except ValidationError as error:
            reason = error.errors()[0]["msg"].removeprefix("Value error, ")
            self.note(f"{name}.healthcheck: not mapped: ECS refuses it ({reason})")
            return
        config["container_health_check"] = settings

    def _volumes(self, name: str, config: dict[str, Any]) -> None:
        for volume in self.specs[name].get("volumes") or ():
            if isinstance(volume, dict):
                source, target = volume.get("source"), volume.get("target")
                kind = volume.get("type", "volume")
            else:
                source, _, rest = str(volume).partition(":")
                target = rest.split(":")[0] if rest else source
                kind = "bind" if source.startswith((".", "/", "~")) else "volume"
                if not rest:
                    source = None
            if kind == "bind":
                self.note(
                    f"{name}.volumes: {source}:{target} not mapped: Fargate has no host paths; "
                    "build the files into the image"
                )
            elif kind == "tmpfs" or source is None:
                self.note(
                    f"{name}.volumes: {target} not mapped: scratch space; only /tmp is writable "
                    "(set readonly_root_filesystem false for more)"
                )
            else:
                self._efs_mount(name, str(source), str(target), config)

    def _efs_mount(self, name: str, volume: str, target: str, config: dict[str, Any]) -> None:
        """A named volume becomes an EFS file system, mounted through the workload's own
        access point (compose shares the volume's root; EFS gives each workload a directory)."""
        from envs.schema.common import check_name

        file_system = volume.lower().replace("_", "-")
        try:
            check_name(file_system)
        except ValueError as error:
            self.note(f"{name}.volumes: named volume {volume!r} not mapped: {error}")
            return
        self.result.file_systems.setdefault(file_system, {})
        config.setdefault("efs_mounts", []).append(
            {"file_system": file_system, "container_path": target}
        )
        self.note(
            f"{name}.volumes: named volume {volume!r} at {target} is EFS file system "
            f"{file_system!r}; each workload sees its own directory /{self.names[name]} (set "
            "root_directory to share one)"
        )

    @staticmethod
    def _health_path(check: Mapping[str, Any] | None) -> str | None:
        """The HTTP path a container health check calls on localhost, if any."""
        if check is None:
            return None
        match = LOCAL_URL.search(" ".join(check["command"][1:]))
        return match[1] if match else None

    # -- across services ----------------------------------------------------------------

    def _depends_on(self, name: str) -> dict[str, str]:
        """Dependency -> condition (compose's short form means service_started)."""
        raw = self.specs[name].get("depends_on") or {}
        if isinstance(raw, list):
            return {str(d): "service_started" for d in raw}
        return {str(d): str((v or {}).get("condition", "service_started")) for d, v in raw.items()}

    def _uses(self, name: str, other: str) -> bool:
        """Whether `name` depends on, links to or names `other` as a host in its environment."""
        spec = self.specs[name]
        links = [str(link).split(":")[0] for link in spec.get("links") or ()]
        values = [v for v in _environment(spec).values() if v]
        return (
            other in self._depends_on(name)
            or other in links
            or any(other in _hosts_in(value, [other]) for value in values)
        )

    def _job_names(self) -> set[str]:
        """Services others wait for to complete, or that ECS must not restart: one-shot jobs."""
        jobs = set()
        for name in self.names:
            for dependency, condition in self._depends_on(name).items():
                if condition == "service_completed_successfully" and dependency in self.names:
                    jobs.add(dependency)
            policy = (self.specs[name].get("deploy") or {}).get("restart_policy") or {}
            if policy.get("condition") == "none":
                jobs.add(name)
        return jobs

    def _job(self, name: str, config: dict[str, Any]) -> None:
        waiting = [n for n in self.names if self._depends_on(n).get(name) is not None]
        self.note(
            f"{name}: imported as a job (one-shot); run it with `python -m ops run-task --job "
            f"{self.names[name]}` before deploying {', '.join(waiting) or 'the services'}"
        )
        for key in ("desired_count",):
            config.pop(key, None)
        if self._ports(name):
            self.note(f"{name}.ports: not mapped: jobs take no traffic")

    def _ports(self, name: str) -> list[tuple[int | None, int]]:
        ports = []
        for host, container, protocol, entry in _port_entries(self.specs[name]):
            if container < 0:
                self.note(f"{name}.ports: {entry!r} not mapped: give one container port, no range")
            elif protocol != "tcp":
                self.note(f"{name}.ports: {entry!r} not mapped: load balancers here carry HTTP")
            else:
                ports.append((host, container))
        for port in self.specs[name].get("expose") or ():
            if str(port).isdigit():
                ports.append((None, int(port)))
        return ports

    def _public_service(self, jobs: set[str]) -> str | None:
        published = [
            (name, host)
            for name in self.names
            if name not in jobs
            for host, _ in self._ports(name)
            if host is not None
        ]
        for name, host in published:
            if host in PUBLIC_HOST_PORTS:
                return name
        return published[0][0] if published else None

    def _exposure(self, name: str, public: str | None) -> tuple[str, int | None]:
        ports = self._ports(name)
        if not ports:
            return "none", None
        for _, extra in ports[1:]:
            if extra != ports[0][1]:
                self.note(
                    f"{name}.ports: container port {extra} not mapped: a service takes traffic "
                    f"on one port ({ports[0][1]})"
                )
        return ("public" if name == public else "internal"), ports[0][1]

    def _image_owners(self, jobs: set[str]) -> dict[str, str]:
        """Workloads built from the same context as an earlier service -> that service."""
        owners: dict[str, str] = {}
        first: dict[str, str] = {}
        for name in self.names:
            build = self.specs[name].get("build")
            if build is None or name in jobs:
                continue
            key = json.dumps(build, sort_keys=True)
            first.setdefault(key, name)
        for name in self.names:
            build = self.specs[name].get("build")
            if build is None:
                continue
            owner = first.get(json.dumps(build, sort_keys=True))
            if owner is not None and owner != name:
                owners[name] = owner
        return owners

    def _callers(self, jobs: set[str]) -> None:
        """Internal services admit the services that use them; callers get `<NAME>_URL`."""
        from envs.schema.service import caller_url_variable

        services = self.result.services
        for callee in self.names:
            target = services.get(self.names[callee])
            if target is None or target.get("exposure") != "internal":
                continue
            callers = [n for n in self.names if n != callee and self._uses(n, callee)]
            for caller in callers:
                if caller in jobs:
                    self.note(
                        f"{caller}: calls {callee!r}, but jobs cannot reach internal services "
                        "yet; run that work in a service"
                    )
                    continue
                settings = services[self.names[caller]]
                target.setdefault("allowed_callers", []).append(self.names[caller])
                variable = caller_url_variable(self.names[callee])
                for key, value in list(settings.get("environment", {}).items()):
                    if callee in _hosts_in(value, [callee]):
                        del settings["environment"][key]
                        self.note(
                            f"{caller}.environment.{key}: dropped: {value!r} names compose host "
                            f"{callee!r}; the platform sets {variable} to its internal URL"
                        )
                if settings.get("environment") == {}:
                    del settings["environment"]


def convert(compose: Mapping[str, Any], options: Options) -> Imported:
    """Convert a parsed compose document."""
    return Converter(compose, options).convert()


def _rehost(
    overrides: dict[str, Any], imported: Imported, public: list[str], *, source: str
) -> dict[str, Any]:
    """An env file's `domain.hosts` for services the import replaces: moved to the imported
    public service (when there is exactly one), with a note saying to do the same."""
    domain = overrides.get("domain")
    if not isinstance(domain, dict) or not isinstance(domain.get("hosts"), dict):
        return overrides
    hosts: dict[str, Any] = domain["hosts"]
    stale = [service for service in hosts if service not in imported.services]
    if not stale:
        return overrides
    moved = {k: v for k, v in hosts.items() if k not in stale}
    if len(public) == 1 and len(stale) == 1 and public[0] not in moved:
        moved[public[0]] = hosts[stale[0]]
        imported.notes.append(
            f"{source}: domain.hosts.{stale[0]} names a service the import replaces; move its "
            f"host names to {public[0]!r} (checked that way)"
        )
    else:
        imported.notes.append(
            f"{source}: domain.hosts {stale} name services the import replaces; give their host "
            f"names to the public services ({', '.join(public) or 'none'})"
        )
    return {**overrides, "domain": {**domain, "hosts": moved}}


def check(imported: Imported) -> list[str]:
    """What `make check` would say with the import pasted into envs/base.py."""
    import importlib

    from envs import DEFAULT_ENVIRONMENTS, ConfigError, build_environment
    from envs.base import BASE

    base = {**BASE, **imported.as_overrides()}
    public = [n for n, s in imported.services.items() if s.get("exposure") == "public"]
    problems: list[str] = []
    for name in DEFAULT_ENVIRONMENTS:
        overrides = importlib.import_module(f"envs.{name}").OVERRIDES
        kept = {k: v for k, v in overrides.items() if k not in imported.as_overrides()}
        kept = _rehost(kept, imported, public, source=f"envs/{name}.py")
        try:
            build_environment(kept, base=base, source=f"envs/{name}.py")
        except ConfigError as error:
            problems += [p for p in error.problems if p not in problems]
    return problems
