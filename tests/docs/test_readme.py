"""Every README code block that shows configuration or a command is executed here, against a
copy of the project, so the documentation can never crash or drift again.

Each block is classified by one handler below; a block no handler claims fails
`test_every_block_is_claimed`, so a new example needs a way to run it. Commands that need AWS
or tools this machine does not have (the CDKTF CLI, `terraform apply`) are run as far as
possible offline: their make target is dry-run, their stack or job names must exist in the
synthesized output, their `python -m ops` arguments must parse.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shlex
import subprocess
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.background import SHARED, Job
from tests.example_envs import build_example
from tests.project_copy import ROOT, example_copy, full_copy

FENCE = re.compile(r"^(\s*)```(\w*)\s*$")


@dataclass(frozen=True)
class Block:
    line: int
    lang: str
    text: str

    @property
    def id(self) -> str:
        return f"README.md:{self.line}:{self.lang or 'plain'}"


def readme_blocks() -> list[Block]:
    lines = (ROOT / "README.md").read_text().splitlines()
    blocks, index = [], 0
    while index < len(lines):
        opened = FENCE.match(lines[index])
        if opened is None:
            index += 1
            continue
        end = next(i for i in range(index + 1, len(lines)) if lines[i].strip() == "```")
        body = textwrap.dedent("\n".join(lines[index + 1 : end]))
        blocks.append(Block(index + 1, opened.group(2), body))
        index = end + 1
    return blocks


BLOCKS = readme_blocks()


def shell_env(project: Path, **env: str) -> dict[str, str]:
    """The environment of a shell in the copy, with the venv's python first on PATH (as after
    setup). Under `make test` the outer make's variables would make the inner one print
    "Entering directory" lines: run as a user at a shell would."""
    path = f"{project / '.venv' / 'bin'}{os.pathsep}{os.environ['PATH']}"
    outer_make = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")
    inherited = {k: v for k, v in os.environ.items() if k not in outer_make}
    return {**inherited, "PATH": path, "CDKTF_OUTDIR": "", **env}


def run(project: Path, command: str, **env: str) -> subprocess.CompletedProcess[str]:
    """One shell command in the copy."""
    return subprocess.run(
        ["bash", "-c", command],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
        env=shell_env(project, **env),
    )


SYNTH_TIMEOUT_SECONDS = 300


def start_synth_copy(job: Job) -> Path:
    """A full copy, and the README's first command (`make synth`) started in it, once per test
    run (tests/conftest.py starts it as soon as the session synth is done, beside the tests
    that read the session synth); returns the copy."""
    project = job.directory / "project"  # where full_copy puts it

    def copy() -> None:
        assert full_copy(job.directory, examples=True) == project

    # Two synth processes whatever the load (main.py's choice on an idle machine): the session
    # synth is one process, and test_two_process_synth_writes_what_one_writes compares the two.
    env = shell_env(project, FARGATE_SYNTH_PROCESSES="2")
    job.start(["bash", "-c", "make synth"], cwd=project, env=env, prepare=copy)
    return project


@pytest.fixture(scope="module")
def synthesized_copy(request: pytest.FixtureRequest) -> tuple[Path, str]:
    """A full copy after the README's first command, `make synth` (its output kept)."""
    job = Job(request.config.stash[SHARED], "readme")
    project = start_synth_copy(job)  # no-op when already started
    returncode = job.wait(SYNTH_TIMEOUT_SECONDS)
    stdout, stderr = job.stdout.read_text(), job.stderr.read_text()
    assert returncode == 0, stderr
    return project, stdout + stderr


# --- handlers: each claims some blocks and executes them ----------------------------------------


def console_steps(text: str) -> list[tuple[str, list[str]]]:
    """`$ command` lines with the output lines that follow each."""
    steps: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        else:
            steps[-1][1].append(line)
    return steps


def matches(actual: list[str], expected: list[str]) -> bool:
    """Line by line; `...` inside an expected line stands for text the README leaves out."""
    if len(actual) != len(expected):
        return False
    return all(
        re.fullmatch(".*".join(re.escape(part) for part in want.split("...")), got) is not None
        for got, want in zip(actual, expected, strict=True)
    )


