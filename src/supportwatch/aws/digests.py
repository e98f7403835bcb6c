"""Digest files from S3 and CloudTrail's public keys (ListPublicKeys), for the integrity checks."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from supportwatch.aws.clients import error_code
from supportwatch.aws.log_book import LogBook
from supportwatch.config import Settings
from supportwatch.decoding.inflate import GZIP_MAGIC, UnreadableLog, decompress
from supportwatch.integrity.digest import Digest, stream_of
from supportwatch.integrity.keys import PublicKey, key_from_api, keys_from_file, lookup
from supportwatch.integrity.outcomes import DigestObject
from supportwatch.integrity.watch import DigestWatch

DIGEST_MAX_BYTES = 256 << 20  # a digest lists one hour of files: far below this
ABSENT = {"NoSuchKey", "404", "NotFound"}


def read_digest(s3: Any, bucket: str, key: str) -> DigestObject | None:
    """The digest object with its uncompressed content and `signature` metadata; None when absent."""
    try:
        found = s3.get_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if error_code(error) in ABSENT:
            return None
        raise
    data = found["Body"].read()
    if data.startswith(GZIP_MAGIC):
        with contextlib.suppress(UnreadableLog):  # judged as not a digest's JSON
            data = decompress(data, DIGEST_MAX_BYTES)
    return DigestObject(bucket, key, data, found.get("Metadata", {}).get("signature"))


def absence(s3: Any, bucket: str, key: str) -> str | None:
    """Why an object cannot be read (deleted, or hidden), or None when it is there."""
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError as error:
        code = error_code(error)
        if code in ABSENT:
            return f"deleted ({code})"
        if code in ("403", "AccessDenied"):
            return "AccessDenied: S3 answers so for a deleted key when the reader may not list the bucket"
        raise
    return None


def read_object(s3: Any, bucket: str, key: str) -> bytes | None:
    """A whole object's bytes; None when absent."""
    try:
        return s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as error:
        if error_code(error) in ABSENT:
            return None
        raise


def unimplemented(error: ClientError) -> bool:
    """Whether an endpoint answered that it lacks the operation: an emulator's "not implemented" code,
    or moto's bare HTTP status (its HTML 500 page) where AWS always names an error code."""
    code = error_code(error)
    return code.isdigit() or code in ("NotImplemented", "InvalidAction", "UnknownOperationException")


class CloudTrailKeys:
    """CloudTrail's public keys per region, fetched with ListPublicKeys when a digest names one not
    seen yet (keys rotate), and cached for the life of the process."""

    def __init__(self, cloudtrail_for: Callable[[str], Any]) -> None:
        self._client_for = cloudtrail_for
        self._keys: dict[tuple[str, str], PublicKey | None] = {}

    def key_for(self, digest: Digest) -> PublicKey | None:
        """The key `digest` names, or None when CloudTrail has no such key for its region and time.
        Errors reaching CloudTrail propagate: such a digest is retried, never judged."""
        region = stream.region if (stream := stream_of(digest.digest_s3_object)) else ""
        wanted = (region, digest.digest_public_key_fingerprint)
        if wanted not in self._keys:
            pages = (
                self._client_for(region)
                .get_paginator("list_public_keys")
                .paginate(StartTime=digest.start - timedelta(days=1), EndTime=digest.end)
            )
            for page in pages:
                for item in page.get("PublicKeyList", []):
                    key = key_from_api(item)
                    self._keys[(region, key.fingerprint)] = key
        return self._keys.get(wanted)  # an unknown fingerprint is asked for again: never cached


def integrity_parts(
    settings: Settings, s3: Any, dynamodb: Any, cloudtrail_for: Callable[[str], Any]
) -> tuple[LogBook | None, DigestWatch | None]:
    """The function's log book and digest check, as its settings ask (none when VERIFY_DIGESTS is off)."""
    if not settings.verify_digests:
        return None, None
    book = LogBook(dynamodb, settings.table_name, settings.marker_ttl_days)
    if settings.digest_public_keys == "none":
        key_for = None
    elif settings.digest_public_keys:
        key_for = lookup(keys_from_file(Path(settings.digest_public_keys)))
    else:
        key_for = CloudTrailKeys(cloudtrail_for).key_for
    watch = DigestWatch(
        read=partial(read_digest, s3),
        key_for=key_for,
        book=book,
        absence=partial(absence, s3),
        grace=timedelta(minutes=settings.digest_grace_minutes),
        clock=lambda: datetime.now(UTC),
        settings=settings.alerts,
        stack_hint=settings.stack_name or "STACK",
    )
    return book, watch
