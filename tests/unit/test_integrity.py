"""Digest outcomes (contract section 7) over trails built the documented way, without AWS."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
from datetime import timedelta

import pytest

from supportwatch.decoding import UnreadableLog, read_events
from supportwatch.decoding.inflate import ContentHash
from supportwatch.integrity.digest import (
    MalformedDigest,
    content_sha256,
    digest_key_time,
    log_key_time,
    parse_digest,
    stream_of,
    string_to_sign,
)
from supportwatch.integrity.keys import key_from_api
from supportwatch.integrity.outcomes import (
    DigestCheck,
    DigestObject,
    Findings,
    check_digest,
    judge_digests,
    judge_logs,
    judge_unlisted,
)
from supportwatch.layout import parse_log_key
from tests.helpers import FIXTURES
from tests.trail import START, Trail, fingerprint, public_keys_json

KEYS = {key.fingerprint: key for key in map(key_from_api, public_keys_json()["PublicKeyList"])}


def is_log_key(key: str) -> bool:
    return parse_log_key(key) is not None


def known(digest):
    return KEYS.get(digest.digest_public_key_fingerprint)


def read(trail: Trail, key: str) -> DigestObject | None:
    if key not in trail.objects:
        return None
    body, metadata = trail.objects[key]
    return DigestObject(trail.bucket, key, gzip.decompress(body), metadata.get("signature"))


def judge(trail: Trail, key_for=known) -> Findings:
    """What `verify` decides, over the trail's objects in memory."""
    digest_keys = [key for key in trail.objects if "CloudTrail-Digest" in key]
    checks = {key: check_digest(read(trail, key), key_for) for key in digest_keys}
    named = {check.previous for check in checks.values() if check.previous and check.previous not in checks}
    earlier: dict[str, DigestCheck | None] = {}
    for key in named:
        found = read(trail, key)
        earlier[key] = check_digest(found, key_for) if found else None
    findings = Findings()
    verified = judge_digests(checks, earlier, findings)
    hashes = {
        log.s3_object: content_sha256(trail.objects[log.s3_object][0], 1 << 30)
        if log.s3_object in trail.objects
        else None
        for digest in verified
        for log in digest.log_files
    }
    judge_logs(verified, hashes, findings)
    judge_unlisted(verified, [key for key in trail.objects if is_log_key(key)], findings)
    return findings


def rewrite(trail: Trail, key: str, change) -> None:
    body, metadata = trail.objects[key]
    document = json.loads(gzip.decompress(body))
    change(document)
    trail.objects[key] = (gzip.compress(json.dumps(document).encode()), metadata)


def test_a_clean_chain_over_hours_verifies_every_digest_and_log():
    trail = Trail()
    digests = trail.hours(6, files=3)
    findings = judge(trail)
    assert findings.clean
    assert findings.document() == {
        "digests": {"verified": 6, "invalid": [], "missing": []},
        "logs": {"verified": 18, "tampered": [], "missing": [], "unlisted": []},
    }
    assert findings.digests_verified == set(digests)


def test_the_string_to_sign_is_the_documented_one():
    trail = Trail()
    first, second = trail.hours(2)
    digest = parse_digest(read(trail, second).content)
    lines = string_to_sign(digest, "ab" * 32).decode().split("\n")
    assert lines == [digest.digest_end_time, f"trail-bucket/{second}", "ab" * 32, digest.previous_digest_signature]
    assert string_to_sign(parse_digest(read(trail, first).content), "cd").decode().endswith("\ncd\nnull")


def test_a_modified_log_is_tampered():
    trail = Trail()
    trail.hours(3)
    victim = next(key for key in trail.objects if is_log_key(key))
    trail.objects[victim] = (gzip.compress(b'{"Records": []}'), {})
    findings = judge(trail)
    assert list(findings.logs_tampered) == [victim]
    assert "differs" in findings.logs_tampered[victim]
    assert len(findings.logs_verified) == 5 and not findings.clean


def test_a_log_recompressed_with_the_same_content_is_still_verified():
    trail = Trail()
    trail.hours(2)
    victim = next(key for key in trail.objects if is_log_key(key))
    trail.objects[victim] = (gzip.compress(gzip.decompress(trail.objects[victim][0]), compresslevel=1), {})
    assert judge(trail).clean


def test_a_deleted_log_is_missing():
    trail = Trail()
    trail.hours(3)
    victim = [key for key in trail.objects if is_log_key(key)][2]
    del trail.objects[victim]
    findings = judge(trail)
    assert list(findings.logs_missing) == [victim]
    assert findings.document()["logs"]["missing"] == [victim]


def test_a_log_no_digest_lists_inside_covered_hours_is_unlisted():
    trail = Trail()
    trail.hours(2)
    slipped = trail.log(START + timedelta(hours=2, minutes=20))
    trail.pending.remove(slipped)  # written into the bucket by someone else: no digest lists it
    trail.hours(3, start=START + timedelta(hours=2))
    findings = judge(trail)
    assert list(findings.logs_unlisted) == [slipped]
    assert not findings.logs_tampered and not findings.logs_missing


def test_logs_near_either_end_of_the_covered_hours_are_not_unlisted():
    trail = Trail()
    early = trail.log(START - timedelta(minutes=30))
    trail.pending.remove(early)
    trail.hours(3)
    late = trail.log(START + timedelta(hours=3, minutes=5))
    assert judge(trail).logs_unlisted == {}
    assert late in trail.pending


def test_a_deleted_digest_is_missing_and_the_one_naming_it_still_verified():
    trail = Trail()
    digests = trail.hours(4)
    del trail.objects[digests[1]]
    findings = judge(trail)
    assert findings.document()["digests"] == {"verified": 3, "invalid": [], "missing": [digests[1]]}
    assert digests[2] in findings.digests_verified
    assert digests[2] in findings.digests_missing[digests[1]]


