"""`sandbox` uploads its PATHs as `local` does (issue 20 item 2): every file gets a key of its own."""

from __future__ import annotations

import boto3
from moto import mock_aws

from supportwatch.aws.local import deploy
from supportwatch.cli.sandbox import upload
from tests.helpers import TEMPLATE, MotoAccount, gzip_document, support_record

LOG = "AWSLogs/111122223333/CloudTrail/us-east-1/2023/09/11/111122223333_CloudTrail_us-east-1_20230911T1200Z_a.json.gz"


def test_sandbox_uploads_both_files_of_trees_sharing_a_path(tmp_path):
    bodies = {}
    for tree in ("A", "B"):
        (tmp_path / tree / LOG).parent.mkdir(parents=True)
        bodies[tree] = gzip_document([support_record(event_id=tree)])
        (tmp_path / tree / LOG).write_bytes(bodies[tree])
    with mock_aws():
        stack = deploy(MotoAccount(), TEMPLATE)
        upload(MotoAccount(), stack, [tmp_path / "A", tmp_path / "B"])
        s3 = boto3.client("s3", region_name="us-east-1")
        keys = [found["Key"] for found in s3.list_objects_v2(Bucket=stack.bucket)["Contents"]]
        assert sorted(keys) == [LOG, f"AWSLogs/input-2/{LOG}"]
        stored = {key: s3.get_object(Bucket=stack.bucket, Key=key)["Body"].read() for key in keys}
    assert stored == {LOG: bodies["A"], f"AWSLogs/input-2/{LOG}": bodies["B"]}
