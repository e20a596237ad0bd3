"""Commands a test run starts once and shares, through files, with every pytest process.

`make test` runs pytest with two xdist workers (`-n 2`); each worker collects every test, but
the session synth, checkov and the README's `make synth` copy must run once per run, not once
per worker. A `Job` is a directory under the run's shared directory: the first process to
create it starts the command (in its own process group, stdout and stderr to files in the
directory) and every process reads the result from there. The command's exit status lands in
`returncode` when it ends, so any worker can wait for it; the process that owns the run (the
xdist controller, or pytest itself without xdist) stops what is still running at the end.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pytest

SHARED = pytest.StashKey[Path]()
"""The run's shared directory (tests/conftest.py makes it): one per run, shared by xdist workers."""
POLL_SECONDS = 0.05
# `sh -c _RECORD_STATUS sh STATUS_FILE COMMAND...`: runs COMMAND, then records its exit status
# (renamed into place, so a reader never sees a half-written file).
_RECORD_STATUS = 'f=$1; shift; "$@"; status=$?; echo $status > "$f.tmp"; mv "$f.tmp" "$f"'


class Job:
    """One command of the run, identified by its directory `shared / name`."""

    def __init__(self, shared: Path, name: str) -> None:
        self.directory = shared / name
        self.stdout = self.directory / "stdout"
        self.stderr = self.directory / "stderr"
        self._returncode = self.directory / "returncode"
        self._pid = self.directory / "pid"

    def claim(self) -> bool:
        """True for the one process that gets to start this job (creating its directory)."""
        try:
            self.directory.mkdir(parents=True)
        except FileExistsError:
            return False
        return True

    def start(
        self,
        command: Sequence[str],
        cwd: Path,
        env: Mapping[str, str] | None = None,
        prepare: Callable[[], None] | None = None,
    ) -> bool:
        """Start `command` unless another process already has; `prepare` runs first (in the
        process that starts it). False when the job was already claimed."""
        if not self.claim():
            return False
        try:
            if prepare is not None:
                prepare()
            with self.stdout.open("wb") as out, self.stderr.open("wb") as err:
                process = subprocess.Popen(
                    ["sh", "-c", _RECORD_STATUS, "sh", str(self._returncode), *command],
                    cwd=cwd,
                    env=None if env is None else dict(env),
                    stdout=out,
                    stderr=err,
                    start_new_session=True,  # its own process group: stop() reaches its children
                )
        except Exception as error:  # the waiters get a status, not a hang
            self.stderr.write_text(f"could not start {list(command)}: {error!r}\n")
            self._returncode.write_text("1\n")
            raise
        self._pid.write_text(str(process.pid))
        _STARTED.append(process)
        return True

    def wait(self, timeout_seconds: float) -> int:
        """The command's exit status, once it has ended (claimed but never started: waits)."""
        deadline = time.monotonic() + timeout_seconds
        while not self._returncode.is_file():
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.directory.name} still running after {timeout_seconds}s")
            time.sleep(POLL_SECONDS)
        return int(self._returncode.read_text())

    def stop(self) -> None:
        """Kill the command's process group if it is still running."""
        if self._returncode.is_file() or not self._pid.is_file():
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(int(self._pid.read_text()), signal.SIGKILL)


_STARTED: list[subprocess.Popen[bytes]] = []
"""This process's children, reaped when it ends."""


def stop_all(shared: Path) -> None:
    """Stop every job of the run still running, then reap this process's own children."""
    if shared.is_dir():
        for directory in shared.iterdir():
            if directory.is_dir():
                Job(shared, directory.name).stop()
    for process in _STARTED:
        process.wait(timeout=10)
    _STARTED.clear()
