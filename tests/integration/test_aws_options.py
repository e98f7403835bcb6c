"""The options every AWS command shares, spelled as the AWS CLI spells them: the region from AWS_REGION
or AWS_DEFAULT_REGION, --profile, --output beside --format, and the table from $SUPPORTWATCH_TABLE or
--stack."""

from __future__ import annotations

import json
import os

import boto3
import pytest

from supportwatch.aws.store import SummaryStore
from supportwatch.cli.main import main
from supportwatch.decoding.records import extract
from tests.helpers import support_record

ADMIN = "arn:aws:iam::111122223333:user/Admin"


@pytest.fixture
def table(stack, monkeypatch) -> str:
    records = [support_record(arn=ADMIN, time="2023-09-10T08:00:00Z", event_id="a1")]
    SummaryStore(boto3.client("dynamodb"), stack.resources.table).commit("s3://b/k", extract(records).events)
    monkeypatch.delenv("SUPPORTWATCH_TABLE", raising=False)
    return stack.resources.table


def identities(capsys, *args: str) -> list[str]:
    assert main(["query", *args, "--format", "json"]) == 0, capsys.readouterr().err
    return sorted(json.loads(capsys.readouterr().out)["summaries"])


def test_region_from_aws_region_or_aws_default_region(table, capsys, monkeypatch):
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.setenv("AWS_REGION", "us-east-1")  # boto3 alone reads only AWS_DEFAULT_REGION
    assert identities(capsys, "--table", table) == [ADMIN]
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")  # AWS_REGION first, as the AWS CLI
    assert identities(capsys, "--table", table) == [ADMIN]
    monkeypatch.delenv("AWS_REGION")
    assert main(["query", "--table", table]) == 1
    assert f"table {table} not found in eu-west-1" in capsys.readouterr().err
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    assert main(["query", "--table", table]) == 1
    assert capsys.readouterr().err == (
        "supportwatch: no AWS region configured (pass --region, set AWS_REGION or AWS_DEFAULT_REGION, "
        "or give the profile one)\n"
    )


def test_profile_names_the_configuration_used(table, capsys, monkeypatch, tmp_path):
    config = tmp_path / "config"
    config.write_text("[profile audit]\nregion = us-east-1\n[profile elsewhere]\nregion = eu-west-1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    for name in ("AWS_DEFAULT_REGION", "AWS_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    assert identities(capsys, "--table", table, "--profile", "audit") == [ADMIN]
    assert "AWS_PROFILE" not in os.environ  # the command's profile does not outlive it
    assert main(["query", "--table", table, "--profile", "elsewhere"]) == 1
    assert f"table {table} not found in eu-west-1" in capsys.readouterr().err
    assert main(["query", "--table", table, "--profile", "absent"]) == 1
    assert capsys.readouterr().err == (
        "supportwatch: profile absent not found in the AWS configuration (~/.aws/config)\n"
    )


def test_output_is_format_and_the_table_comes_from_the_environment_or_the_stack(stack, table, capsys, monkeypatch):
    assert main(["query", "--table", table, "--output", "csv"]) == 0
    assert capsys.readouterr().out.startswith("day,identity,")
    monkeypatch.setenv("SUPPORTWATCH_TABLE", table)  # what the sandbox exports
    assert identities(capsys) == [ADMIN]
    monkeypatch.delenv("SUPPORTWATCH_TABLE")
    template = {
        "Resources": {"Placeholder": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {"SummaryTableName": {"Value": table}, "AlertTopicArn": {"Value": stack.resources.topic_arn}},
    }
    boto3.client("cloudformation").create_stack(StackName="supportwatch", TemplateBody=json.dumps(template))
    assert identities(capsys, "--stack", "supportwatch") == [ADMIN]
    assert main(["query", "--stack", "absent"]) == 1
    assert capsys.readouterr().err == "supportwatch: stack absent not found in us-east-1: check --stack and --region\n"
