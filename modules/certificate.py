"""An ACM certificate for a set of names, validated through DNS, that listeners wait for."""

from __future__ import annotations

from collections.abc import Sequence

from cdktf import TerraformIterator, TerraformResourceLifecycle, Token
from constructs import Construct

from modules.aws import acm_certificate, acm_certificate_validation, route53_record
from modules.dns import PublicZone

VALIDATION_RECORD_TTL_SECONDS = 60


class Certificate(Construct):
    """One public ACM certificate: the first name is its subject, every name is a SAN.

    - With a `zone` (Route 53): one CNAME per entry of the certificate's own
      `domain_validation_options` (keyed by domain name, which the provider knows at plan time),
      in that zone, and an `aws_acm_certificate_validation` that waits for them.
    - Without a zone (DNS elsewhere): the validation resource waits until the records listed in
      `validation_options` exist at the DNS provider (the README's external-DNS steps).

    `arn` is the *validated* certificate's ARN: a listener using it is created only after the
    certificate is issued (ELB refuses a pending certificate).
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        names: Sequence[str],
        zone: PublicZone | None,
        name: str,
    ) -> None:
        super().__init__(scope, id_)
        if not names:
            raise ValueError("a certificate needs at least one name")
        self.names = tuple(names)
        self.certificate = acm_certificate.AcmCertificate(
            self,
            "certificate",
            domain_name=self.names[0],
            subject_alternative_names=list(self.names[1:]) or None,
            validation_method="DNS",
            options=acm_certificate.AcmCertificateOptions(
                certificate_transparency_logging_preference="ENABLED"
            ),
            # A replacement (new names) is issued before the listener lets go of the old one.
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
            tags={"Name": name},
        )
        self.validation_options = self.certificate.domain_validation_options
        self.records: route53_record.Route53Record | None = None
        fqdns = None
        if zone is not None:
            option = TerraformIterator.from_complex_list(
                self.certificate.domain_validation_options, "domain_name"
            )
            self.records = route53_record.Route53Record(
                self,
                "validation-record",
                for_each=option,
                zone_id=zone.zone_id,
                name=option.get_string("resource_record_name"),
                type=option.get_string("resource_record_type"),
                records=[option.get_string("resource_record_value")],
                ttl=VALIDATION_RECORD_TTL_SECONDS,
                # `example.com` and `*.example.com` share one validation record.
                allow_overwrite=True,
            )
            fqdns = Token.as_list(
                TerraformIterator.from_resources(self.records).pluck_property("fqdn")
            )
        self.validation = acm_certificate_validation.AcmCertificateValidation(
            self,
            "validation",
            certificate_arn=self.certificate.arn,
            validation_record_fqdns=fqdns,
        )
        self.arn: str = self.validation.certificate_arn
