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
import json
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ops.aws import Aws, aws_error, check_service, connect, environment, error_code, now, say
from ops.common import (
    EXIT_AWS_ERROR,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_TIMEOUT,
    OpsError,
    handle,
    positive_seconds,
)
from ops.release_contract import (
    DIGEST,
    IMAGE_TAG,
    ReleaseRecord,
    ReleaseTemplate,
    release_parameter_name,
    template_parameter_name,
)

EVENTS_SHOWN = 5
STOPPED_TASKS_SHOWN = 5
LOG_LINES_SHOWN = 5
RESTORED = "restore"
"""The action of a record written back after a failed rollout (the failed one never ran)."""


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


# --------------------------------------------------------------------------- parameters


@dataclass
class ServiceRelease:
    """One service's template, current record and the way to reach it."""

    aws: Aws
    name: str
    template: ReleaseTemplate
    record: ReleaseRecord

    @property
    def record_parameter(self) -> str:
        return release_parameter_name(self.aws.env.resource_prefix, self.name)

    def status_command(self) -> str:
        return f"python -m ops status --env {self.aws.env.name} --service {self.name}"


def load_release(aws: Aws, service: str) -> ServiceRelease:
    prefix = aws.env.resource_prefix
    template = ReleaseTemplate.from_json(_parameter(aws, template_parameter_name(prefix, service)))
    record = ReleaseRecord.from_json(_parameter(aws, release_parameter_name(prefix, service)))
    return ServiceRelease(aws=aws, name=service, template=template, record=record)


def _parameter(aws: Aws, name: str) -> str:
    try:
        return str(aws.client("ssm").get_parameter(Name=name)["Parameter"]["Value"])
    except Exception as error:
        if error_code(error) == "ParameterNotFound":
            raise OpsError(
                f"SSM parameter {name} does not exist in {aws.region}: apply the {aws.env.name} "
                "stack first (terraform apply), it creates the release parameters",
                EXIT_AWS_ERROR,
            ) from None
        raise _aws(error, f"reading {name}") from None


def release_history(aws: Aws, service: str) -> list[tuple[int, ReleaseRecord]]:
    """(version, record) of every release of `service`, oldest first."""
    name = release_parameter_name(aws.env.resource_prefix, service)
    history: list[tuple[int, ReleaseRecord]] = []
    try:
        for page in aws.client("ssm").get_paginator("get_parameter_history").paginate(Name=name):
            for item in page.get("Parameters", []):
                try:
                    history.append((int(item["Version"]), ReleaseRecord.from_json(item["Value"])))
                except (ValueError, TypeError, KeyError):
                    continue  # a value not written by ops or Terraform: not a release
    except Exception as error:
        if error_code(error) == "ParameterNotFound":
            return []
        raise _aws(error, f"reading the history of {name}") from None
    return sorted(history, key=lambda entry: entry[0])


def ran(history: list[tuple[int, ReleaseRecord]]) -> list[tuple[int, ReleaseRecord]]:
    """The releases that became steady: drop each one a `restore` record undid."""
    followers = [*history[1:], None]
    return [
        entry
        for entry, successor in zip(history, followers, strict=True)
        if successor is None or successor[1].action != RESTORED
    ]


def _aws(error: Exception, doing: str) -> Exception:
    described = aws_error(error)
    if described is None:
        return error
    return OpsError(f"{doing} failed: {described}", EXIT_AWS_ERROR)


# --------------------------------------------------------------------------- images