def test_a_digest_altered_after_signing_is_invalid_and_so_is_the_next_link():
    trail = Trail()
    digests = trail.hours(4)
    rewrite(trail, digests[1], lambda document: document["logFiles"].pop())
    findings = judge(trail)
    assert set(findings.digests_invalid) == {digests[1], digests[2]}
    assert "signature does not hold" in findings.digests_invalid[digests[1]]
    assert "chain broken" in findings.digests_invalid[digests[2]]
    assert findings.digests_verified == {digests[0], digests[3]}


def test_a_digest_without_signature_is_invalid():
    trail = Trail()
    digests = trail.hours(2)
    body, _ = trail.objects[digests[0]]
    trail.objects[digests[0]] = (body, {})
    findings = judge(trail)
    assert "no signature" in findings.digests_invalid[digests[0]]


def test_a_digest_signed_with_an_unknown_key_is_invalid():
    trail = Trail(seed=1)
    digests = trail.hours(2)
    findings = judge(trail)
    assert set(findings.digests_invalid) == set(digests)
    assert fingerprint(1) in findings.digests_invalid[digests[0]]
    assert findings.logs_verified == set()


def test_a_digest_whose_signature_fits_another_key_is_invalid():
    trail = Trail(seed=1)
    digests = trail.hours(1)
    findings = judge(trail, key_for=lambda digest: KEYS[fingerprint(0)])
    assert "signature does not hold" in findings.digests_invalid[digests[0]]


def test_a_digest_copied_to_another_key_or_unreadable_is_invalid():
    trail = Trail()
    (digest,) = trail.hours(1)
    moved = digest.replace("20261128", "20261127")
    trail.objects[moved] = trail.objects.pop(digest)
    trail.objects[moved.replace(".json.gz", "-x.json.gz")] = (gzip.compress(b"[1, 2]"), {"signature": "00"})
    findings = judge(trail)
    assert "names another location" in findings.digests_invalid[moved]
    assert "not a CloudTrail digest" in findings.digests_invalid[moved.replace(".json.gz", "-x.json.gz")]
    with pytest.raises(MalformedDigest):
        parse_digest(b'{"awsAccountId": "1"}')


def test_backfill_digests_list_late_files_without_breaking_the_chain():
    trail = Trail()
    trail.hours(2)
    late = trail.log(START + timedelta(hours=2, minutes=10))
    trail.pending.remove(late)
    trail.hours(2, start=START + timedelta(hours=2))
    backfill = trail.digest(START + timedelta(hours=3), backfill=True, logs=[late])
    trail.hours(2, start=START + timedelta(hours=4))
    findings = judge(trail)
    assert findings.clean
    assert backfill in findings.digests_verified and late in findings.logs_verified


def test_organization_trail_keys_under_a_prefix():
    trails = [Trail(prefix="org/", org="o-a1b2c3d4e5", account=account) for account in ("111111111111", "222222222222")]
    for trail in trails:
        trail.hours(4)
    merged = Trail()
    for trail in trails:
        merged.objects.update(trail.objects)
    slipped = trails[1].log(START + timedelta(hours=2))
    merged.objects[slipped] = trails[1].objects[slipped]
    findings = judge(merged)
    assert findings.document()["digests"]["verified"] == 8
    assert list(findings.logs_unlisted) == [slipped]
    assert stream_of(slipped).account_folder == "org/AWSLogs/o-a1b2c3d4e5/222222222222/"


GZIP_FIXTURES = [
    "forms/records.json.gz",
    "forms/multimember.json.gz",
    "forms/lines.jsonl.gz",
    "traps/nested-records.json.gz",
]


@pytest.mark.parametrize("name", GZIP_FIXTURES)
def test_the_decoder_hashes_the_uncompressed_content_as_it_reads_it(name):
    data = (FIXTURES / name).read_bytes()
    content = ContentHash()
    read_events(data, 1 << 30, content=content)  # fast path, several members, exact path after the fast one gave up
    whole = b"".join(gzip.GzipFile(fileobj=io.BytesIO(data)))
    assert content.complete and content.size == len(whole)
    assert content.hexdigest() == hashlib.sha256(whole).hexdigest() == content_sha256(data, 1 << 30)


def test_plain_content_is_its_own_bytes_and_a_truncated_stream_is_never_complete():
    content = ContentHash()
    read_events(b'{"Records": []}', 1 << 30, content=content)
    assert content.complete and content.hexdigest() == hashlib.sha256(b'{"Records": []}').hexdigest()
    with pytest.raises(UnreadableLog):
        read_events((FIXTURES / "forms/truncated.json.gz").read_bytes(), 1 << 30, content=content)
    assert not content.complete


@pytest.mark.parametrize(
    "name",
    [
        "111122223333_CloudTrail_us-east-1_20230900T1200Z_0.json.gz",  # day 00
        "111122223333_CloudTrail_us-east-1_20231301T1200Z_0.json.gz",  # month 13
        "111122223333_CloudTrail_us-east-1_20230910T2460Z_0.json.gz",  # 24:60
    ],
)
def test_a_log_name_whose_digits_are_no_date_has_no_time(name):
    assert log_key_time(f"AWSLogs/111122223333/CloudTrail/us-east-1/2023/09/10/{name}") is None


def test_a_digest_name_whose_digits_are_no_date_has_no_time():
    folder = "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2023/09/30/"
    key = folder + "111122223333_CloudTrail-Digest_us-east-1_t_us-east-1_20230932T120000Z.json.gz"
    assert digest_key_time(key) is None
    assert digest_key_time(key.replace("0932T", "0930T")) is not None
