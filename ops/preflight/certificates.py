"""Rules: certificates used only once validated."""

from __future__ import annotations

from collections.abc import Iterator

from ops.preflight.finding import Finding, When
from ops.preflight.model import Model, address
from ops.preflight.rules import per_stack, rule

CERTIFICATE_USERS = (
    ("aws_lb_listener", "certificate_arn"),
    ("aws_lb_listener_certificate", "certificate_arn"),
)


@rule(
    "certificate-validated",
    "a listener uses a certificate the stack requests only through its "
    "aws_acm_certificate_validation",
    "ELB refuses a certificate that ACM has not issued yet (UnsupportedCertificate); "
    "aws_acm_certificate returns as soon as the request exists, aws_acm_certificate_validation "
    "waits for issuance (internal/service/acm/certificate_validation.go; its docs, "
    "website/docs/r/acm_certificate_validation.html.markdown, wire the listener to "
    "aws_acm_certificate_validation.<name>.certificate_arn)",
)
@per_stack
def _certificate_validated(model: Model) -> Iterator[Finding]:
    validations = {
        str(address(body.get("certificate_arn"))): name
        for name, body in model.items("aws_acm_certificate_validation")
    }
    for type_, attribute in CERTIFICATE_USERS:
        for name, body in model.items(type_):
            certificate = address(body.get(attribute))
            if certificate is None or certificate.type != "aws_acm_certificate":
                continue
            requested = model.get(certificate) or {}
            if requested.get("certificate_body") is not None:  # imported: issued already
                continue
            validation = validations.get(str(certificate))
            yield model.finding(
                "certificate-validated",
                type_,
                name,
                When.APPLY,
                f"uses {certificate} before ACM has issued it: the listener can be created "
                "first and fail with UnsupportedCertificate",
                f"use aws_acm_certificate_validation.{validation}.certificate_arn"
                if validation
                else f"add an aws_acm_certificate_validation for {certificate} and use its "
                "certificate_arn",
            )
