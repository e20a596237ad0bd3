"""`modules.literal`: user text is escaped for Terraform, nothing else changes (no synth)."""

from __future__ import annotations

from envs import load_environments, merge
from envs.schema.service import Exposure
from modules.literal import escape, literal
from tests.variants import TEMPLATE_LOOKALIKE, variant


def test_escape_doubles_the_template_introducers_only() -> None:
    assert escape("a ${b} %{c} $d %e {f}") == "a $${b} %%{c} $d %e {f}"
    assert escape("$${x}") == "$$${x}"  # Terraform reads it back as $${x}
    assert escape("plain") == "plain"


def test_every_user_string_in_the_config_is_escaped_and_the_rest_kept() -> None:
    env = variant(
        "literal",
        "10.20.0.0/24",
        merge(
            {"services": {"frontend": {"environment": {"GREETING": TEMPLATE_LOOKALIKE}}}},
            {"jobs": {"migrate": {"command": ["sh", "-c", TEMPLATE_LOOKALIKE]}}},
        ),
    )
    escaped = literal(env)
    frontend = next(s for s in escaped.services if s.name == "frontend")
    assert frontend.environment["GREETING"] == escape(TEMPLATE_LOOKALIKE)
    migrate = next(j for j in escaped.jobs if j.name == "migrate")
    assert migrate.command == ("sh", "-c", escape(TEMPLATE_LOOKALIKE))
    assert frontend.exposure is Exposure.PUBLIC  # enums stay enums
    assert escaped.network.vpc_cidr == env.network.vpc_cidr
    assert escaped.network.subnets == env.network.subnets


def test_configs_without_template_text_are_unchanged() -> None:
    for env in load_environments():
        assert literal(env) == env
