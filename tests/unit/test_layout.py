"""CloudTrail key layout, the date folders a range is listed with, and the walk that finds regions."""

from __future__ import annotations

from datetime import date

import pytest

from supportwatch.identities.short import shorten_identity
from supportwatch.layout import (
    DIGESTS,
    LayoutError,
    LogKey,
    date_folders,
    manifest_line,
    parse_log_key,
    parse_s3_uri,
    plan,
)


def test_log_keys_with_and_without_prefix_and_organization():
    key = "logs/x/AWSLogs/o-abcd123456/111122223333/CloudTrail/eu-west-1/2023/09/10/f.json.gz"
    assert parse_log_key(key) == LogKey(
        "logs/x/", "o-abcd123456", "111122223333", "eu-west-1", date(2023, 9, 10), "f.json.gz"
    )
    plain = parse_log_key("AWSLogs/111122223333/CloudTrail/us-east-1/2024/02/29/f.json.gz")
    assert plain is not None and plain.prefix == "" and plain.org_id is None and plain.day == date(2024, 2, 29)
    for other in (
        "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2023/09/10/f.json.gz",
        "AWSLogs/111122223333/CloudTrail/us-east-1/2023/02/30/f.json.gz",
        "AWSLogs/111122223333/CloudTrail/us-east-1/2023/9/10/f.json.gz",
        "AWSLogs/111122223333/CloudTrail/us-east-1/2023/09/10/",
        "AWSLogs/1234/CloudTrail/us-east-1/2023/09/10/f.json.gz",
        "unrelated.txt",
    ):
        assert parse_log_key(other) is None, other


def test_s3_uris():
    assert parse_s3_uri("s3://bucket") == ("bucket", "")
    assert parse_s3_uri("s3://bucket/") == ("bucket", "")
    assert parse_s3_uri("s3://bucket/a/b") == ("bucket", "a/b/")
    for bad in ("bucket/key", "s3:///key", "https://bucket"):
        with pytest.raises(LayoutError):
            parse_s3_uri(bad)


def test_date_folders_cover_exactly_the_range_with_few_listings():
    assert date_folders(date(2023, 9, 10), date(2023, 9, 12)) == ["2023/09/10/", "2023/09/11/", "2023/09/12/"]
    assert date_folders(date(2023, 8, 30), date(2023, 10, 1)) == [
        "2023/08/30/",
        "2023/08/31/",
        "2023/09/",
        "2023/10/01/",
    ]
    assert date_folders(date(2022, 12, 31), date(2024, 2, 29)) == ["2022/12/31/", "2023/", "2024/01/", "2024/02/"]
    assert date_folders(date(2023, 1, 1), date(2023, 12, 31)) == ["2023/"]


class FakeLister:
    def __init__(self, keys: list[str]) -> None:
        self.keys = keys
        self.calls: list[str] = []

    def folders(self, bucket: str, prefix: str) -> list[str]:
        self.calls.append(prefix)
        found = {prefix + key[len(prefix) :].split("/", 1)[0] + "/" for key in self.keys if key.startswith(prefix)}
        return sorted(folder for folder in found if not folder.endswith("//"))


KEYS = [
    "t/AWSLogs/o-abcd123456/111122223333/CloudTrail/us-east-1/2023/09/10/a.json.gz",
    "t/AWSLogs/o-abcd123456/111122223333/CloudTrail/eu-west-1/2023/09/11/b.json.gz",
    "t/AWSLogs/o-abcd123456/111122223333/CloudTrail-Digest/us-east-1/2023/09/10/d.json.gz",
    "t/AWSLogs/o-abcd123456/444455556666/CloudTrail/us-east-1/2023/09/12/c.json.gz",
    "t/AWSLogs/777788889999/CloudTrail/ap-south-1/2023/09/12/e.json.gz",
    "t/other/x.txt",
]


