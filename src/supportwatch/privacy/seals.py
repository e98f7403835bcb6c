"""Sealed identities (contract section 10): the real identity behind each pseudonym, encrypted under the
stack's KMS key with the encryption context that names the pseudonym, so that every reveal is a KMS
`Decrypt` in CloudTrail naming whom it revealed. Pure: what to seal, and how a failed reveal reads.
"""

from __future__ import annotations

from collections.abc import Iterable

from supportwatch.models import SupportEvent
from supportwatch.privacy.pseudonyms import Pseudonymizer

CONTEXT_KEY = "supportwatch:pseudonym"


class NotSealed(LookupError):
    """No identity is sealed under this pseudonym (one line)."""


class RevealRefused(Exception):
    """KMS refused to decrypt a sealed identity (one line)."""


def encryption_context(pseudonym: str) -> dict[str, str]:
    """The context a seal is encrypted and decrypted with: KMS refuses a Decrypt with any other."""
    return {CONTEXT_KEY: pseudonym}


def key_home(key_arn: str) -> tuple[str, str] | None:
    """The (account, region) of a KMS key ARN, `arn:PARTITION:kms:REGION:ACCOUNT:key/ID`; None for anything else."""
    parts = key_arn.split(":")
    return (parts[4], parts[3]) if len(parts) == 6 and parts[2] == "kms" and parts[5].startswith("key/") else None


def to_seal(events: Iterable[SupportEvent], privacy: Pseudonymizer) -> dict[str, str]:
    """pseudonym -> identity, for every identity of `events` that is written as a pseudonym."""
    return {
        written: event.identity
        for event in events
        if (written := privacy.identity(event.identity, event.identity_type)) != event.identity
    }
