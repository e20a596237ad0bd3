"""A fork server that runs `python main.py ARGS` in one project copy, minus interpreter start.

Started by tests/config/test_bad_input_catalogue.py as `python tests/forked_main.py PROJECT`
with the environment a subprocess run gets (PYTHONPATH=the jsii tripwire,
PYTHONDONTWRITEBYTECODE=1). Most of such a run is start-up: the interpreter, pydantic and
building the envs models. This process does that once, then for each request (one JSON line
on stdin: `{"args": [...], "stdout": path, "stderr": path}`) forks a child that runs main.py
exactly as the interpreter would: cwd and `sys.path[0]` the copy, `sys.argv` the arguments,
file descriptors 1 and 2 written to the two files, exit status from `SystemExit` (or 1 after
the traceback the interpreter prints). The reply is `{"returncode": N}`.

The env value files (`envs/dev.py`, `envs/base.py`, ...) are imported by `load_environments`,
never here, so each child reads them from disk. When a case edits a module this process did
import (e.g. `envs/__init__.py`), the child drops every project module and imports them again.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import linecache
import os
import runpy
import sys
import traceback
from pathlib import Path

# tests.constants.PACKAGES: this script runs inside a project copy, which has no tests/ to import.
PACKAGES = ("envs", "modules", "ops", "stacks")


def project_modules(project: Path) -> dict[str, tuple[Path, str]]:
    """Every imported module whose file lies in the copy: name -> (file, sha256 of it)."""
    found: dict[str, tuple[Path, str]] = {}
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None)
        if path and Path(path).resolve().is_relative_to(project):
            found[name] = (Path(path), hashlib.sha256(Path(path).read_bytes()).hexdigest())
    return found


def unchanged(loaded: dict[str, tuple[Path, str]]) -> bool:
    return all(
        path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == digest
        for path, digest in loaded.values()
    )


def exit_status(stop: SystemExit) -> int:
    """The status the interpreter exits with for an uncaught SystemExit."""
    if stop.code is None:
        return 0
    if isinstance(stop.code, int):
        return stop.code
    print(stop.code, file=sys.stderr)
    return 1


def run_main(project: Path, loaded: dict[str, tuple[Path, str]], args: list[str]) -> int:
    """In the forked child: main.py as `python main.py *args` runs it."""
    if not unchanged(loaded):
        for name in list(sys.modules):
            if name.split(".")[0] in PACKAGES:
                del sys.modules[name]
    importlib.invalidate_caches()  # files the case created since the last directory scan
    linecache.clearcache()
    sys.argv = ["main.py", *args]
    try:
        runpy.run_path(str(project / "main.py"), run_name="__main__")
        status = 0
    except SystemExit as stop:
        status = exit_status(stop)
    except BaseException:
        traceback.print_exc()
        status = 1
    sys.stdout.flush()
    sys.stderr.flush()
    return status


def serve(project: Path) -> None:
    os.chdir(project)
    sys.path[0] = str(project)
    sys.dont_write_bytecode = True
    importlib.import_module("envs")  # pydantic and every model module
    importlib.import_module("ops.common")
    loaded = project_modules(project)
    reply = sys.stdout
    print("ready", file=reply, flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:  # the child: never returns into the loop
            status = 1
            try:
                for descriptor, path in ((1, request["stdout"]), (2, request["stderr"])):
                    opened = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
                    os.dup2(opened, descriptor)
                    os.close(opened)
                status = run_main(project, loaded, request["args"])
            finally:
                os._exit(status)
        _, wait_status = os.waitpid(pid, 0)
        print(json.dumps({"returncode": os.waitstatus_to_exitcode(wait_status)}), file=reply)
        reply.flush()


if __name__ == "__main__":
    serve(Path(sys.argv[1]).resolve())
