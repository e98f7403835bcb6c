"""`supportwatch verify` on moto's S3: exit codes, section 7's JSON, the table, ListPublicKeys."""

from __future__ import annotations

import gzip
import json
from datetime import timedelta
from pathlib import Path

import boto3
import msgspec
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from supportwatch.aws.digests import CloudTrailKeys
from supportwatch.cli.main import main
from supportwatch.integrity.digest import parse_digest
from tests.trail import START, Trail, fingerprint, public_der, public_keys_json

BUCKET = "trail-bucket"


@pytest.fixture
def s3():
    with mock_aws():
        client = boto3.client("s3")
        client.create_bucket(Bucket=BUCKET)
        yield client


@pytest.fixture
def keys_file(tmp_path: Path) -> str:
    path = tmp_path / "keys.json"
    path.write_text(json.dumps(public_keys_json()))
    return str(path)


def verify(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["verify", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_clean_history_exits_0_with_sections_json(s3, keys_file, capsys):
    trail = Trail(prefix="logs/")
    trail.hours(30, files=2)  # across a day boundary
    trail.upload(s3)
    code, out, _ = verify(capsys, f"s3://{BUCKET}/logs", "--public-keys", keys_file, "--format", "json")
    assert code == 0
    assert json.loads(out) == {
        "digests": {"verified": 30, "invalid": [], "missing": []},
        "logs": {"verified": 60, "tampered": [], "missing": [], "unlisted": []},
    }


def test_problems_exit_1_with_key_and_why(s3, keys_file, capsys):
    trail = Trail()
    digests = trail.hours(7)
    logs = [key for key in trail.objects if "/CloudTrail/" in key]
    trail.objects[logs[0]] = (gzip.compress(b'{"Records": []}'), {})  # modified
    del trail.objects[logs[3]]  # deleted
    del trail.objects[digests[2]]  # deleted digest
    slipped = trail.log(START + timedelta(hours=4, minutes=30))  # inside hours the digests still cover
    trail.upload(s3)
    code, out, _ = verify(capsys, f"s3://{BUCKET}", "--public-keys", keys_file, "--format", "json")
    assert code == 1
    document = json.loads(out)
    assert document["digests"] == {"verified": 6, "invalid": [], "missing": [digests[2]]}
    assert document["logs"]["tampered"] == [logs[0]]
    assert document["logs"]["unlisted"] == [slipped]
    assert document["logs"]["missing"] == [logs[3]]

    code, out, _ = verify(capsys, f"s3://{BUCKET}", "--public-keys", keys_file)
    assert code == 1
    assert f"log tampered    {logs[0]}" in out and f"digest missing  {digests[2]}" in out
    assert "absent from the bucket" in out and "no digest lists it" in out
    assert f"supportwatch backfill s3://{BUCKET}/{logs[3]} --stack STACK" in out


def test_since_until_narrow_the_listing_and_the_chain_reaches_before(s3, keys_file, capsys):
    trail = Trail()
    digests = trail.hours(72)  # 2026-11-28 .. 2026-11-30
    trail.upload(s3)
    s3.delete_object(Bucket=BUCKET, Key=digests[20])  # on the first day: outside the range asked for
    code, out, _ = verify(
        capsys, f"s3://{BUCKET}", "--since", "2026-11-29", "--until", "2026-11-29", "--public-keys", keys_file,
        "--format", "json",
    )  # fmt: skip
    document = json.loads(out)
    assert code == 0, document
    assert document["digests"]["verified"] == 25  # the day's 24 hours and the one that lists its last files


def test_nothing_to_verify_or_unusable_input_exits_2(s3, keys_file, tmp_path, capsys):
    Trail().hours(1)
    code, _, err = verify(capsys, f"s3://{BUCKET}", "--public-keys", keys_file)
    assert code == 2 and "no AWSLogs/ folder" in err
    trail = Trail()
    trail.log(START)
    trail.upload(s3)
    code, _, err = verify(capsys, f"s3://{BUCKET}", "--public-keys", keys_file)
    assert code == 2 and "no digest files" in err
    bad = tmp_path / "bad.json"
    bad.write_text('{"keys": []}')
    code, _, err = verify(capsys, f"s3://{BUCKET}", "--public-keys", str(bad))
    assert code == 2 and "list-public-keys" in err


def test_cloudtrail_keys_are_fetched_per_region_once_and_refetched_for_a_new_fingerprint():
    trail = Trail(region="eu-west-1")
    digest = parse_digest(gzip.decompress(trail.objects[trail.hours(1)[0]][0]))
    cloudtrail = boto3.client("cloudtrail", region_name="eu-west-1")
    regions = []
    with Stubber(cloudtrail) as stub:
        answer = {"PublicKeyList": [{"Value": public_der(), "Fingerprint": fingerprint(), "ValidityStartTime": START}]}
        stub.add_response("list_public_keys", answer)
        stub.add_response("list_public_keys", {"PublicKeyList": []})
        keys = CloudTrailKeys(lambda region: regions.append(region) or cloudtrail)
        assert keys.key_for(digest).der == public_der()
        assert keys.key_for(digest).fingerprint == fingerprint()  # cached: no second call
        other = {**msgspec.to_builtins(digest), "digestPublicKeyFingerprint": "f" * 32}
        rotated = parse_digest(msgspec.json.encode(other))
        assert keys.key_for(rotated) is None
        stub.assert_no_pending_responses()
    assert regions == ["eu-west-1", "eu-west-1"]


def test_an_endpoint_without_list_public_keys_is_one_line(moto_server, capsys):
    """Issue 20 item 7: moto (and so the sandbox) answers ListPublicKeys with an HTML 500 page, which
    verify printed whole after eight attempts; it now says once what to do instead."""
    s3 = boto3.client("s3", endpoint_url=moto_server)
    s3.create_bucket(Bucket=BUCKET)
    trail = Trail()
    trail.hours(2)
    trail.upload(s3)
    code, out, err = verify(capsys, f"s3://{BUCKET}", "--endpoint-url", moto_server)
    assert (code, out) == (2, "")
    assert err.splitlines() == [
        "found 2 digest files and 4 log files",
        "supportwatch: the endpoint does not implement CloudTrail's ListPublicKeys: pass --public-keys FILE "
        "(what `aws cloudtrail list-public-keys` prints)",
    ]
