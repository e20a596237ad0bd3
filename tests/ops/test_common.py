"""ops/common.py: one output-directory rule, one error type, one error-to-exit wrapper."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from ops import common
from ops.__main__ import build_parser


def _handlers() -> dict[str, object]:
    parser = build_parser()
    found: dict[str, object] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                nested = [a for a in sub._actions if isinstance(a, argparse._SubParsersAction)]
                targets = nested[0].choices.items() if nested else [(name, sub)]
                for leaf, leaf_parser in targets:
                    found[leaf] = leaf_parser.get_default("handler")
    return found


def test_every_command_reports_errors_through_the_one_wrapper() -> None:
    handlers = _handlers()
    assert {"run-task", "cost", "diagram", "preflight", "deploy", "logs"} <= set(handlers)
    for name, handler in handlers.items():
        assert getattr(handler, "__qualname__", "") == "handle.<locals>.handler", name


def test_the_wrapper_turns_an_ops_error_into_its_message_and_exit_code(
    capsys: pytest.CaptureFixture[str],
) -> None:
    def body(args: argparse.Namespace) -> int:
        raise common.OpsError("no stack 'qa'", common.EXIT_AWS_ERROR)

    assert common.handle(body)(argparse.Namespace()) == common.EXIT_AWS_ERROR
    assert capsys.readouterr().err == "error: no stack 'qa'\n"


def test_outdir_rule_honours_cdktf_outdir_like_main(monkeypatch: pytest.MonkeyPatch) -> None:
    import main

    monkeypatch.delenv(common.OUTDIR_VARIABLE, raising=False)
    assert common.default_outdir() == common.PROJECT_ROOT / "cdktf.out"
    monkeypatch.setenv(common.OUTDIR_VARIABLE, "elsewhere/out")
    assert common.default_outdir() == Path("elsewhere/out")
    assert main.default_outdir is common.default_outdir


def test_every_synthesized_job_spec_follows_the_run_task_contract(
    synthesized: dict[str, dict[str, object]],
) -> None:
    """modules/job.py emits exactly RunTaskSpec's keys, and ops parses each spec it emits."""
    from envs import load_environments
    from ops import run_task
    from ops.run_task_contract import REQUIRED_KEYS, SPECS_OUTPUT, RunTaskSpec

    declared = set(RunTaskSpec.__annotations__)
    optional = set(RunTaskSpec.__optional_keys__)
    checked = 0
    for env in load_environments():
        output = synthesized[env.name].get("output", {})
        specs = output.get(SPECS_OUTPUT, {}).get("value", {})  # type: ignore[attr-defined]
        assert set(specs) == {job.name for job in env.jobs}
        for name, spec in specs.items():
            assert declared - optional <= set(spec) <= declared, name
            assert set(REQUIRED_KEYS) <= set(spec)
            family = f"{env.project}-{env.name}-{name}"
            arn = f"arn:aws:ecs:{env.region}:{env.account_id}:task-definition/{family}:3"
            resolved = {**spec, "task_definition_arn": arn, "task_definition_family": family}
            parsed = run_task.JobSpec.parse(name, resolved, "synth")
            assert parsed.task_definition_family == family
            checked += 1
    assert checked >= 1


def test_a_spec_whose_arn_names_another_family_is_refused() -> None:
    from ops import run_task

    raw = {
        "cluster_arn": "arn:aws:ecs:ap-northeast-1:123456789012:cluster/fargate-dev",
        "task_definition_arn": "arn:aws:ecs:ap-northeast-1:123456789012:task-definition/b:1",
        "task_definition_family": "a",
        "container_name": "x",
        "subnets": ["s"],
        "security_groups": ["g"],
    }
    with pytest.raises(common.OpsError) as caught:
        run_task.JobSpec.parse("a", raw, "f.json")
    assert "is not a revision of task_definition_family 'a'" in str(caught.value)
