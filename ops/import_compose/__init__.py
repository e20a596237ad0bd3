"""Turn a docker-compose file into service and job configuration for `envs/`.

    python -m ops import-compose docker-compose.yml > imported.py
    python -m ops import-compose compose.yaml --account-id 210987654321 --region eu-west-1

Prints a Python literal `IMPORTED = {"services": {...}, "jobs": {...}, "buckets": {},
"file_systems": {...}}` to paste into `envs/base.py`, preceded by one comment line per
compose feature it could not map and why (data stores that belong to managed AWS services,
host bind mounts, privileged settings...).
What maps: images (a `build` becomes the project's ECR repository; services built from the same
context share one image with `same_image_as`), `command`/`entrypoint`, ports (the service
published on port 80/443, else the first one with published ports, is public; other services
with ports are internal), `environment`, `env_file` variable names as secrets (SSM parameter
ARNs to create; values are never copied), secret-looking variables as secrets, `healthcheck`,
callers of internal services (from `depends_on`, `links` and URLs in environment values),
`deploy` replicas and resource limits (rounded up to a Fargate size), `platform`, named
volumes as EFS file systems (mounted through each workload's access point), and one-shot
services other services wait for (`service_completed_successfully`) as jobs.

The result is then validated like `make check` against every environment in
`envs.DEFAULT_ENVIRONMENTS` (their service and job overrides left out); remaining problems are
printed as comments too.

Exit status: 0 imported and valid; 1 imported, but `make check` would reject it (see the
comments); 2 the compose file cannot be read.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from ops.common import EXIT_FAILED, EXIT_OK, OpsError, handle
from ops.import_compose.compose import fargate_size, load_compose
from ops.import_compose.converter import Converter, check, convert
from ops.import_compose.model import ComposeError, Imported, Options
from ops.import_compose.render import render

__all__ = [
    "ComposeError",
    "Converter",
    "Imported",
    "Options",
    "check",
    "convert",
    "fargate_size",
    "load_compose",
    "register",
    "render",
    "run",
]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `import-compose` subcommand."""
    parser = subparsers.add_parser(
        "import-compose",
        help="print service/job config for envs/ from a docker-compose file",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("compose_file", type=Path, metavar="COMPOSE_FILE")
    parser.add_argument(
        "--account-id",
        default="123456789012",
        help="account of the SSM parameters secrets are read from (default: %(default)s)",
    )
    parser.add_argument(
        "--region", default=None, help="region of those parameters (default: the state region)"
    )
    parser.set_defaults(handler=handle(run))


def run(args: argparse.Namespace) -> int:
    """The `import-compose` handler."""
    from envs.base import BASE

    if not re.fullmatch(r"\d{12}", args.account_id):
        raise OpsError(f"--account-id {args.account_id!r} is not a 12-digit account")
    compose = load_compose(args.compose_file)
    options = Options(
        account_id=args.account_id,
        region=args.region or str(BASE["state"]["region"]),
        project=str(BASE["project"]),
        base_dir=args.compose_file.parent,
    )
    imported = convert(compose, options)
    problems = check(imported)
    sys.stdout.write(render(imported, args.compose_file.name, problems))
    return EXIT_FAILED if problems else EXIT_OK
