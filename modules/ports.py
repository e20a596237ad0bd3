"""The platform's fixed TCP ports, defined once (constructs and `ops preflight` share them)."""

HTTP = 80
"""Plain HTTP: the public ALB's listener without a certificate, or its redirect to HTTPS."""
HTTPS = 443
"""TLS: ALB listeners with a certificate, VPC interface endpoints, S3 and NAT egress."""
