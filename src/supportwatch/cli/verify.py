"""`supportwatch verify s3://BUCKET[/PREFIX]`: what CloudTrail's digest files prove about the logs.

Digest and log folders are found and listed date-partitioned, like backfill (never a bucket scan).
Every digest's signature and chain link is checked, every file a verified digest lists is read and
hashed, and log files no digest lists are reported (contract section 7).
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, time
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from botocore.exceptions import ClientError

from supportwatch.aws.clients import client, emulated_endpoint
from supportwatch.aws.digests import CloudTrailKeys, read_digest, read_object, unimplemented
from supportwatch.aws.listing import S3Listing
from supportwatch.cli.backfill import list_logs
from supportwatch.cli.output import plural
from supportwatch.cli.render import Column, print_table
from supportwatch.config import DEFAULT_MAX_DECOMPRESSED_BYTES
from supportwatch.decoding.inflate import UnreadableLog
from supportwatch.export import to_json
from supportwatch.integrity.digest import Digest, content_sha256, digest_key_time, is_digest_key
from supportwatch.integrity.keys import PublicKey, keys_from_file
from supportwatch.integrity.outcomes import (
    DigestCheck,
    Findings,
    KeyLookup,
    check_digest,
    judge_digests,
    judge_logs,
    judge_unlisted,
)
from supportwatch.layout import DIGESTS, day_after, parse_day, parse_s3_uri, plan

WORKERS = 16
UNREADABLE = "unreadable"  # stands for the hash of a log file that is not readable gzip: never matches
Item = TypeVar("Item")
Result = TypeVar("Result")


class NothingToVerify(ValueError):
    """No digest file in the range: exit 2."""


class NoPublicKeys(ValueError):
    """The endpoint cannot give CloudTrail's public keys (an emulator): exit 2."""


def _nothing() -> None:
    """No progress to show."""


def run(args: argparse.Namespace) -> int:
    bucket, prefix = parse_s3_uri(args.location)
    since = parse_day(args.since) if args.since else None
    until = parse_day(args.until) if args.until else None
    key_for = _keys(args)
    s3 = client("s3", endpoint_url=args.endpoint_url, region_name=args.region)
    listing = S3Listing(s3)
    logs = plan(listing, bucket, prefix, since, until)
    # A digest lists the files delivered in the hour before it: the day after the range holds some.
    digests = plan(listing, bucket, prefix, since, until and (day_after(until) or until), service=DIGESTS)
    # ... but only the digest of its first hour is needed.
    after = day_after(logs.until)
    last = datetime.combine(after, time(1), UTC) if after else None
    digest_keys = [
        ref.key
        for ref in _list(listing, bucket, digests.prefixes())
        if is_digest_key(ref.key) and (last is None or (ended := digest_key_time(ref.key)) is None or ended < last)
    ]
    if not digest_keys:
        raise NothingToVerify(
            f"no digest files under s3://{bucket}/{prefix} for {logs.since} to {logs.until}: "
            "is log file validation on for the trail?"
        )
    present = [ref.key for ref in list_logs(listing, bucket, logs.prefixes(), WORKERS)]
    sys.stderr.write(f"found {plural(len(digest_keys), 'digest file')} and {plural(len(present), 'log file')}\n")
    findings = verify(s3, bucket, digest_keys, present, key_for, _progress(len(digest_keys) + len(present)))
    _print(findings, args.format, bucket)
    return 0 if findings.clean else 1


def _keys(args: argparse.Namespace) -> KeyLookup:
    if args.public_keys:
        listed = keys_from_file(Path(args.public_keys))
        return lambda digest: listed.get(digest.digest_public_key_fingerprint)
    keys = CloudTrailKeys(partial(_cloudtrail, args.endpoint_url))

    def key_for(digest: Digest) -> PublicKey | None:
        try:
            return keys.key_for(digest)
        except ClientError as error:
            if not unimplemented(error):
                raise
            raise NoPublicKeys(
                "the endpoint does not implement CloudTrail's ListPublicKeys: pass --public-keys FILE "
                "(what `aws cloudtrail list-public-keys` prints)"
            ) from None

    return key_for


