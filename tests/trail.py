"""A CloudTrail trail with log file validation, built the documented way for the integrity tests.

Log files are gzip JSON; every hour a digest lists the files delivered in it with the SHA-256 of
their uncompressed content, chains to the previous digest and is signed SHA256withRSA with a key
pair generated here. Its public key is offered in the shape `aws cloudtrail list-public-keys`
prints and ListPublicKeys answers.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tests.helpers import support_record

START = datetime(2026, 11, 28, 0, 0, 31, tzinfo=UTC)


@cache
def private_key(seed: int = 0) -> rsa.RSAPrivateKey:
    """One key pair per seed for the whole run (generating one costs CPU)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_der(seed: int = 0) -> bytes:
    return private_key(seed).public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)


def fingerprint(seed: int = 0) -> str:
    return hashlib.md5(public_der(seed)).hexdigest()


def public_keys_json(*seeds: int) -> dict[str, Any]:
    """What `aws cloudtrail list-public-keys` prints."""
    return {
        "PublicKeyList": [
            {
                "Value": base64.b64encode(public_der(seed)).decode(),
                "ValidityStartTime": "2026-01-01T00:00:00+00:00",
                "ValidityEndTime": "2027-01-01T00:00:00+00:00",
                "Fingerprint": fingerprint(seed),
            }
            for seed in seeds or (0,)
        ]
    }


def stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Trail:
    """One account and region of a trail writing into `bucket` (`objects`: key -> (body, metadata))."""

    bucket: str = "trail-bucket"
    account: str = "111122223333"
    region: str = "us-east-1"
    prefix: str = ""
    org: str | None = None
    name: str = "main"
    seed: int = 0
    objects: dict[str, tuple[bytes, dict[str, str]]] = field(default_factory=dict)
    pending: list[str] = field(default_factory=list)
    previous: tuple[str, str, str] | None = None  # key, content SHA-256, signature

    @property
    def base(self) -> str:
        return f"{self.prefix}AWSLogs/{self.org + '/' if self.org else ''}{self.account}/"

    def log(self, when: datetime, records: list[dict[str, Any]] | None = None) -> str:
        """A log file written at `when`, to be listed by the next digest."""
        key = (
            f"{self.base}CloudTrail/{self.region}/{when:%Y/%m/%d}/"
            f"{self.account}_CloudTrail_{self.region}_{when:%Y%m%dT%H%M}Z_{uuid.uuid4().hex[:16]}.json.gz"
        )
        records = records or [support_record(time=stamp(when), region=self.region)]
        self.objects[key] = (gzip.compress(json.dumps({"Records": records}).encode()), {})
        self.pending.append(key)
        return key

    def digest(self, end: datetime, backfill: bool = False, logs: list[str] | None = None, chain: bool = True) -> str:
        """The digest of the hour ending at `end`, listing `logs` (default: the files since the last one)."""
        key = (
            f"{self.base}CloudTrail-Digest/{self.region}/{end:%Y/%m/%d}/{self.account}_CloudTrail-Digest_"
            f"{self.region}_{self.name}_{self.region}_{end:%Y%m%dT%H%M%S}Z{'_backfill' if backfill else ''}.json.gz"
        )
        listed = self.pending if logs is None else logs
        previous = self.previous if chain else None
        document = {
            "awsAccountId": self.account,
            "digestStartTime": stamp(end - timedelta(hours=1)),
            "digestEndTime": stamp(end),
            "digestS3Bucket": self.bucket,
            "digestS3Object": key,
            "digestPublicKeyFingerprint": fingerprint(self.seed),
            "digestSignatureAlgorithm": "SHA256withRSA",
            "newestEventTime": stamp(end),
            "oldestEventTime": stamp(end - timedelta(hours=1)),
            "previousDigestS3Bucket": self.bucket if previous else None,
            "previousDigestS3Object": previous[0] if previous else None,
            "previousDigestHashValue": previous[1] if previous else None,
            "previousDigestHashAlgorithm": "SHA-256" if previous else None,
            "previousDigestSignature": previous[2] if previous else None,
            "logFiles": [
                {
                    "s3Bucket": self.bucket,
                    "s3Object": log,
                    "hashValue": hashlib.sha256(gzip.decompress(self.objects[log][0])).hexdigest(),
                    "hashAlgorithm": "SHA-256",
                    "newestEventTime": stamp(end),
                    "oldestEventTime": stamp(end - timedelta(hours=1)),
                }
                for log in listed
            ],
        }
        content = json.dumps(document).encode()
        content_hash = hashlib.sha256(content).hexdigest()
        signed = "\n".join(
            [stamp(end), f"{self.bucket}/{key}", content_hash, previous[2] if previous else "null"]
        ).encode()
        signature = private_key(self.seed).sign(signed, padding.PKCS1v15(), hashes.SHA256()).hex()
        self.objects[key] = (gzip.compress(content), {"signature": signature, "signature-algorithm": "SHA256withRSA"})
        if not backfill:
            self.previous = (key, content_hash, signature)
        if logs is None:
            self.pending = []
        return key

    def hours(self, count: int, files: int = 2, start: datetime = START) -> list[str]:
        """`count` hours of `files` log files each, every hour closed by its digest; the digests' keys."""
        digests = []
        for hour in range(count):
            began = start + timedelta(hours=hour)
            for number in range(files):
                self.log(began + timedelta(minutes=5 + 50 * number // max(files, 1)))
            digests.append(self.digest(began + timedelta(hours=1)))
        return digests

    def upload(self, s3: Any) -> None:
        for key, (body, metadata) in self.objects.items():
            s3.put_object(Bucket=self.bucket, Key=key, Body=body, Metadata=metadata)