def is_subsequence(actual: list[str], expected: list[str]) -> bool:
    remaining = iter(expected)
    return all(any(line == candidate for candidate in remaining) for line in actual)


def check_console(block: Block, synthesized_copy: tuple[Path, str], tmp_path: Path) -> None:
    project, synth_output = synthesized_copy
    last_status = 0
    for command, expected in console_steps(block.text):
        command, _, comment = command.partition("  #")
        command = command.strip()
        edit = re.fullmatch(r"\s*with (envs/\w+\.py): (\"\w+\": .+)", comment)
        if command == "make synth":
            # On a fresh clone make first sets up .venv (the first lines); here it exists.
            actual = synth_output.splitlines()
            assert is_subsequence(actual, expected), (actual, expected)
            assert actual[-2:] == expected[-2:]
        elif command == "echo $?":
            assert expected == [str(last_status)]
        elif edit is not None:
            # A config mistake shown on purpose: make it in a fresh copy, compare verbatim.
            broken = example_copy(tmp_path)
            file = broken / edit.group(1)
            key = edit.group(2).split(":")[0]
            source = file.read_text()
            assert key in source, f"{block.id}: {file.name} has no {key}"
            file.write_text(re.sub(rf"{key}: [^,\n]+", edit.group(2), source, count=1))
            result = run(broken, command.replace("python ", f"{sys.executable} ", 1))
            last_status = result.returncode
            assert matches((result.stdout + result.stderr).splitlines(), expected)
        elif command in ("make test", "make bench", "make bench-setup"):
            # The suite cannot run itself, and the benchmarks take minutes: dry-run the target
            # and check it runs the command shown; their numbers vary run to run.
            result = run(project, f"make -n {command.split()[1]}")
            assert result.returncode == 0, result.stderr
            if command == "make test":  # the suite, then the five-edit proof (same command + -m)
                recipe = result.stdout.splitlines()
                assert recipe[-2] == expected[0] and recipe[-1] == f"{expected[0]} -m five_edits"
        elif command.startswith("CHECKPOINT_DISABLE=1 cdktf synth"):
            # The CDKTF CLI runs cdktf.json's app: the same program `make synth` runs.
            app = (project / "cdktf.json").read_text()
            assert '"app": ".venv/bin/python main.py"' in app
            # Its output is the program's, then its own last line.
            shown = len(expected) - 1
            assert expected[:shown] == synth_output.splitlines()[-shown:]
        else:
            result = run(project, command)
            last_status = result.returncode
            assert result.returncode == 0, result.stderr
            actual = result.stdout.splitlines()
            if command.startswith("ls "):  # a terminal lays names out in columns
                actual, expected = result.stdout.split(), " ".join(expected).split()
            assert matches(actual, expected), command


def check_shell(block: Block, synthesized_copy: tuple[Path, str], tmp_path: Path) -> None:
    project, _ = synthesized_copy
    stacks = {p.name for p in (project / "cdktf.out" / "stacks").iterdir()}
    for line in block.text.splitlines():
        command = line.split("#")[0].strip()
        if not command:
            continue
        words = shlex.split(command.split("|")[-1])
        if words[0] == "make":
            assert run(project, f"make -n {words[1]}").returncode == 0, command
        elif words[0] == "cdktf":
            # Needs the CDKTF CLI and AWS: the stack it names must exist.
            assert words[1] in ("deploy", "diff", "synth") and words[2] in stacks, command
        elif words[:3] == ["python", "-m", "ops"]:
            from ops.__main__ import build_parser

            args = build_parser().parse_args(words[3:])
            if args.command_name == "preflight":  # offline: run it on the synthesized copy
                result = run(project, command)
                assert result.returncode == 0, result.stdout + result.stderr
                continue
            if getattr(args, "env", None) and isinstance(args.env, str):
                assert args.env in stacks, command
            specs = run(
                project,
                f"{sys.executable} -c \"import json; d=json.load(open('cdktf.out/stacks/"
                f"{args.env}/cdk.tf.json')); print(' '.join(d['output']['run_task_specs']"
                "['value']))\"",
            )
            assert args.job in specs.stdout.split(), command
        else:
            pytest.fail(f"{block.id}: no way to run {command!r}")


