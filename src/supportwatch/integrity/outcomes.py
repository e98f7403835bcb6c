"""What digests prove (contract section 7): per digest `verified`, `invalid` or `missing`; per log
file `verified`, `tampered`, `missing` or `unlisted`. Pure: the caller reads S3 and the keys."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from supportwatch.integrity.digest import (
    Digest,
    MalformedDigest,
    Stream,
    log_key_time,
    parse_digest,
    sha256_hex,
    stream_of,
    string_to_sign,
)
from supportwatch.integrity.keys import PublicKey, signature_holds

ALGORITHM = "SHA256withRSA"
HASH = "SHA-256"
MARGIN = timedelta(hours=1)  # a log this close to either end of the covered hours may be listed outside them
JOIN = timedelta(minutes=10)  # consecutive digests' hours are joined across a gap this small


@dataclass(frozen=True, slots=True)
class DigestObject:
    """A digest file as read from S3: where, its uncompressed content and its `signature` metadata."""

    bucket: str
    key: str
    content: bytes
    signature: str | None


@dataclass(frozen=True, slots=True)
class DigestCheck:
    """One digest file checked on its own: `problem` is None when its signature holds."""

    key: str
    digest: Digest | None
    content_sha256: str
    signature: str | None
    problem: str | None = None

    @property
    def verified(self) -> bool:
        return self.problem is None

    @property
    def previous(self) -> str | None:
        """The key of the digest this one chains to (None for the first of a chain)."""
        return self.digest.previous_digest_s3_object if self.digest else None


KeyLookup = Callable[[Digest], PublicKey | None]


def check_digest(found: DigestObject, key_for: KeyLookup) -> DigestCheck:
    """Parse `found` and check its location, algorithm and signature with the key it names."""
    content_sha256 = sha256_hex(found.content)

    def failed(problem: str, digest: Digest | None = None) -> DigestCheck:
        return DigestCheck(found.key, digest, content_sha256, found.signature, problem)

    try:
        digest = parse_digest(found.content)
    except MalformedDigest as error:
        return failed(str(error))
    if (digest.digest_s3_bucket, digest.digest_s3_object) != (found.bucket, found.key):
        return failed(f"names another location: s3://{digest.digest_s3_bucket}/{digest.digest_s3_object}", digest)
    if not found.signature:
        return failed("no signature: the object's `signature` metadata is missing", digest)
    if digest.digest_signature_algorithm != ALGORITHM:
        return failed(f"unknown signature algorithm {digest.digest_signature_algorithm!r}", digest)
    key = key_for(digest)
    if key is None:
        return failed(f"unknown public key: no CloudTrail key has fingerprint {digest.digest_public_key_fingerprint}")
    if not signature_holds(key, found.signature, string_to_sign(digest, content_sha256)):
        return failed("signature does not hold: the digest or its signature was altered after signing", digest)
    return DigestCheck(found.key, digest, content_sha256, found.signature)


def chain_problem(current: Digest, previous: DigestCheck) -> str | None:
    """Why `current` disagrees with the previous digest that exists, or None."""
    if current.previous_digest_hash_algorithm not in (None, HASH):
        return f"unknown previous digest hash algorithm {current.previous_digest_hash_algorithm!r}"
    if current.previous_digest_hash_value != previous.content_sha256:
        return f"chain broken: previous digest {previous.key} is not the one this digest signed (SHA-256 differs)"
    if current.previous_digest_signature != previous.signature:
        return f"chain broken: previous digest {previous.key} carries another signature than this digest signed"
    return None


@dataclass(slots=True)
class Findings:
    """Everything a check found; keys are S3 keys, values say why."""

    digests_verified: set[str] = field(default_factory=set)
    digests_invalid: dict[str, str] = field(default_factory=dict)
    digests_missing: dict[str, str] = field(default_factory=dict)
    logs_verified: set[str] = field(default_factory=set)
    logs_tampered: dict[str, str] = field(default_factory=dict)
    logs_missing: dict[str, str] = field(default_factory=dict)
    logs_unlisted: dict[str, str] = field(default_factory=dict)

    @property
    def clean(self) -> bool:
        problems = (self.digests_invalid, self.digests_missing, self.logs_tampered, self.logs_missing)
        return not any(problems) and not self.logs_unlisted

    def document(self) -> dict[str, Any]:
        """Contract section 7's JSON."""
        return {
            "digests": {
                "verified": len(self.digests_verified),
                "invalid": [{"key": key, "reason": why} for key, why in sorted(self.digests_invalid.items())],
                "missing": sorted(self.digests_missing),
            },
            "logs": {
                "verified": len(self.logs_verified),
                "tampered": sorted(self.logs_tampered),
                "missing": sorted(self.logs_missing),
                "unlisted": sorted(self.logs_unlisted),
            },
        }


