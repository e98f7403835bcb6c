"""`pseudonym(key, value)` and what it replaces in events, summaries and alerts (contract section 10).

Pure: the key is bytes however it was obtained (a file offline, a Secrets Manager secret in the function).
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
from functools import lru_cache
from pathlib import Path

import msgspec

from supportwatch.models import Summary, SupportEvent

PREFIX = "p-"
LENGTH = 26  # base32 characters kept: 130 bits
KEPT_TYPES = frozenset({"Root", "AWSService", "AWSAccount"})  # they name an account or a service, not a person
SERVICE_SUFFIX = ".amazonaws.com"  # a service calling on someone's behalf, not an address
CACHED = 65536  # distinct values whose pseudonym is kept in memory (identities and addresses of a run)


class PseudonymKeyError(ValueError):
    """The pseudonym key cannot be used (unreadable, not UTF-8, empty), named in one line."""


def pseudonym(key: bytes, value: str) -> str:
    """`p-` + the first 26 characters of lowercase unpadded base32 of HMAC-SHA256(key, value as UTF-8)."""
    digest = hmac.digest(key, value.encode("utf-8"), hashlib.sha256)
    return PREFIX + base64.b32encode(digest)[:LENGTH].decode("ascii").lower()


def key_from_text(text: str, where: str) -> bytes:
    """A key from its text: surrounding whitespace removed, as UTF-8 bytes; never empty."""
    key = text.strip().encode("utf-8")
    if not key:
        raise PseudonymKeyError(f"the pseudonym key in {where} is empty")
    return key


def load_key(path: str | Path) -> bytes:
    """The key held in a file (contract section 10: its content stripped, as UTF-8 bytes)."""
    try:
        text = Path(path).read_bytes().decode("utf-8")
    except OSError as error:
        raise PseudonymKeyError(f"cannot read the pseudonym key {path}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise PseudonymKeyError(f"the pseudonym key {path} is not UTF-8 text") from None
    return key_from_text(text, str(path))


def fingerprint(key: bytes) -> str:
    """Names a key without revealing it (an HMAC of a fixed text): tells two keys apart in the table's mode."""
    return pseudonym(key, "supportwatch:key-fingerprint")


class Pseudonymizer:
    """Contract section 10's replacements: person-naming values become their pseudonyms."""

    __slots__ = ("fingerprint", "of")

    def __init__(self, key: bytes) -> None:
        self.fingerprint = fingerprint(key)
        self.of = lru_cache(maxsize=CACHED)(lambda value: pseudonym(key, value))

    def identity(self, identity: str, identity_type: str) -> str:
        """An identity key as written: kept for root, services and accounts, else its pseudonym."""
        return identity if identity_type in KEPT_TYPES else self.of(identity)

    def principal(self, principal: str, identity: str, identity_type: str) -> str:
        """A principal as written: a role's ARN stays; a principal that is the identity is written as it is."""
        return self.identity(identity, identity_type) if principal == identity else principal

    def source_ip(self, value: str) -> str:
        return value if value.endswith(SERVICE_SUFFIX) else self.of(value)

    def event(self, event: SupportEvent) -> SupportEvent:
        """The event as it may be stored: identity, principal and source address replaced."""
        return msgspec.structs.replace(
            event,
            identity=self.identity(event.identity, event.identity_type),
            principal=self.principal(event.principal, event.identity, event.identity_type),
            source_ip=None if event.source_ip is None else self.source_ip(event.source_ip),
        )

    def summary(self, summary: Summary) -> Summary:
        """A summary written in clear, as it reads with pseudonyms (what a migration rewrites)."""
        return dataclasses.replace(
            summary,
            identity=self.identity(summary.identity, summary.identity_type),
            principal=self.principal(summary.principal, summary.identity, summary.identity_type),
            source_ips={self.source_ip(value) for value in summary.source_ips},
            account_ids=set(summary.account_ids),
            regions=set(summary.regions),
            calls=dict(summary.calls),
            errors=dict(summary.errors),
            services=dict(summary.services),
            models=dict(summary.models),
        )
