"""The S3 backend that holds an environment's Terraform state."""

from __future__ import annotations

from pydantic import (
    field_validator,
)

from envs.schema.common import (
    Region,
    Strict,
    check_bucket_name,
)


def state_key_alias(bucket: str) -> str:
    """Alias of the KMS key that encrypts a state bucket. Alias names are `alias/` plus
    letters, digits, '/', '_' and '-' (no '.'), at most 256 characters:
    https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateAlias.html"""
    return f"alias/tfstate-{bucket.replace('.', '-')}"


class StateBackendConfig(Strict):
    """Where Terraform keeps this environment's state (S3 backend, S3-native locking)."""

    bucket: str
    """State bucket name; created by the `state-bootstrap` stack."""
    key_prefix: str = ""
    """Prefix of the state key; the key is `<key_prefix><project>/<env>/terraform.tfstate`."""
    region: Region
    """Region of the state bucket."""

    @field_validator("bucket")
    @classmethod
    def _bucket(cls, value: str) -> str:
        return check_bucket_name(value)

    @field_validator("key_prefix")
    @classmethod
    def _key_prefix(cls, value: str) -> str:
        if value and (value.startswith("/") or not value.endswith("/")):
            raise ValueError(
                f"key_prefix {value!r} must be empty or a relative path ending in '/' "
                "(for example 'teams/web/')"
            )
        return value
