"""CloudTrail's public keys and SHA256withRSA signature checks.

Keys come from ListPublicKeys (the AWS adapter) or from the JSON `aws cloudtrail list-public-keys`
prints (`--public-keys FILE`); each digest names its key by `digestPublicKeyFingerprint`. The
`cryptography` package is imported only when a signature is checked: the function's cold start
does not pay for it unless digests arrive.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from supportwatch.integrity.digest import Digest


class KeysUnusable(ValueError):
    """A public-keys file that is not what `aws cloudtrail list-public-keys` prints."""


@dataclass(frozen=True, slots=True)
class PublicKey:
    """One of CloudTrail's public keys: DER-encoded PKCS#1 RSA key, named by its fingerprint."""

    fingerprint: str
    der: bytes
    valid_from: datetime | None = None
    valid_until: datetime | None = None


def key_from_api(item: Mapping[str, Any]) -> PublicKey:
    """A `PublicKeyList` entry: `Value` is bytes from the API, base64 text in the CLI's JSON."""
    value = item["Value"]
    der = value if isinstance(value, bytes) else base64.b64decode(value, validate=True)
    return PublicKey(
        str(item["Fingerprint"]), der, _time(item.get("ValidityStartTime")), _time(item.get("ValidityEndTime"))
    )


def _time(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def keys_from_file(path: Path) -> dict[str, PublicKey]:
    """Fingerprint -> key, from a saved `aws cloudtrail list-public-keys` output."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        return {key.fingerprint: key for key in map(key_from_api, document["PublicKeyList"])}
    except (ValueError, KeyError, TypeError, binascii.Error) as error:
        raise KeysUnusable(
            f"{path}: not the JSON `aws cloudtrail list-public-keys` prints ({type(error).__name__}: {error})"
        ) from None


def lookup(keys: Mapping[str, PublicKey]) -> Callable[[Digest], PublicKey | None]:
    """The key each digest names, from a fixed set (a keys file)."""
    return lambda digest: keys.get(digest.digest_public_key_fingerprint)


def signature_holds(key: PublicKey, signature_hex: str, message: bytes) -> bool:
    """Whether `signature_hex` is `key`'s SHA256withRSA (PKCS#1 v1.5) signature of `message`."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    try:
        signature = bytes.fromhex(signature_hex)
        public = serialization.load_der_public_key(key.der)
    except ValueError:
        return False
    if not isinstance(public, rsa.RSAPublicKey):
        return False
    try:
        public.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True
