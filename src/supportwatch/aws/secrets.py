"""The pseudonym key a deployment keeps in Secrets Manager (contract section 10), read through
Powertools' parameters utility: the function reads it once per cold start, then from its cache."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities import parameters

from supportwatch.privacy.pseudonyms import key_from_text

KEY_CACHE_SECONDS = 24 * 3600  # a key is never rotated in place: a new key means new pseudonyms


def pseudonym_key(secret_id: str, secrets: Any | None = None) -> bytes:
    """The key the secret `secret_id` holds (its text stripped, as UTF-8 bytes, as a key file's).

    Powertools' default provider and its cache (the function), or `secrets`, a Secrets Manager client
    of the CLI's endpoint and region."""
    if secrets is None:
        value = parameters.get_secret(secret_id, max_age=KEY_CACHE_SECONDS)
    else:
        value = parameters.SecretsProvider(boto3_client=secrets).get(secret_id)
    text = value.decode("utf-8") if isinstance(value, bytes) else str(value)
    return key_from_text(text, f"the secret {secret_id}")
