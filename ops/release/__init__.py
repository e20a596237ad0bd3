"""Release images to services without drift: deploy, promote, rollback and status.

    python -m ops deploy   --env dev --service backend --image 1.4.2       # tag or sha256 digest
    python -m ops deploy   --env dev --service backend                     # roll out the template
    python -m ops deploy   --env dev --all                                 # ... of every service
    python -m ops promote  --from dev --to stg --service backend
    python -m ops rollback --env dev --service backend [--to sha256:...|VERSION]
    python -m ops status   --env dev [--service backend] [--json]

Terraform owns each service's task template (SSM parameter `/<prefix>/release/<svc>/template`);
these commands own the released image (`/<prefix>/release/<svc>/image`, whose parameter
history is the release history). A deploy resolves the image to its ECR digest, registers
template + digest as a task definition revision, updates the service, records the release and
follows the rollout until it is steady (exit 0) or rolled back (exit 1, and the record is
restored to the image that runs again).

Exit status: 0 steady; 1 the rollout failed (rolled back); 2 bad input or refused credentials
(wrong account/region); 3 AWS error; 4 image refused (missing, critical scan findings, not
released in the environment it must come from); 124 timed out (the deployment goes on);
130 interrupted (the deployment goes on).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from ops.aws import Aws, check_service, connect, environment, now, say
from ops.common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_REFUSED,
    OpsError,
    handle,
    positive_seconds,
)
from ops.release.ecs import describe_service, matches, running_image, task_definition
from ops.release.following import Rollout, last_log_lines, revision_of, stopped_tasks
from ops.release.images import check_promotion_rule, resolve_image
from ops.release.parameters import (
    RESTORED,
    ServiceRelease,
    aws_failure,
    load_release,
    ran,
    release_history,
)
from ops.release.status import print_status, run_status, service_status
from ops.release_contract import (
    DIGEST,
    ReleaseRecord,
)

__all__ = [
    "RESTORED",
    "Rollout",
    "ServiceRelease",
    "check_promotion_rule",
    "describe_service",
    "last_log_lines",
    "load_release",
    "matches",
    "print_status",
    "ran",
    "register",
    "release_history",
    "release_image",
    "resolve_image",
    "run_deploy",
    "run_promote",
    "run_rollback",
    "run_status",
    "running_image",
    "service_status",
    "stopped_tasks",
    "task_definition",
]


# --------------------------------------------------------------------------- arguments


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `deploy`, `promote`, `rollback` and `status`."""
    deploy = _parser(subparsers, "deploy", "release an image (tag or digest) to a service")
    deploy.add_argument("--env", required=True, help="environment, e.g. dev")
    which = deploy.add_mutually_exclusive_group(required=True)
    which.add_argument("--service", help="service name")
    which.add_argument(
        "--all",
        action="store_true",
        help="every service with its released image (after `terraform apply` changed templates)",
    )
    deploy.add_argument(
        "--image",
        help="tag (1.4.2), digest (sha256:...) or <repository>:<tag>|@<digest>; default: the "
        "released image again (rolls out a changed template)",
    )
    _follow_options(deploy)
    deploy.set_defaults(handler=handle(run_deploy))

    promote = _parser(subparsers, "promote", "release the digest running in one env to another")
    promote.add_argument("--from", dest="source", required=True, help="source environment")
    promote.add_argument("--to", dest="target", required=True, help="target environment")
    promote.add_argument("--service", required=True, help="service name")
    _follow_options(promote)
    promote.set_defaults(handler=handle(run_promote))

    rollback = _parser(subparsers, "rollback", "go back to the previous (or a given) release")
    rollback.add_argument("--env", required=True, help="environment")
    rollback.add_argument("--service", required=True, help="service name")
    rollback.add_argument(
        "--to", dest="to", help="digest (sha256:...) or release version (see `ops status`)"
    )
    _follow_options(rollback)
    rollback.set_defaults(handler=handle(run_rollback))

    status = _parser(subparsers, "status", "services, rollouts, released vs running image")
    status.add_argument("--env", required=True, help="environment")
    status.add_argument("--service", help="one service (default: all)")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.set_defaults(handler=handle(run_status))


def _parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser], name: str, help_: str
) -> argparse.ArgumentParser:
    return subparsers.add_parser(
        name, help=help_, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )


def _follow_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--timeout",
        type=positive_seconds,
        metavar="SECONDS",
        help="stop following after this long (default: the env's release.rollout_timeout_seconds)",
    )
    parser.add_argument(
        "--poll-interval",
        type=positive_seconds,
        default=10.0,
        metavar="SECONDS",
        help="default: 10",
    )


# --------------------------------------------------------------------------- releasing


def release_image(
    aws: Aws,
    service: str,
    image: str | None,
    *,
    action: str,
    timeout: float | None,
    poll_interval: float,
    source: str | None = None,
) -> int:
    """Resolve, check, record, register, update and follow; the exit code."""
    release = load_release(aws, service)
    reference = image or release.record.image
    resolved = resolve_image(release, reference)
    if action != "rollback" and image is not None and resolved != release.record.image:
        check_promotion_rule(aws, service, resolved)  # a new image for this environment
    rendered = release.template.render(resolved)
    current = describe_service(aws, release.template)
    deadline = time.monotonic() + (timeout or aws.env.release.rollout_timeout_seconds)
    started = now()
    current_arn = str(current.get("taskDefinition", ""))
    if current_arn and matches(rendered, task_definition(aws, current_arn)):
        _record(release, resolved, action=action, source=source)
        say(f"{service} in {aws.env.name} already runs {resolved} with the current template")
        return _follow(Rollout(release, current_arn, deadline, poll_interval), started)
    ecs = aws.client("ecs")
    try:
        arn = str(ecs.register_task_definition(**rendered)["taskDefinition"]["taskDefinitionArn"])
        say(f"registered {revision_of(arn)} ({resolved})")
        ecs.update_service(
            cluster=release.template.cluster, service=release.template.service, taskDefinition=arn
        )
    except Exception as error:
        raise aws_failure(error, "registering the revision / updating the service") from None
    say(f"updated {release.template.service}: rolling out {revision_of(arn)}")
    previous = release.record
    _record(release, resolved, action=action, source=source)
    code = _follow(Rollout(release, arn, deadline, poll_interval), started)
    if code == EXIT_FAILED and previous.image != resolved:
        # ECS rolled back to the previous revision: the record follows what runs.
        _write_record(release, replace(previous, action=RESTORED, released_at=_stamp()))
        say(f"release record of {service} restored to {previous.image}")
    return code


