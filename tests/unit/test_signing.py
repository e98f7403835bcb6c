"""The sandbox's digests are CloudTrail's: verify's own checks accept them, chained per account and
region, one per hour of log files, and catch a log file changed after it was listed."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime

import pytest

from supportwatch.integrity.keys import key_from_api
from supportwatch.integrity.outcomes import DigestObject, Findings, check_digest, judge_digests, judge_logs
from supportwatch.integrity.signing import SigningKey, Trail, log_file

NOW = datetime(2026, 12, 6, 20, 45, 7, tzinfo=UTC)


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return SigningKey()


def logs() -> list[tuple[str, str]]:
    """Three hours of one stream, one hour of another, a key without a time, the hour of `NOW`."""
    keys = [
        log_file("AWSLogs/111122223333/", "us-east-1", datetime(2023, 7, 10, hour, minute, tzinfo=UTC), [])[0]
        for hour, minute in ((11, 50), (12, 5), (12, 35), (14, 0))
    ]
    keys.append(log_file("AWSLogs/o-abc/222233334444/", "eu-west-1", datetime(2023, 7, 10, 12, tzinfo=UTC), [])[0])
    keys.append("AWSLogs/111122223333/CloudTrail/us-east-1/2023/07/10/no-time.json.gz")
    keys.append(log_file("AWSLogs/111122223333/", "us-east-1", NOW, [])[0])
    return [(key, f"{number:064x}") for number, key in enumerate(keys)]


def judged(trail: Trail, key: SigningKey, hashes: dict[str, str]) -> Findings:
    public = key_from_api(key.public_keys(NOW, NOW)["PublicKeyList"][0])
    checks = {}
    for digest in trail.digests(logs(), key, NOW):
        found = DigestObject(trail.bucket, digest.key, gzip.decompress(digest.body), digest.metadata["signature"])
        checks[digest.key] = check_digest(found, lambda _: public)
    findings = Findings()
    judge_logs(judge_digests(checks, {}, findings), hashes, findings)
    return findings


def test_every_hour_gets_a_signed_digest_chained_to_the_one_before(key):
    trail = Trail("sandbox", "us-east-1", "bucket")
    digests = trail.digests(logs(), key, NOW)
    assert [digest.key.rsplit("_", 1)[-1] for digest in digests] == [
        "20230710T120000Z.json.gz",
        "20230710T130000Z.json.gz",
        "20230710T150000Z.json.gz",
        "20261206T204507Z.json.gz",  # the current hour's digest ends now, not in the future
        "20230710T130000Z.json.gz",
    ]
    assert digests[-1].key.startswith("AWSLogs/o-abc/222233334444/CloudTrail-Digest/eu-west-1/2023/07/10/")
    assert all(digest.metadata["signature-algorithm"] == "SHA256withRSA" for digest in digests)
    hashes = dict(logs())
    findings = judged(trail, key, hashes)
    assert len(findings.digests_verified) == 5 and not findings.digests_invalid and not findings.digests_missing
    assert findings.logs_verified == set(hashes) - {
        "AWSLogs/111122223333/CloudTrail/us-east-1/2023/07/10/no-time.json.gz"
    }


def test_a_changed_log_and_another_key_are_caught(key):
    trail = Trail("sandbox", "us-east-1", "bucket")
    hashes = dict(logs())
    changed = next(iter(hashes))
    findings = judged(trail, key, {**hashes, changed: "f" * 64})
    assert list(findings.logs_tampered) == [changed]
    other = SigningKey()
    public = key_from_api(other.public_keys(NOW, NOW)["PublicKeyList"][0])
    digest = trail.digests(logs(), key, NOW)[0]
    found = DigestObject("bucket", digest.key, gzip.decompress(digest.body), digest.metadata["signature"])
    assert check_digest(found, lambda _: public).problem.startswith("signature does not hold")