def _cloudtrail(endpoint_url: str | None, region: str) -> Any:
    """A CloudTrail client; an emulator's asks once (its "not implemented" does not change when retried)."""
    found = client("cloudtrail", endpoint_url, region)
    return client("cloudtrail", endpoint_url, region, attempts=1) if emulated_endpoint(found) else found


def _list(listing: S3Listing, bucket: str, prefixes: Sequence[str]) -> list[Any]:
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        return [ref for page in pool.map(lambda found: list(listing.objects(bucket, found)), prefixes) for ref in page]


def verify(
    s3: Any,
    bucket: str,
    digest_keys: Sequence[str],
    present: Sequence[str],
    key_for: KeyLookup,
    advance: Callable[[], None] = _nothing,
) -> Findings:
    """Check the digests, the digests they chain to, and every log file the verified ones list."""

    def check(key: str) -> DigestCheck | None:
        found = read_digest(s3, bucket, key)
        return check_digest(found, key_for) if found else None

    checks = {check.key: check for check in _each(check, digest_keys, advance) if check}
    named = {check.previous for check in checks.values() if check.previous and check.previous not in checks}
    earlier = dict(zip(named, _each(check, sorted(named)), strict=True))
    findings = Findings()
    verified = judge_digests(checks, earlier, findings)
    listed = sorted({log.s3_object for digest in verified for log in digest.log_files})
    hashes = dict(zip(listed, _each(lambda key: _hash(s3, bucket, key), listed, advance), strict=True))
    judge_logs(verified, hashes, findings)
    judge_unlisted(verified, present, findings)
    return findings


def _hash(s3: Any, bucket: str, key: str) -> str | None:
    data = read_object(s3, bucket, key)
    if data is None:
        return None
    try:
        return content_sha256(data, DEFAULT_MAX_DECOMPRESSED_BYTES)
    except UnreadableLog:
        return UNREADABLE


def _each(
    work: Callable[[Item], Result], items: Sequence[Item], advance: Callable[[], None] = _nothing
) -> list[Result]:
    """`work` on every item, WORKERS at a time, in order."""

    def one(item: Item) -> Result:
        result = work(item)
        advance()
        return result

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        return list(pool.map(one, items))


def _progress(total: int) -> Callable[[], None]:
    from supportwatch.cli.progress import Progress

    bar = Progress(total, unit="objects", counters=())  # draws its final line when the last one is done
    return lambda: bar.advance()


def fixes(findings: Findings, bucket: str) -> list[str]:
    """What to do about missing log files: they are gone from the bucket."""
    if not findings.logs_missing:
        return []
    keys = sorted(findings.logs_missing)
    lines = [
        f"{len(keys)} log files listed by verified digests are gone from s3://{bucket}: their events cannot be "
        "re-read from it. If the bucket keeps versions (or a replica exists), restore them and count them with:"
    ]
    lines += [f"  supportwatch backfill {shlex.quote(f's3://{bucket}/{key}')} --stack STACK" for key in keys]
    return lines


def rows(findings: Findings) -> list[tuple[str, str, str]]:
    """(outcome, key, why) of everything that is not verified."""
    groups: Iterable[tuple[str, dict[str, str]]] = (
        ("digest invalid", findings.digests_invalid),
        ("digest missing", findings.digests_missing),
        ("log tampered", findings.logs_tampered),
        ("log missing", findings.logs_missing),
        ("log unlisted", findings.logs_unlisted),
    )
    return [(outcome, key, why) for outcome, found in groups for key, why in sorted(found.items())]


def _print(findings: Findings, output_format: str, bucket: str) -> None:
    if output_format == "json":
        sys.stdout.write(to_json(findings.document()) + "\n")
        return
    problems = rows(findings)
    if problems:
        print_table((Column("OUTCOME"), Column("KEY"), Column("WHY")), problems, wide=True)
        sys.stdout.write("\n")
    text = (
        f"digests  {len(findings.digests_verified)} verified, {len(findings.digests_invalid)} invalid, "
        f"{len(findings.digests_missing)} missing\n"
        f"logs     {len(findings.logs_verified)} verified, {len(findings.logs_tampered)} tampered, "
        f"{len(findings.logs_missing)} missing, {len(findings.logs_unlisted)} unlisted\n"
    )
    sys.stdout.write(text + "".join(line + "\n" for line in fixes(findings, bucket)))
