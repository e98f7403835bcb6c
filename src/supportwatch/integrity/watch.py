"""The function's integrity check of each digest file as it arrives (contract section 7). Pure: S3,
the table and CloudTrail's keys come in as protocols.

On arrival a digest's signature and its link to the previous digest are checked (`digest-invalid`,
`digest-missing`), and the files it lists that the function already processed are compared by
SHA-256 (`tampered-log`). Files may be processed after their digest arrives, so the rest waits a
grace period: each arrival also walks the chain back to the digests whose hour ended a grace period
ago and checks them fully (`tampered-log`, `missing-log`, `unlisted-log`). Digests arrive every hour
per account and region, so every digest gets that late check; the alert claims make each alert once.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from supportwatch.alerting import once_per_claim
from supportwatch.config import AlertSettings
from supportwatch.integrity.digest import Digest, Stream, log_key_time, stream_of
from supportwatch.integrity.outcomes import DigestCheck, DigestObject, KeyLookup, chain_problem, check_digest
from supportwatch.models import Alert, ObjectRef
from supportwatch.rules import object_alert

LATE_WINDOW = timedelta(hours=2)  # digests ending this long before the grace point are checked too: arrivals jitter


class LogBook(Protocol):
    """What the function recorded of the log files it processed."""

    def hashes(self, keys: Iterable[str]) -> dict[str, str]:
        """Key -> SHA-256 of the uncompressed content, for the keys processed."""
        ...

    def processed(self, stream: Stream, start: datetime, end: datetime) -> list[str]:
        """Keys processed whose key time lies in [start, end)."""
        ...


ReadDigest = Callable[[str, str], DigestObject | None]
Absence = Callable[[str, str], str | None]  # why (bucket, key) cannot be read, None when it can


@dataclass(frozen=True, slots=True)
class Verdict:
    """What one digest's arrival found: the alerts due and a line for the function's log."""

    alerts: list[Alert]
    summary: str


@dataclass(frozen=True, slots=True)
class DigestWatch:
    read: ReadDigest
    key_for: KeyLookup | None  # None: no public keys (the embedded AWS): digests are not verifiable
    book: LogBook
    absence: Absence
    grace: timedelta
    clock: Callable[[], datetime]
    settings: AlertSettings
    stack_hint: str = "STACK"

    def arrived(self, ref: ObjectRef) -> Verdict | None:
        """Check a digest that just arrived; None when it is gone from the bucket."""
        found = self.read(ref.bucket, ref.key)
        if found is None:
            return None
        if self.key_for is None:
            return Verdict([], "digest file not verifiable: no public keys (local runs take --public-keys FILE)")
        check = check_digest(found, self.key_for)
        if check.digest is None or not check.verified:
            return self._due([_digest_invalid(ref, check.problem or "unreadable")], "invalid")
        alerts: list[Alert] = []
        previous = self._previous(ref.bucket, check)
        if previous is None and check.previous:
            alerts.append(_digest_missing(ObjectRef(ref.bucket, check.previous), ref.key))
        elif previous is not None and (problem := chain_problem(check.digest, previous)):
            alerts.append(_digest_invalid(ref, problem))
        alerts += self._tampered(ref.bucket, check.digest, self.book.hashes(_listed(check.digest)))
        alerts += self._late_checks(ref.bucket, check, previous)
        return self._due(alerts, f"verified; {len(check.digest.log_files)} log files listed")

    def _due(self, alerts: list[Alert], summary: str) -> Verdict:
        """The alerts the settings publish, each claim key once (a digest replayed after its grace period
        is checked on arrival and fully: the same altered file must not be raised twice)."""
        due = [alert for alert in once_per_claim(alerts) if self.settings.publishes(alert.rule, alert.severity)]
        return Verdict(due, summary)

    def _previous(self, bucket: str, check: DigestCheck) -> DigestCheck | None:
        if not check.previous or self.key_for is None:  # no key_for: `arrived` stops before any chain walk
            return None
        found = self.read(check.digest.previous_digest_s3_bucket or bucket, check.previous) if check.digest else None
        return check_digest(found, self.key_for) if found else None

    def _late_checks(self, bucket: str, newest: DigestCheck, previous: DigestCheck | None) -> list[Alert]:
        """Walk back to the digests whose hour ended a grace period ago and check them fully."""
        due = self.clock() - self.grace
        if newest.digest is not None and newest.digest.end <= due:  # an old digest, replayed: check it alone
            return self._full_check(bucket, newest.digest, None, newest.previous is not None)
        alerts: list[Alert] = []
        later, current = newest, previous
        while current is not None and current.digest is not None and current.verified:
            if current.digest.end <= due - LATE_WINDOW:
                break
            if current.digest.end <= due:
                alerts += self._full_check(bucket, current.digest, later.digest, current.previous is not None)
            later, current = current, self._previous(bucket, current)
        return alerts

    def _full_check(self, bucket: str, digest: Digest, later: Digest | None, has_previous: bool) -> list[Alert]:
        hashes = self.book.hashes(_listed(digest))
        alerts = self._tampered(bucket, digest, hashes)
        for key in _listed(digest):
            if key not in hashes:
                alerts.append(self._missing(ObjectRef(bucket, key), digest))
        stream = stream_of(digest.digest_s3_object)
        if stream is None or not has_previous or later is None:
            return alerts  # the first digest of a chain: its hour's start is too close to the covered hours' edge
        listed = set(_listed(digest)) | set(_listed(later))
        for key in self.book.processed(stream, digest.start, digest.end):
            if key not in listed:
                alerts.append(_unlisted(ObjectRef(bucket, key), digest))
        return alerts

    def _tampered(self, bucket: str, digest: Digest, hashes: Mapping[str, str]) -> list[Alert]:
        return [
            object_alert(
                "tampered-log",
                ObjectRef(bucket, log.s3_object),
                f"CloudTrail log altered: {log.s3_object}",
                f"The log file's content (SHA-256 {hashes[log.s3_object]}) differs from what CloudTrail delivered "
                f"(SHA-256 {log.hash_value}, listed by digest {digest.digest_s3_object}).",
            )
            for log in digest.log_files
            if log.s3_object in hashes and hashes[log.s3_object] != log.hash_value
        ]

    def _missing(self, ref: ObjectRef, digest: Digest) -> Alert:
        why = self.absence(ref.bucket, ref.key)
        if why is None:
            fix = (
                "It is in the bucket but was never processed (a lost notification, or an invocation that failed "
                f"for good): count it with `supportwatch backfill {shlex.quote(ref.uri)} --stack {self.stack_hint}`."
            )
        else:
            fix = f"It is gone from the bucket ({why}): its events cannot be re-read."
        return object_alert(
            "missing-log",
            ref,
            f"CloudTrail log never counted: {ref.key}",
            f"Digest {digest.digest_s3_object} lists this log file; a grace period later the function has "
            f"still not processed it. {fix}",
        )


def _listed(digest: Digest | None) -> list[str]:
    return [log.s3_object for log in digest.log_files] if digest else []


def _digest_invalid(ref: ObjectRef, reason: str) -> Alert:
    return object_alert(
        "digest-invalid", ref, f"CloudTrail digest invalid: {ref.key}", f"The digest file cannot be trusted: {reason}."
    )


def _digest_missing(ref: ObjectRef, named_by: str) -> Alert:
    return object_alert(
        "digest-missing",
        ref,
        f"CloudTrail digest deleted: {ref.key}",
        f"Digest {named_by} names this digest file as its previous one, and it is not in the bucket.",
    )


def _unlisted(ref: ObjectRef, digest: Digest) -> Alert:
    when = log_key_time(ref.key)
    named = f" (named for {when:%Y-%m-%dT%H:%MZ})" if when else ""
    return object_alert(
        "unlisted-log",
        ref,
        f"CloudTrail log no digest lists: {ref.key}",
        f"The function processed this log file{named}, but neither digest "
        f"{digest.digest_s3_object} nor the next one lists it: CloudTrail did not deliver it.",
    )