def check_add_service(block: Block, synthesized_copy: tuple[Path, str], tmp_path: Path) -> None:
    """Do exactly what the README says: paste the entry under `services` in envs/base.py."""
    snippet = ast.literal_eval("{" + block.text + "}")
    assert list(snippet) == ["services"]
    project = example_copy(tmp_path)
    base = project / "envs" / "base.py"
    entries = textwrap.indent(textwrap.dedent("\n".join(block.text.splitlines()[1:-1])), " " * 8)
    anchor = '    "services": {\n'
    assert anchor in base.read_text()
    base.write_text(base.read_text().replace(anchor, anchor + entries + "\n", 1))
    # Valid in every environment (the copy, through main.py) ...
    checked = run(project, f"{sys.executable} main.py --check")
    assert checked.returncode == 0, checked.stderr
    # ... and it synthesizes with zero preflight findings: in this process (the provider is
    # loaded once per session), from the same edit, for dev.
    from cdktf import App

    from envs import build_environment, merge
    from ops.preflight import load, preflight
    from stacks.platform import PlatformStack
    from tests.example_envs.base import BASE
    from tests.example_envs.dev import OVERRIDES

    dev = build_environment(OVERRIDES, base=merge(BASE, snippet), source="README")
    app = App(outdir=str(tmp_path / "out"))
    PlatformStack(app, dev)
    app.synth()
    (stack,) = load(tmp_path / "out", None)
    assert preflight([stack]) == []
    names = {s["name"] for s in stack.resources("aws_ecs_service").values()}
    assert {f"fargate-dev-{name}" for name in snippet["services"]} <= names


def check_overrides_example(
    block: Block, synthesized_copy: tuple[Path, str], tmp_path: Path
) -> None:
    """An `OVERRIDES = {...}` example: valid over dev, and it synthesizes with zero preflight
    findings (in this process, where the provider is already loaded)."""
    from cdktf import App

    from envs import merge
    from ops.preflight import load, preflight
    from stacks.platform import PlatformStack
    from tests.example_envs.dev import OVERRIDES as DEV

    namespace: dict[str, Any] = {}
    exec(compile(block.text, block.id, "exec"), namespace)  # the README's own example
    env = build_example(merge(DEV, namespace["OVERRIDES"]), source=block.id)
    app = App(outdir=str(tmp_path / "out"))
    PlatformStack(app, env)
    app.synth()
    (stack,) = load(tmp_path / "out", None)
    assert preflight([stack]) == []


def check_egress_message(block: Block, synthesized_copy: tuple[Path, str], tmp_path: Path) -> None:
    """The sample gap: dev without NAT and without its ssmmessages endpoint."""
    project = example_copy(tmp_path)
    dev = project / "envs" / "dev.py"
    source = dev.read_text()
    for old, new in (
        ('"nat_mode": "single"', '"nat_mode": "none"'),
        ('"interface": ["ssmmessages", "kms", "sqs"]', '"interface": ["kms", "sqs"]'),
    ):
        assert old in source, old
        source = source.replace(old, new)
    dev.write_text(source)
    result = run(project, f"{sys.executable} main.py --check")
    assert result.returncode == 2
    assert f"  {block.text.strip()}" in result.stderr.splitlines(), result.stderr


def check_testing_snippet(block: Block, synthesized_copy: tuple[Path, str], tmp_path: Path) -> None:
    exec(compile(block.text, block.id, "exec"), {})  # the README's own example, verbatim


def check_release_sample(block: Block, synthesized_copy: tuple[Path, str], tmp_path: Path) -> None:
    """Release samples need AWS: tests/ops/test_release.py runs each against moto's server and
    compares its output (test_readme_release_examples_are_real); here: they are those blocks."""
    from tests.ops.test_release import readme_samples

    command = block.text.splitlines()[0].removeprefix("$ ")
    assert command in [c for c, _ in readme_samples((ROOT / "README.md").read_text())]


def check_waf_exclusion(block: Block, synthesized_copy: tuple[Path, str], tmp_path: Path) -> None:
    """The WAF exclusion snippet, merged into dev, validates and makes exactly that rule count."""
    from envs import merge
    from envs.schema.alb import ManagedRuleGroup
    from tests.example_envs.dev import OVERRIDES as DEV

    snippet = ast.literal_eval("{" + block.text.strip().rstrip(",") + "}")
    assert list(snippet) == ["waf"]
    env = build_example(merge(DEV, snippet), source="README.md")
    assert env.waf.count_only_rules == {ManagedRuleGroup.COMMON: ("SizeRestrictions_BODY",)}