def _follow(rollout: Rollout, started: Any) -> int:
    try:
        return rollout.follow(started)
    except KeyboardInterrupt:
        raise OpsError(
            f"interrupted; the deployment of {revision_of(rollout.task_definition_arn)} keeps "
            f"going. Follow it with:\n  {rollout.release.status_command()}",
            EXIT_INTERRUPTED,
        ) from None


def _stamp() -> str:
    return now().strftime("%Y-%m-%dT%H:%M:%SZ")


def _record(release: ServiceRelease, image: str, *, action: str, source: str | None) -> None:
    if release.record.image == image:
        return  # an identical re-run: one release, one history entry
    record = ReleaseRecord(
        image=image,
        previous_image=release.record.image,
        released_by=release.aws.caller,
        released_at=_stamp(),
        action=action,
        source=source,
    )
    _write_record(release, record)
    say(f"recorded {action} of {image} in {release.record_parameter}")


def _write_record(release: ServiceRelease, record: ReleaseRecord) -> None:
    try:
        release.aws.client("ssm").put_parameter(
            Name=release.record_parameter, Value=record.to_json(), Type="String", Overwrite=True
        )
    except Exception as error:
        raise aws_failure(error, f"recording the release in {release.record_parameter}") from None
    release.record = record


def run_deploy(args: argparse.Namespace) -> int:
    env = environment(args.env)
    if args.all and args.image:
        raise OpsError("--all rolls out each service's released image; drop --image")
    names = [s.name for s in env.services] if args.all else [check_service(env, args.service)]
    aws = connect(env)
    for name in names:
        code = release_image(
            aws,
            name,
            args.image,
            action="deploy",
            timeout=args.timeout,
            poll_interval=args.poll_interval,
        )
        if code != EXIT_OK:
            return code
    return EXIT_OK


def run_promote(args: argparse.Namespace) -> int:
    if args.source == args.target:
        raise OpsError(f"--from and --to are both {args.source!r}; name two environments")
    source_env, target_env = environment(args.source), environment(args.target)
    check_service(source_env, args.service)
    check_service(target_env, args.service)
    rule = target_env.release.promote_from
    if rule is not None and rule != source_env.name:
        raise OpsError(
            f"{target_env.name} takes releases from {rule}, not {source_env.name} "
            f"(envs/{target_env.name}.py release.promote_from); use --from {rule}"
        )
    source = connect(source_env)
    release = load_release(source, args.service)
    service = describe_service(source, release.template)
    primary: Mapping[str, Any] = next(
        (d for d in service.get("deployments", []) if d["status"] == "PRIMARY"), {}
    )
    if primary.get("rolloutState") not in (None, "COMPLETED"):
        raise OpsError(
            f"{args.service} in {source_env.name} is still rolling out "
            f"({primary.get('rolloutState')}); promote once it is steady",
            EXIT_REFUSED,
        )
    image = running_image(source, service, release.template.container_name)
    digest = ReleaseRecord(image=image or "").digest
    if digest is None:
        raise OpsError(
            f"{args.service} in {source_env.name} runs {image}, not a digest; deploy it there "
            "with `python -m ops deploy` first",
            EXIT_REFUSED,
        )
    say(f"promoting {digest} of {args.service}: {source_env.name} -> {target_env.name}")
    target = connect(target_env)
    return release_image(
        target,
        args.service,
        digest,
        action="promote",
        source=source_env.name,
        timeout=args.timeout,
        poll_interval=args.poll_interval,
    )


def run_rollback(args: argparse.Namespace) -> int:
    env = environment(args.env)
    check_service(env, args.service)
    aws = connect(env)
    history = ran(release_history(aws, args.service))
    current = history[-1][1].digest if history else None
    target: str | None = None
    if args.to is None:
        target = next(
            (r.digest for _, r in reversed(history) if r.digest and r.digest != current), None
        )
        if target is None:
            raise OpsError(
                f"{args.service} in {env.name} has no earlier release to go back to; "
                "give one with --to sha256:<digest>",
                EXIT_REFUSED,
            )
    elif DIGEST.match(args.to):
        target = args.to
    elif args.to.isdigit():
        target = next((r.digest for v, r in history if v == int(args.to)), None)
        if target is None:
            versions = ", ".join(str(v) for v, r in history if r.digest) or "none"
            raise OpsError(
                f"--to {args.to}: no release version {args.to} with a digest for "
                f"{args.service} in {env.name}; versions: {versions}"
            )
    else:
        raise OpsError(
            f"--to {args.to!r} is neither a sha256:<64 hex> digest nor a release version number"
        )
    say(f"rolling {args.service} in {env.name} back to {target}")
    return release_image(
        aws,
        args.service,
        target,
        action="rollback",
        timeout=args.timeout,
        poll_interval=args.poll_interval,
    )
