"""Compose volumes: named volumes become EFS file systems; bind mounts and scratch space
are noted as not mapped."""

from __future__ import annotations

from typing import Any

from ops.import_compose.document import Document


def volumes(doc: Document, name: str, config: dict[str, Any]) -> None:
    for volume in doc.specs[name].get("volumes") or ():
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
            doc.note(
                f"{name}.volumes: {source}:{target} not mapped: Fargate has no host paths; "
                "build the files into the image"
            )
        elif kind == "tmpfs" or source is None:
            doc.note(
                f"{name}.volumes: {target} not mapped: scratch space; only /tmp is writable "
                "(set readonly_root_filesystem false for more)"
            )
        else:
            _efs_mount(doc, name, str(source), str(target), config)


def _efs_mount(doc: Document, name: str, volume: str, target: str, config: dict[str, Any]) -> None:
    """A named volume becomes an EFS file system, mounted through the workload's own
    access point (compose shares the volume's root; EFS gives each workload a directory)."""
    file_system = doc.platform_name(
        volume, refused=f"{name}.volumes: named volume {volume!r} not mapped"
    )
    if file_system is None:
        return
    doc.result.file_systems.setdefault(file_system, {})
    config.setdefault("efs_mounts", []).append(
        {"file_system": file_system, "container_path": target}
    )
    doc.note(
        f"{name}.volumes: named volume {volume!r} at {target} is EFS file system "
        f"{file_system!r}; each workload sees its own directory /{doc.names[name]} (set "
        "root_directory to share one)"
    )
