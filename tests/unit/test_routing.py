"""Which object keys are CloudTrail logs."""

from __future__ import annotations

import pytest

from supportwatch.routing import skip_reason

LOG = "111122223333_CloudTrail_us-east-1_20230911T1635Z_Ab12Cd34Ef56Gh78.json.gz"


@pytest.mark.parametrize(
    "key",
    [
        f"AWSLogs/111122223333/CloudTrail/us-east-1/2023/09/11/{LOG}",
        f"AWSLogs/o-abc123def4/111122223333/CloudTrail/us-east-1/2023/09/11/{LOG}",
        f"trails/AWSLogs/111122223333/CloudTrail/us-east-1/2023/09/11/{LOG}",
        f"my logs/a b/AWSLogs/o-abc123def4/111122223333/CloudTrail/us-east-1/2023/09/11/{LOG}",
        "export.jsonl",
    ],
)
def test_logs_are_read(key):
    assert skip_reason(key) is None


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        (
            "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2023/09/11/"
            "111122223333_CloudTrail-Digest_us-east-1_main_us-east-1_20230911T163413Z.json.gz",
            "digest file",
        ),
        (
            "my logs/AWSLogs/o-abc123def4/111122223333/CloudTrail-Digest/us-east-1/2023/09/11/x.json.gz",
            "digest file",
        ),
        (
            "AWSLogs/111122223333/CloudTrail-Insight/us-east-1/2023/09/11/"
            "111122223333_CloudTrail-Insight_us-east-1_20230911T1635Z_Ab12Cd34Ef56Gh78.json.gz",
            "Insights event file",
        ),
        ("AWSLogs/o-abc123def4/111122223333/CloudTrail-Insight/eu-west-1/x.json.gz", "Insights event file"),
        ("AWSLogs/111122223333/CloudTrail/us-east-1/2023/09/11/", "folder marker"),
        ("my logs/", "folder marker"),
        ("AWSLogs/111122223333/ConfigWritabilityCheckFile", "CloudTrail write check"),
        ("my logs/AWSLogs/o-abc123def4/111122223333/ConfigWritabilityCheckFile", "CloudTrail write check"),
        ("", "empty key"),
        (
            "AWSLogs/o-abc123def4/111122223333/Config/us-east-1/2023/9/11/ConfigHistory/x.json.gz",
            "Config file, not a CloudTrail log",
        ),
        (
            "logs/AWSLogs/111122223333/vpcflowlogs/us-east-1/2023/09/11/x.log.gz",
            "vpcflowlogs file, not a CloudTrail log",
        ),
    ],
)
def test_not_logs_are_skipped(key, reason):
    assert skip_reason(key) == reason
