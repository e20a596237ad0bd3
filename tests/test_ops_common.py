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
