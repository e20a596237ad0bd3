"""Reading a compose file and its values: durations, memory, ports, environment, env files."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from ops.import_compose.model import ComposeError

INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_]\w*)")
DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(us|ms|s|m|h)")
DURATION_SECONDS = {"us": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}
LOCAL_URL = re.compile(r"https?://(?:localhost|127\.0\.0\.1)(?::\d+)?(/[^\s'\"|;]*)")
MEMORY_UNITS = {"b": 1 / 2**20, "k": 1 / 1024, "m": 1, "g": 1024}


def load_compose(path: Path) -> dict[str, Any]:
    """Read and parse a compose file; ComposeError with a one-line reason otherwise."""
    import yaml

    try:
        text = path.read_text()
    except OSError as error:
        raise ComposeError(f"{path}: cannot read it: {error.strerror}") from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error)
        raise ComposeError(f"{path}{where}: not valid YAML: {problem}") from None
    if not isinstance(document, dict) or not isinstance(document.get("services"), dict):
        raise ComposeError(
            f"{path}: not a compose file: expected a mapping with a 'services' mapping at the top"
        )
    return document


def _words(value: object) -> list[str]:
    """A compose command/entrypoint: a list, or a string split like a shell would."""
    if isinstance(value, list):
        return [str(word) for word in value]
    return shlex.split(str(value))


def _base_image_name(image: str) -> str:
    """`docker.io/library/postgres:16-alpine` -> `postgres`."""
    name = image.split("@")[0].rsplit("/", 1)[-1]
    return name.split(":")[0].lower()


def _duration_seconds(value: object) -> int | None:
    """Compose durations ('1m30s', '10s', 5) in whole seconds, rounded up; None if unreadable."""
    if isinstance(value, int | float):
        return int(-(-value // 1))
    text = str(value).strip()
    parts = DURATION_PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        return None
    total = sum(float(number) * DURATION_SECONDS[unit] for number, unit in parts)
    return int(-(-total // 1))


def _memory_mib(value: object) -> float | None:
    """Compose memory ('512m', '1.5g', 1073741824) in MiB; None if unreadable."""
    if isinstance(value, int | float):
        return value / 2**20
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([bkmg])?b?", str(value).strip().lower())
    if match is None:
        return None
    return float(match[1]) * MEMORY_UNITS[match[2] or "b"]


def fargate_size(cpus: float | None, memory_mib: float | None) -> tuple[int, int]:
    """The smallest Fargate cpu/memory pair with at least the given vCPUs and MiB."""
    from envs.schema.workload import FARGATE_MEMORY_MIB

    want_cpu = (cpus or 0) * 1024
    want_memory = memory_mib or 0
    for cpu, memories in FARGATE_MEMORY_MIB.items():
        if cpu < want_cpu:
            continue
        for memory in memories:
            if memory >= want_memory:
                return cpu, memory
    largest = max(FARGATE_MEMORY_MIB)
    return largest, FARGATE_MEMORY_MIB[largest][-1]


def _port_entries(spec: Mapping[str, Any]) -> Iterator[tuple[int | None, int, str, object]]:
    """(published host port or None, container port or -1 if unreadable, protocol, entry)."""
    for entry in spec.get("ports") or ():
        if isinstance(entry, dict):
            target, published = entry.get("target"), str(entry.get("published", ""))
            host = int(published) if published.isdigit() else None
            container = target if isinstance(target, int) else -1
            yield host, container, str(entry.get("protocol", "tcp")), entry
            continue
        mapping, _, protocol = str(entry).partition("/")
        parts = mapping.split(":")  # [ip:][host:]container
        published = parts[-2] if len(parts) > 1 else ""
        host = int(published) if published.isdigit() else None
        container = int(parts[-1]) if parts[-1].isdigit() else -1
        yield host, container, protocol or "tcp", entry


def _environment(spec: Mapping[str, Any]) -> dict[str, str | None]:
    raw = spec.get("environment") or {}
    if isinstance(raw, dict):
        return {str(k): None if v is None else str(v) for k, v in raw.items()}
    result: dict[str, str | None] = {}
    for item in raw:
        name, sep, value = str(item).partition("=")
        result[name] = value if sep else None
    return result


def _env_file_names(spec: Mapping[str, Any], base_dir: Path) -> tuple[list[str], list[str]]:
    """Variable names in the service's env_file(s), and a note per file that cannot be read."""
    raw = spec.get("env_file")
    entries = [raw] if isinstance(raw, str | dict) else list(raw or ())
    names: list[str] = []
    notes: list[str] = []
    for entry in entries:
        path = entry.get("path") if isinstance(entry, dict) else entry
        required = entry.get("required", True) if isinstance(entry, dict) else True
        try:
            lines = (base_dir / str(path)).read_text().splitlines()
        except OSError:
            if required:
                notes.append(
                    f"env_file: {path!r} not found next to the compose file; its variables were "
                    "not imported (create the SSM parameters and list them under secrets)"
                )
            continue
        for line in lines:
            line = line.strip().removeprefix("export ").strip()
            if line and not line.startswith("#") and "=" in line:
                names.append(line.split("=", 1)[0].strip())
    return names, notes


def _resolve(value: str) -> str | None:
    """Apply compose interpolation where it has a default; None when it needs the shell."""
    unresolved = False

    def substitute(match: re.Match[str]) -> str:
        nonlocal unresolved
        if match[2] in ("-", ":-"):
            return match[3]
        unresolved = True
        return match[0]

    result = INTERPOLATION.sub(substitute, value.replace("$$", "\0"))
    return None if unresolved else result.replace("\0", "$")


def _hosts_in(value: str, names: Sequence[str]) -> list[str]:
    """Compose service names used as host names in a value (`http://api:8000`, `redis:6379`)."""
    return [
        name
        for name in names
        if re.search(rf"(?:^|[/@,\s]){re.escape(name)}(?::\d+|/|$|\s|,)", value) is not None
    ]