def test_plan_finds_accounts_organizations_and_regions_with_delimiter_listings():
    lister = FakeLister(KEYS)
    found = plan(lister, "b", "t/", date(2023, 9, 11), date(2023, 9, 12))
    assert found.regions == (
        "t/AWSLogs/777788889999/CloudTrail/ap-south-1/",
        "t/AWSLogs/o-abcd123456/111122223333/CloudTrail/eu-west-1/",
        "t/AWSLogs/o-abcd123456/111122223333/CloudTrail/us-east-1/",
        "t/AWSLogs/o-abcd123456/444455556666/CloudTrail/us-east-1/",
    )
    assert found.prefixes()[:2] == [
        "t/AWSLogs/777788889999/CloudTrail/ap-south-1/2023/09/11/",
        "t/AWSLogs/777788889999/CloudTrail/ap-south-1/2023/09/12/",
    ]
    assert lister.calls == [
        "t/",
        "t/AWSLogs/",
        "t/AWSLogs/o-abcd123456/",
        "t/AWSLogs/777788889999/CloudTrail/",
        "t/AWSLogs/o-abcd123456/111122223333/CloudTrail/",
        "t/AWSLogs/o-abcd123456/444455556666/CloudTrail/",
    ]


def test_plan_starts_where_the_prefix_points():
    lister = FakeLister(KEYS)
    region = "t/AWSLogs/o-abcd123456/111122223333/CloudTrail/us-east-1/"
    found = plan(lister, "b", region + "2023/09/", date(2023, 9, 29), None)
    assert found.prefixes() == [region + "2023/09/29/", region + "2023/09/30/"]
    assert lister.calls == []
    account = plan(lister, "b", "t/AWSLogs/o-abcd123456/444455556666/", date(2023, 9, 12), date(2023, 9, 12))
    assert account.regions == ("t/AWSLogs/o-abcd123456/444455556666/CloudTrail/us-east-1/",)
    with pytest.raises(LayoutError, match="no AWSLogs/ folder directly under s3://b/: pass the trail's key prefix"):
        plan(FakeLister(KEYS), "b", "", None, None)
    with pytest.raises(LayoutError, match="empty date range"):
        plan(FakeLister(KEYS), "b", "t/", date(2023, 9, 12), date(2023, 9, 11))


def test_manifest_lines_url_encode_keys():
    assert manifest_line("b", "AWSLogs/1/CloudTrail/r/2023/09/10/a b+c,d.json.gz") == (
        "b,AWSLogs/1/CloudTrail/r/2023/09/10/a%20b%2Bc%2Cd.json.gz"
    )


def test_identities_shorten_keeping_account_and_last_element():
    session = "arn:aws:sts::111122223333:assumed-role/SupportEngineers/alice@example.com"
    assert shorten_identity(session, 80) == session
    assert shorten_identity(session, 60) == "111122223333:assumed-role/SupportEngineers/alice@example.com"
    assert shorten_identity(session, 50) == "111122223333:SupportEngineers/alice@example.com"
    assert shorten_identity(session, 32) == "111122223333:…/alice@example.com"
    assert len(shorten_identity(session, 20)) == 20
    center = "identitycenter:arn:aws:identitystore::111122223333:identitystore/d-1234567890/90677f5e-2034"
    assert shorten_identity(center, 40) == "identitycenter:…/90677f5e-2034"


def test_plan_of_one_key_lists_exactly_that_key_and_digests_are_walked_alike():
    lister = FakeLister(KEYS)
    key = "t/AWSLogs/o-abcd123456/111122223333/CloudTrail/us-east-1/2023/09/10/a.json.gz"
    found = plan(lister, "b", parse_s3_uri(f"s3://b/{key}")[1], None, None)
    assert found.prefixes() == [key]
    digests = plan(lister, "b", "t/AWSLogs/o-abcd123456/", None, date(2023, 9, 10), service=DIGESTS)
    assert digests.regions == ("t/AWSLogs/o-abcd123456/111122223333/CloudTrail-Digest/us-east-1/",)
