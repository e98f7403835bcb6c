"""CloudTrail's side of digest files, for the sandbox: a key pair of its own, the JSON
`aws cloudtrail list-public-keys` prints for it, and hourly digest files for log files, signed and
chained as CloudTrail writes them (what `integrity.outcomes` checks).

One chain per account folder and region: each hour that holds log files (by the time in their names)
gets a digest ending with the hour (or at `now`, if sooner) that lists them with the SHA-256 of their
uncompressed content, names the previous digest of its chain and is signed with SHA256withRSA over
`string_to_sign`. Logs whose key names no stream or time are left unlisted, as no hour holds them.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

from supportwatch.integrity.digest import log_key_time, parse_digest, sha256_hex, stream_of, string_to_sign
from supportwatch.integrity.outcomes import ALGORITHM, HASH
from supportwatch.layout import DIGESTS

HOUR = timedelta(hours=1)


def _stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


class SigningKey:
    """An RSA key pair made for one sandbox (never stored)."""

    def __init__(self) -> None:
        from cryptography.hazmat.primitives.asymmetric import rsa

        self._private = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    @cached_property
    def der(self) -> bytes:
        """The public key as CloudTrail publishes its own: DER-encoded PKCS#1."""
        from cryptography.hazmat.primitives import serialization

        return self._private.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)

    @cached_property
    def fingerprint(self) -> str:
        return hashlib.md5(self.der, usedforsecurity=False).hexdigest()

    def sign(self, message: bytes) -> str:
        """The SHA256withRSA (PKCS#1 v1.5) signature of `message`, in hex."""
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        return self._private.sign(message, padding.PKCS1v15(), hashes.SHA256()).hex()

    def public_keys(self, since: datetime, until: datetime) -> dict[str, Any]:
        """What `aws cloudtrail list-public-keys` prints, for this key (`--public-keys FILE`)."""
        value = base64.b64encode(self.der).decode()
        validity = {"ValidityStartTime": since.isoformat(), "ValidityEndTime": until.isoformat()}
        return {"PublicKeyList": [{"Value": value, **validity, "Fingerprint": self.fingerprint}]}


@dataclass(frozen=True, slots=True)
class DigestFile:
    """A digest object to put: its key, gzip body and the `signature` metadata CloudTrail sets."""

    key: str
    body: bytes
    metadata: dict[str, str]


@dataclass(frozen=True, slots=True)
class Trail:
    """The trail whose digests are written: its name, home region and bucket."""

    name: str
    region: str
    bucket: str

    def digests(self, logs: Iterable[tuple[str, str]], key: SigningKey, now: datetime) -> list[DigestFile]:
        """The digests of `logs` ((key, SHA-256 of the uncompressed content)), one chain per stream."""
        hours: dict[tuple[str, str], dict[datetime, list[tuple[str, str]]]] = {}
        for log, content in logs:
            stream, when = stream_of(log), log_key_time(log)
            if stream is None or when is None:
                continue
            hour = when.replace(minute=0, second=0, microsecond=0)
            hours.setdefault((stream.account_folder, stream.region), {}).setdefault(hour, []).append((log, content))
        written = []
        for (folder, region), listed in sorted(hours.items()):
            previous: DigestFile | None = None
            for hour, files in sorted(listed.items()):
                previous = self._digest(folder, region, hour, min(hour + HOUR, now), files, previous, key)
                written.append(previous)
        return written

    def _digest(
        self,
        folder: str,
        region: str,
        start: datetime,
        end: datetime,
        files: list[tuple[str, str]],
        previous: DigestFile | None,
        key: SigningKey,
    ) -> DigestFile:
        account = folder.rstrip("/").rsplit("/", 1)[-1]
        name = f"{account}_{DIGESTS}_{region}_{self.name}_{self.region}_{end:%Y%m%dT%H%M%S}Z.json.gz"
        object_key = f"{folder}{DIGESTS}/{region}/{end:%Y/%m/%d}/{name}"
        before = _chain(previous)
        document = {
            "awsAccountId": account,
            "digestStartTime": _stamp(start),
            "digestEndTime": _stamp(end),
            "digestS3Bucket": self.bucket,
            "digestS3Object": object_key,
            "digestPublicKeyFingerprint": key.fingerprint,
            "digestSignatureAlgorithm": ALGORITHM,
            "newestEventTime": _stamp(end),
            "oldestEventTime": _stamp(start),
            **before,
            "logFiles": [
                {"s3Bucket": self.bucket, "s3Object": log, "hashValue": content, "hashAlgorithm": HASH}
                for log, content in sorted(files)
            ],
        }
        content = json.dumps(document).encode()
        signature = key.sign(string_to_sign(parse_digest(content), sha256_hex(content)))
        return DigestFile(
            object_key, gzip.compress(content, mtime=0), {"signature": signature, "signature-algorithm": ALGORITHM}
        )


def _chain(previous: DigestFile | None) -> dict[str, str | None]:
    """The fields that link a digest to the one before it in its chain (null for the first)."""
    if previous is None:
        return dict.fromkeys(
            (
                "previousDigestS3Bucket",
                "previousDigestS3Object",
                "previousDigestHashValue",
                "previousDigestHashAlgorithm",
                "previousDigestSignature",
            )
        )
    content = gzip.decompress(previous.body)
    document = json.loads(content)
    return {
        "previousDigestS3Bucket": document["digestS3Bucket"],
        "previousDigestS3Object": previous.key,
        "previousDigestHashValue": sha256_hex(content),
        "previousDigestHashAlgorithm": HASH,
        "previousDigestSignature": previous.metadata["signature"],
    }


def log_file(folder: str, region: str, when: datetime, records: list[dict[str, Any]]) -> tuple[str, bytes]:
    """A log file as CloudTrail names and writes it: (key, gzip body)."""
    account = folder.rstrip("/").rsplit("/", 1)[-1]
    stamp = f"{when:%Y%m%dT%H%M}Z"
    suffix = hashlib.sha256(stamp.encode()).hexdigest()[:16]
    key = f"{folder}CloudTrail/{region}/{when:%Y/%m/%d}/{account}_CloudTrail_{region}_{stamp}_{suffix}.json.gz"
    return key, gzip.compress(json.dumps({"Records": records}).encode(), mtime=0)


def started_logging(account: str, region: str, trail_arn: str, when: datetime) -> dict[str, Any]:
    """The record CloudTrail writes when a trail starts logging (a write management event)."""
    return {
        "eventVersion": "1.09",
        "userIdentity": {"type": "Root", "principalId": account, "arn": f"arn:aws:iam::{account}:root",
                         "accountId": account},
        "eventTime": _stamp(when),
        "eventSource": "cloudtrail.amazonaws.com",
        "eventName": "StartLogging",
        "awsRegion": region,
        "sourceIPAddress": "127.0.0.1",
        "userAgent": "supportwatch-sandbox",
        "requestParameters": {"name": trail_arn},
        "responseElements": None,
        "eventID": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{trail_arn}#{when}")),
        "readOnly": False,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": account,
        "eventCategory": "Management",
    }  # fmt: skip
