"""CloudTrail digest files: their keys, their JSON as typed models, and the string CloudTrail signs.

A digest file lives at `[prefix/]AWSLogs/[o-org/]ACCOUNT/CloudTrail-Digest/REGION/YYYY/MM/DD/`
`ACCOUNT_CloudTrail-Digest_REGION_TRAIL_REGION_YYYYMMDDTHHMMSSZ[_backfill].json.gz`; its
signature (hex, SHA256withRSA) is the object's `signature` metadata.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime

import msgspec

from supportwatch.decoding.inflate import GZIP_MAGIC, pieces
from supportwatch.layout import CLOUDTRAIL, DIGESTS

_LOG_TIME = re.compile(r"_(\d{8}T\d{4})Z_")
_DIGEST_TIME = re.compile(r"_(\d{8}T\d{6})Z(_backfill)?\.json\.gz$")


class MalformedDigest(ValueError):
    """A digest file whose content is not CloudTrail's digest JSON."""


class LogFile(msgspec.Struct, rename="camel", frozen=True):
    """One log file a digest lists, with the SHA-256 of its uncompressed content."""

    s3_bucket: str
    s3_object: str
    hash_value: str
    hash_algorithm: str = "SHA-256"


class Digest(msgspec.Struct, rename="camel", frozen=True):
    """The fields of a digest file that validation reads."""

    aws_account_id: str
    digest_start_time: str
    digest_end_time: str
    digest_s3_bucket: str
    digest_s3_object: str
    digest_public_key_fingerprint: str
    digest_signature_algorithm: str
    log_files: list[LogFile]
    previous_digest_s3_bucket: str | None = None
    previous_digest_s3_object: str | None = None
    previous_digest_hash_value: str | None = None
    previous_digest_hash_algorithm: str | None = None
    previous_digest_signature: str | None = None

    def __post_init__(self) -> None:
        self.start, self.end  # noqa: B018 - both times must parse (msgspec reports the ValueError)

    @property
    def start(self) -> datetime:
        return _instant(self.digest_start_time)

    @property
    def end(self) -> datetime:
        return _instant(self.digest_end_time)


_decoder = msgspec.json.Decoder(Digest)


def _instant(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def parse_digest(document: bytes) -> Digest:
    """The digest in `document` (uncompressed JSON); raises MalformedDigest."""
    try:
        return _decoder.decode(document)
    except (msgspec.ValidationError, msgspec.DecodeError) as error:
        raise MalformedDigest(f"not a CloudTrail digest: {error}") from None


def sha256_hex(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def string_to_sign(digest: Digest, content_sha256: str) -> bytes:
    """What CloudTrail signs: end time, the digest's S3 path, its content's SHA-256 and the previous
    digest's signature (`null` for the first digest of a chain), one per line."""
    lines = (
        digest.digest_end_time,
        f"{digest.digest_s3_bucket}/{digest.digest_s3_object}",
        content_sha256,
        digest.previous_digest_signature or "null",
    )
    return "\n".join(lines).encode()


def is_digest_key(key: str) -> bool:
    return DIGESTS in key.split("/")[:-1]


def is_backfill(key: str) -> bool:
    return key.endswith("_backfill.json.gz")


def digest_key_time(key: str) -> datetime | None:
    """The end time in a digest file's name (`..._YYYYMMDDTHHMMSSZ[_backfill].json.gz`), or None."""
    found = _DIGEST_TIME.search(key)
    return _stamp(found[1], "%Y%m%dT%H%M%S") if found else None


def log_key_time(key: str) -> datetime | None:
    """The timestamp in a log file's name (`..._YYYYMMDDTHHMMZ_...`), or None."""
    found = _LOG_TIME.search(key.rsplit("/", 1)[-1])
    return _stamp(found[1], "%Y%m%dT%H%M") if found else None


def _stamp(digits: str, layout: str) -> datetime | None:
    """A UTC time from a name's digits, or None where they are no date (`20230900T1200`)."""
    try:
        return datetime.strptime(digits, layout).replace(tzinfo=UTC)
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class Stream:
    """Whose logs a digest or log key belongs to: the folder up to the account, and the region."""

    account_folder: str  # `[prefix/]AWSLogs/[o-org/]ACCOUNT/`
    region: str


def stream_of(key: str) -> Stream | None:
    """The account folder and region of a `.../ACCOUNT/CloudTrail[-Digest]/REGION/...` key."""
    segments = key.split("/")
    for index in range(len(segments) - 2, 0, -1):
        if segments[index] in (CLOUDTRAIL, DIGESTS):
            return Stream("/".join(segments[:index]) + "/", segments[index + 1])
    return None


def content_sha256(data: bytes, max_bytes: int) -> str:
    """SHA-256 of a log file's uncompressed content (every gzip member), read in pieces; raises UnreadableLog."""
    if not data.startswith(GZIP_MAGIC):
        return sha256_hex(data)
    digest = hashlib.sha256()
    for piece in pieces(data, max_bytes):
        digest.update(piece)
    return digest.hexdigest()