def not_a_command(block: Block, synthesized_copy: tuple[Path, str], tmp_path: Path) -> None:
    """Diagrams (kept in sync by tests/docs/test_generated.py) and the directory layout."""
    assert block.lang in ("mermaid", "")


Handler = Callable[[Block, tuple[Path, str], Path], None]
HANDLERS: list[tuple[Callable[[Block], bool], Handler]] = [
    (lambda b: b.lang == "console", check_console),
    (lambda b: b.lang == "sh", check_shell),
    (lambda b: b.lang == "shell-session", check_release_sample),
    (lambda b: b.lang == "python" and b.text.startswith('"services": {'), check_add_service),
    (lambda b: b.lang == "python" and "Testing.synth" in b.text, check_testing_snippet),
    (lambda b: b.lang == "python" and b.text.startswith("OVERRIDES = {"), check_overrides_example),
    (lambda b: b.lang == "python" and b.text.startswith('"waf": {'), check_waf_exclusion),
    (lambda b: b.lang == "text" and "needs the" in b.text, check_egress_message),
    (
        lambda b: b.lang in ("mermaid", "") and "main.py" not in b.text.split("\n")[0][:0],
        not_a_command,
    ),
]


def handler_of(block: Block) -> Handler | None:
    claimed = [handler for claims, handler in HANDLERS if claims(block)]
    return claimed[0] if len(claimed) == 1 else None


def test_every_block_is_claimed() -> None:
    assert len(BLOCKS) >= 10
    unclaimed = [block.id for block in BLOCKS if handler_of(block) is None]
    assert not unclaimed, f"README blocks with no (or several) ways to run them: {unclaimed}"


@pytest.mark.parametrize("block", BLOCKS, ids=[block.id for block in BLOCKS])
def test_readme_block_runs(
    block: Block, synthesized_copy: tuple[Path, str], tmp_path: Path, synthesized: Any
) -> None:
    handler = handler_of(block)
    assert handler is not None
    handler(block, synthesized_copy, tmp_path)


def test_two_process_synth_writes_what_one_writes(
    synthesized_copy: tuple[Path, str], synth_outdir: Path
) -> None:
    """The copy's `make synth` ran in two processes (see start_synth_copy), the session synth
    in one: every stack and the merged manifest (cdktf's format) are byte-identical."""
    import main
    from envs import DEFAULT_ENVIRONMENTS
    from tests.constants import BOOTSTRAP_STACK
    from tests.project_copy import EXAMPLE_ENVS, EXAMPLE_NAMES

    # The copy synthesizes the frozen example (start_synth_copy); the session synth, the user's
    # envs/. They are comparable while envs/ is the shipped example (as in this repository).
    shipped = tuple(DEFAULT_ENVIRONMENTS) == EXAMPLE_NAMES and all(
        (ROOT / "envs" / f"{name}.py").read_text() == (EXAMPLE_ENVS / f"{name}.py").read_text()
        for name in ("base", *EXAMPLE_NAMES)
    )
    if not shipped:
        pytest.skip("envs/ differs from tests/example_envs: nothing byte-identical to compare")
    out = synthesized_copy[0] / "cdktf.out"
    text = (out / "manifest.json").read_text()
    names = sorted(json.loads(text)["stacks"])
    assert names == sorted([*DEFAULT_ENVIRONMENTS, BOOTSTRAP_STACK])
    session = json.loads((synth_outdir / "manifest.json").read_text())
    expected = {**session, "stacks": {name: session["stacks"][name] for name in names}}
    assert text == main.cdktf_manifest_text(expected)
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json", "stacks"]  # merged whole
    assert sorted(p.name for p in (out / "stacks").iterdir()) == names
    for name in names:
        produced = (out / "stacks" / name / "cdk.tf.json").read_bytes()
        assert produced == (synth_outdir / "stacks" / name / "cdk.tf.json").read_bytes(), name