def resolve_image(release: ServiceRelease, reference: str) -> str:
    """A full `<repository>@sha256:...` for a tag, digest or reference; refuses unknown images."""
    repository_url = release.template.repository_url
    if repository_url is None:  # an external image: nothing to resolve in ECR
        if "/" not in reference and "@" not in reference:
            raise OpsError(
                f"{release.name} runs an external image; give a full reference "
                f"(registry/name@sha256:...), got {reference!r}"
            )
        return reference
    tag: str | None = None
    digest: str | None = None
    if DIGEST.match(reference):
        digest = reference
    elif reference.startswith(f"{repository_url}@"):
        digest = reference.partition("@")[2]
    elif reference.startswith(f"{repository_url}:"):
        tag = reference.rpartition(":")[2]
    elif IMAGE_TAG.match(reference):
        tag = reference
    if (digest is None and tag is None) or (digest is not None and not DIGEST.match(digest)):
        raise OpsError(
            f"--image {reference!r} is not a tag, a sha256:<64 hex> digest or an image of "
            f"{repository_url}; give e.g. --image 1.4.2 or --image sha256:<digest>"
        )
    repository = repository_url.partition("/")[2]
    image_id = {"imageDigest": digest} if digest else {"imageTag": tag}
    ecr = release.aws.client("ecr")
    try:
        details = ecr.describe_images(repositoryName=repository, imageIds=[image_id])
    except Exception as error:
        if error_code(error) in ("ImageNotFoundException", "RepositoryNotFoundException"):
            raise OpsError(
                f"image {reference} does not exist in {repository_url}; push it first, or "
                f"list what is there: aws ecr describe-images --region {release.aws.region} "
                f"--repository-name {repository}",
                EXIT_REFUSED,
            ) from None
        raise _aws(error, f"looking up {reference} in {repository}") from None
    resolved = str(details["imageDetails"][0]["imageDigest"])
    if release.aws.env.release.require_clean_scan:
        _check_scan(release, repository, resolved)
    return f"{repository_url}@{resolved}"


def _check_scan(release: ServiceRelease, repository: str, digest: str) -> None:
    env = release.aws.env
    try:
        findings = release.aws.client("ecr").describe_image_scan_findings(
            repositoryName=repository, imageId={"imageDigest": digest}
        )
    except Exception as error:
        if error_code(error) == "ScanNotFoundException":
            raise OpsError(
                f"image {digest} has no scan in {repository}; {env.name} requires a clean scan "
                f"(envs/{env.name}.py release.require_clean_scan): start one with aws ecr "
                f"start-image-scan --repository-name {repository} --image-id imageDigest={digest}",
                EXIT_REFUSED,
            ) from None
        raise _aws(error, f"reading the scan of {digest}") from None
    counts = findings.get("imageScanFindings", {}).get("findingSeverityCounts", {}) or {}
    status = findings.get("imageScanStatus", {}).get("status", "COMPLETE")
    if status != "COMPLETE" or counts.get("CRITICAL", 0):
        raise OpsError(
            f"image {digest} is refused in {env.name}: scan {status}, "
            f"{counts.get('CRITICAL', 0)} CRITICAL finding(s) (release.require_clean_scan); "
            "fix the image and push a new one",
            EXIT_REFUSED,
        )


def check_promotion_rule(aws: Aws, service: str, image: str, connect_to: Any = None) -> None:
    """Refuse a digest that was never released in the env this one must follow."""
    source_name = aws.env.release.promote_from
    if source_name is None:
        return
    digest = ReleaseRecord(image=image).digest
    source = (connect_to or connect)(environment(source_name))
    released = {record.digest for _, record in ran(release_history(source, service))}
    if digest is None or digest not in released:
        raise OpsError(
            f"{digest or image} was never released to {service} in {source_name}, and "
            f"{aws.env.name} takes only images released there first (envs/{aws.env.name}.py "
            f"release.promote_from); run: python -m ops promote --from {source_name} "
            f"--to {aws.env.name} --service {service}",
            EXIT_REFUSED,
        )


# --------------------------------------------------------------------------- ECS


def describe_service(aws: Aws, template: ReleaseTemplate) -> dict[str, Any]:
    try:
        response = aws.client("ecs").describe_services(
            cluster=template.cluster, services=[template.service]
        )
    except Exception as error:
        raise _aws(error, f"describing service {template.service}") from None
    services = [s for s in response.get("services", []) if s.get("status") != "INACTIVE"]
    if not services:
        raise OpsError(
            f"service {template.service} is not in cluster {template.cluster} ({aws.region}); "
            "apply the stack first",
            EXIT_AWS_ERROR,
        )
    return dict(services[0])


