"""Images: resolving a tag or digest in ECR, scan findings, the promotion rule."""

from __future__ import annotations

from typing import Any

from ops.aws import Aws, connect, environment, error_code
from ops.common import (
    EXIT_REFUSED,
    OpsError,
)
from ops.release.parameters import ServiceRelease, aws_failure, ran, release_history
from ops.release_contract import (
    DIGEST,
    IMAGE_TAG,
    ReleaseRecord,
)


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
        raise aws_failure(error, f"looking up {reference} in {repository}") from None
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
        raise aws_failure(error, f"reading the scan of {digest}") from None
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
