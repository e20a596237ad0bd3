"""Synthesize every environment's Terraform JSON into cdktf.out/ (atomically).

    python main.py                 # all environments in envs.DEFAULT_ENVIRONMENTS
    python main.py --env dev       # a subset (the bootstrap stack covers the selected ones)
    python main.py --check         # validate the config only; never loads the AWS provider

A rejected config prints one line per problem and exits 2, leaving any existing output as it
was. Synth writes into a sibling temporary directory and swaps it in only when complete.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from envs import DEFAULT_ENVIRONMENTS, ConfigError, EnvironmentConfig, load_environments

EXIT_CONFIG_ERROR = 2


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--env",
        action="append",
        dest="envs",
        metavar="NAME",
        help=f"environment to synthesize (repeatable; default: {', '.join(DEFAULT_ENVIRONMENTS)})",
    )
    parser.add_argument(
        "--check", action="store_true", help="validate the configuration only, then exit"
    )
    parser.add_argument(
        "--outdir",
        default=os.environ.get("CDKTF_OUTDIR", "cdktf.out"),
        help="output directory (default: $CDKTF_OUTDIR or cdktf.out)",
    )
    return parser.parse_args(argv)


def synthesize(environments: tuple[EnvironmentConfig, ...], outdir: Path) -> None:
    """Synthesize into `<outdir>.tmp-<pid>`, then swap it into place."""
    from stacks.app import build_app  # loads the provider: only after the config is valid

    outdir = outdir.resolve()
    staging = outdir.with_name(f"{outdir.name}.tmp-{os.getpid()}")
    retired = outdir.with_name(f"{outdir.name}.old-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        app, _, _ = build_app(environments, outdir=str(staging))
        app.synth()
        if outdir.exists():
            outdir.rename(retired)
        staging.rename(outdir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(retired, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        environments = load_environments(args.envs or DEFAULT_ENVIRONMENTS)
    except ConfigError as error:
        print(error.render(), file=sys.stderr)
        return EXIT_CONFIG_ERROR
    if args.check:
        print(f"configuration valid: {', '.join(env.name for env in environments)}")
        print_warnings(environments)
        return 0
    synthesize(environments, Path(args.outdir))
    names = [env.name for env in environments]
    print(f"synthesized {', '.join(names)} and state-bootstrap into {args.outdir}/stacks/")
    print_warnings(environments)
    return 0


def print_warnings(environments: tuple[EnvironmentConfig, ...]) -> None:
    """Valid but not deployable as is (placeholder zones), on stderr.

    These belong in the preflight (ops/preflight.py, being added on another branch) once it
    exists; until then the check and synth summaries carry them.
    """
    from envs.domain import placeholder_warning

    for env in environments:
        warning = placeholder_warning(env)
        if warning:
            print(f"warning: {warning}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