def judge_digests(
    checks: Mapping[str, DigestCheck], earlier: Mapping[str, DigestCheck | None], findings: Findings
) -> list[Digest]:
    """Digest outcomes into `findings`; returns the verified digests.

    `checks` are the digests judged; `earlier` the previous digests they name that are not among
    them, checked (outside the range asked for) or None when absent from the bucket.
    """
    verified = []
    for key, check in checks.items():
        if check.digest is None or not check.verified:
            findings.digests_invalid[key] = check.problem or "unreadable"
            continue
        previous = check.previous
        problem = None
        if previous is not None and (before := checks.get(previous, earlier.get(previous))) is not None:
            problem = chain_problem(check.digest, before)
        elif previous is not None and previous in earlier:
            findings.digests_missing[previous] = f"named as the previous digest by {key}, absent from the bucket"
        if problem:
            findings.digests_invalid[key] = problem
        else:
            findings.digests_verified.add(key)
            verified.append(check.digest)
    return verified


def judge_logs(verified: Iterable[Digest], hashes: Mapping[str, str | None], findings: Findings) -> None:
    """Log outcomes of every file the verified digests list; `hashes` holds the SHA-256 of each
    listed file's uncompressed content, None when the file is absent."""
    for digest in verified:
        for listed in digest.log_files:
            key = listed.s3_object
            if key in findings.logs_verified:
                continue
            found = hashes.get(key)
            if found is None:
                findings.logs_missing[key] = f"listed by {digest.digest_s3_object}, absent from the bucket"
            elif found == listed.hash_value:
                findings.logs_verified.add(key)
                findings.logs_tampered.pop(key, None)
            else:
                findings.logs_tampered[key] = (
                    f"content SHA-256 {found[:12]}... differs from {listed.hash_value[:12]}... "
                    f"listed by {digest.digest_s3_object}"
                )


def covered(verified: Iterable[Digest]) -> dict[Stream, list[tuple[datetime, datetime]]]:
    """Per account folder and region, the spans of hours its verified digests cover (joined)."""
    spans: dict[Stream, list[tuple[datetime, datetime]]] = {}
    for digest in sorted(verified, key=lambda found: found.start):
        stream = stream_of(digest.digest_s3_object)
        if stream is None:
            continue
        found = spans.setdefault(stream, [])
        if found and digest.start <= found[-1][1] + JOIN:
            found[-1] = (found[-1][0], max(found[-1][1], digest.end))
        else:
            found.append((digest.start, digest.end))
    return spans


def judge_unlisted(verified: list[Digest], present: Iterable[str], findings: Findings) -> None:
    """Log files no verified digest lists although their key's time lies well inside covered hours."""
    listed = {log.s3_object for digest in verified for log in digest.log_files}
    spans = covered(verified)
    for key in present:
        if key in listed or (stream := stream_of(key)) is None or (when := log_key_time(key)) is None:
            continue
        for start, end in spans.get(stream, ()):
            if start + MARGIN < when < end - MARGIN:
                findings.logs_unlisted[key] = (
                    f"no digest lists it, though digests cover {stream.region} from {start:%Y-%m-%dT%H:%MZ} "
                    f"to {end:%Y-%m-%dT%H:%MZ}"
                )
                break