def task_definition(aws: Aws, arn: str) -> dict[str, Any]:
    try:
        return dict(
            aws.client("ecs").describe_task_definition(taskDefinition=arn)["taskDefinition"]
        )
    except Exception as error:
        raise _aws(error, f"describing task definition {arn}") from None


def matches(wanted: Any, actual: Any) -> bool:
    """Does `actual` (as ECS describes it) hold everything `wanted` (as registered) says?"""
    if isinstance(wanted, Mapping):
        return isinstance(actual, Mapping) and all(
            matches(value, actual.get(key)) for key, value in wanted.items()
        )
    if isinstance(wanted, list):
        return (
            isinstance(actual, list)
            and len(wanted) == len(actual)
            and all(matches(w, a) for w, a in zip(wanted, actual, strict=True))
        )
    return bool(wanted == actual)


def running_image(aws: Aws, service: Mapping[str, Any], container: str) -> str | None:
    """The image of the PRIMARY deployment's container."""
    primary = next((d for d in service.get("deployments", []) if d["status"] == "PRIMARY"), None)
    arn = (primary or {}).get("taskDefinition") or service.get("taskDefinition")
    if not arn:
        return None
    for definition in task_definition(aws, arn).get("containerDefinitions", []):
        if definition.get("name") == container:
            return str(definition.get("image"))
    return None


# --------------------------------------------------------------------------- following


@dataclass
class Rollout:
    """Follows one deployment (the one running `task_definition_arn`) to its end."""

    release: ServiceRelease
    task_definition_arn: str
    deadline: float
    poll_interval: float
    seen_events: set[str] = field(default_factory=set)
    last_line: str = ""

    def follow(self, since: Any) -> int:
        aws, template = self.release.aws, self.release.template
        while True:
            service = describe_service(aws, template)
            self._print_events(service, since)
            deployment = next(
                (
                    d
                    for d in service.get("deployments", [])
                    if d.get("taskDefinition") == self.task_definition_arn
                ),
                None,
            )
            if deployment is None:
                return self._gone(service)
            state = deployment.get("rolloutState", "IN_PROGRESS")
            line = (
                f"{template.service}: {deployment.get('status')} {state}, running "
                f"{deployment.get('runningCount', 0)}/{deployment.get('desiredCount', 0)}, "
                f"pending {deployment.get('pendingCount', 0)}, failed tasks "
                f"{deployment.get('failedTasks', 0)}"
            )
            if line != self.last_line:
                say(line)
                self.last_line = line
            if state == "COMPLETED" and deployment.get("status") == "PRIMARY":
                say(f"{template.service} is steady on {_revision(self.task_definition_arn)}")
                return EXIT_OK
            if state == "FAILED":
                return self._failed(deployment)
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                raise OpsError(
                    f"timed out following the rollout of {_revision(self.task_definition_arn)} "
                    f"(last: {state}); the deployment goes on. Inspect it with:\n  "
                    f"{self.release.status_command()}",
                    EXIT_TIMEOUT,
                )
            time.sleep(min(self.poll_interval, remaining))

    def _print_events(self, service: Mapping[str, Any], since: Any) -> None:
        fresh = [
            event
            for event in service.get("events", [])
            if event.get("id") not in self.seen_events
            and (event.get("createdAt") is None or event["createdAt"] >= since)
        ]
        for event in sorted(fresh, key=lambda e: e.get("createdAt") or since):
            self.seen_events.add(str(event.get("id")))
            say(f"event: {event.get('message')}")

    def _gone(self, service: Mapping[str, Any]) -> int:
        primary: Mapping[str, Any] = next(
            (d for d in service.get("deployments", []) if d.get("status") == "PRIMARY"), {}
        )
        raise OpsError(
            f"the deployment of {_revision(self.task_definition_arn)} was replaced by "
            f"{_revision(str(primary.get('taskDefinition', '?')))} (another deploy?); inspect "
            f"with: {self.release.status_command()}",
            EXIT_FAILED,
        )

    def _failed(self, deployment: Mapping[str, Any]) -> int:
        reason = deployment.get("rolloutStateReason") or "no reason given"
        print(
            f"error: rollout of {_revision(self.task_definition_arn)} failed and was rolled "
            f"back: {reason}",
            file=sys.stderr,
        )
        for task in stopped_tasks(self.release, self.task_definition_arn):
            print(f"  task {task['id']}: {task['reason']}", file=sys.stderr)
            for line in task["log"]:
                print(f"    | {line}", file=sys.stderr)
        return EXIT_FAILED


def _revision(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def stopped_tasks(release: ServiceRelease, task_definition_arn: str | None) -> list[dict[str, Any]]:
    """Recently stopped tasks (of one revision, if given): id, reason, last log lines."""
    aws, template = release.aws, release.template
    ecs = aws.client("ecs")
    try:
        arns = ecs.list_tasks(
            cluster=template.cluster, serviceName=template.service, desiredStatus="STOPPED"
        ).get("taskArns", [])[:STOPPED_TASKS_SHOWN]
        tasks = ecs.describe_tasks(cluster=template.cluster, tasks=arns)["tasks"] if arns else []
    except Exception as error:
        raise _aws(error, "listing stopped tasks") from None
    found = []
    family = str(template.task_definition["family"])
    for task in tasks:
        revision = _revision(str(task.get("taskDefinitionArn", "")))
        if revision.rpartition(":")[0] != family:
            continue  # not this service's (ListTasks filters by service; this is a safeguard)
        if task_definition_arn and task.get("taskDefinitionArn") != task_definition_arn:
            continue
        task_id = str(task["taskArn"]).rsplit("/", 1)[-1]
        reasons = [str(task.get("stoppedReason") or "no reason given")]
        reasons += [
            f"{c['name']}: {c['reason']}" for c in task.get("containers", []) if c.get("reason")
        ]
        found.append(
            {
                "id": task_id,
                "reason": "; ".join(reasons),
                "stop_code": task.get("stopCode"),
                "log": last_log_lines(aws, template, task_id),
            }
        )
    return found


def last_log_lines(aws: Aws, template: ReleaseTemplate, task_id: str) -> list[str]:
    stream = f"{template.log_stream_prefix}/{template.container_name}/{task_id}"
    try:
        events = aws.client("logs").get_log_events(
            logGroupName=template.log_group,
            logStreamName=stream,
            limit=LOG_LINES_SHOWN,
            startFromHead=False,
        )["events"]
    except Exception as error:
        if aws_error(error) is None:
            raise
        return []
    return [str(event["message"]).rstrip("\n") for event in events]


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
        say(f"registered {_revision(arn)} ({resolved})")
        ecs.update_service(
            cluster=release.template.cluster, service=release.template.service, taskDefinition=arn
        )
    except Exception as error:
        raise _aws(error, "registering the revision / updating the service") from None
    say(f"updated {release.template.service}: rolling out {_revision(arn)}")
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
            f"interrupted; the deployment of {_revision(rollout.task_definition_arn)} keeps "
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
        raise _aws(error, f"recording the release in {release.record_parameter}") from None
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


# --------------------------------------------------------------------------- status


def service_status(aws: Aws, service: str) -> dict[str, Any]:
    """Everything `ops status` shows for one service, as plain JSON-able data."""
    release = load_release(aws, service)
    described = describe_service(aws, release.template)
    health: dict[str, dict[str, int]] = {}
    for balancer in described.get("loadBalancers", []):
        arn = balancer["targetGroupArn"]
        try:
            targets = aws.client("elbv2").describe_target_health(TargetGroupArn=arn)
        except Exception as error:
            raise _aws(error, f"reading the target health of {arn}") from None
        counts: dict[str, int] = {}
        for target in targets.get("TargetHealthDescriptions", []):
            state = target.get("TargetHealth", {}).get("State", "unknown")
            counts[state] = counts.get(state, 0) + 1
        health[arn.rsplit("/", 2)[-2]] = counts
    history = release_history(aws, service)
    return {
        "service": release.template.service,
        "desired": described.get("desiredCount", 0),
        "running": described.get("runningCount", 0),
        "pending": described.get("pendingCount", 0),
        "released_image": release.record.image,
        "released_by": release.record.released_by,
        "released_at": release.record.released_at,
        "release_version": history[-1][0] if history else None,
        "running_image": running_image(aws, described, release.template.container_name),
        "deployments": [
            {
                "id": d.get("id"),
                "status": d.get("status"),
                "rollout_state": d.get("rolloutState"),
                "revision": _revision(str(d.get("taskDefinition", ""))),
                "desired": d.get("desiredCount", 0),
                "running": d.get("runningCount", 0),
                "pending": d.get("pendingCount", 0),
                "failed_tasks": d.get("failedTasks", 0),
            }
            for d in described.get("deployments", [])
        ],
        "target_health": health,
        "events": [
            {"at": _iso(e.get("createdAt")), "message": e.get("message")}
            for e in described.get("events", [])[:EVENTS_SHOWN]
        ],
        "stopped_tasks": [
            {key: task[key] for key in ("id", "stop_code", "reason")}
            for task in stopped_tasks(release, None)
        ],
    }


def _iso(value: Any) -> str | None:
    return str(value.isoformat()) if hasattr(value, "isoformat") else value


def run_status(args: argparse.Namespace) -> int:
    env = environment(args.env)
    names = [check_service(env, args.service)] if args.service else [s.name for s in env.services]
    aws = connect(env)
    report = {"environment": env.name, "services": {n: service_status(aws, n) for n in names}}
    if args.json:
        print(json.dumps(report, indent=2, sort_keys=True))
        return EXIT_OK
    print_status(report)
    return EXIT_OK


def print_status(report: Mapping[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=120)
    summary = Table(title=f"{report['environment']}: services", title_justify="left")
    for column in ("service", "desired", "running", "pending", "released", "running image"):
        summary.add_column(column)
    for name, status in report["services"].items():
        same = status["released_image"] == status["running_image"]
        summary.add_row(
            name,
            str(status["desired"]),
            str(status["running"]),
            str(status["pending"]),
            _short(status["released_image"]),
            _short(status["running_image"]) + ("" if same else "  (differs)"),
        )
    console.print(summary)
    for name, status in report["services"].items():
        deployments = Table(title=f"{name}: deployments", title_justify="left")
        for column in ("status", "rollout", "revision", "running/desired", "pending", "failed"):
            deployments.add_column(column)
        for d in status["deployments"]:
            deployments.add_row(
                str(d["status"]),
                str(d["rollout_state"]),
                str(d["revision"]),
                f"{d['running']}/{d['desired']}",
                str(d["pending"]),
                str(d["failed_tasks"]),
            )
        console.print(deployments)
        for group, counts in status["target_health"].items():
            states = ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "no targets"
            console.print(f"target group {group}: {states}")
        for event in status["events"]:
            console.print(f"event {event['at']}: {event['message']}", highlight=False)
        for task in status["stopped_tasks"]:
            console.print(f"stopped task {task['id']}: {task['reason']}", highlight=False)


def _short(image: str | None) -> str:
    """`name@sha256:0123456789ab` (12 hex digits) or `name:tag`."""
    if not image:
        return "-"
    name = image.rsplit("/", 1)[-1]
    base, separator, digest = name.partition("@")
    return f"{base}@{digest[:19]}" if separator else name
