"""`supportwatch pseudonym` from a key file or a stack's secret, and backfill into a pseudonymous table
(contract section 10), on moto."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest

from supportwatch.aws.store import SummaryStore
from supportwatch.cli.main import main
from supportwatch.privacy import IdentityMode, Pseudonymizer
from tests.integration.test_backfill import FILES, put_trail
from tests.privacy import KEY, KEY_TEXT, pseudonym

PERSON = "arn:aws:sts::111122223333:assumed-role/Admin/alice@example.com"
# The landed vectors (tests/unit/test_privacy.py), computed apart from Python with openssl.
VECTORS = {PERSON: "p-qka4pxvz3fy3n3wfhuxmjtbhgr", "203.0.113.9": "p-vkggdnei3upqjwkcesr3lyeb3r"}
PEOPLE = {f"arn:aws:iam::{key.split('/')[3]}:{who}" for key, (who, _) in FILES.items()}  # put_trail's users


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "key"
    path.write_text(f"{KEY_TEXT}\n", encoding="utf-8")
    return path


def deployed(name: str, secret_text: str | None) -> None:
    """A plain CloudFormation stack with the outputs of a supportwatch stack (moto cannot transform SAM),
    pseudonymous when it names a secret holding `secret_text`."""
    outputs = {"SummaryTableName": {"Value": "t"}, "AlertTopicArn": {"Value": "arn:aws:sns:us-east-1:1:t"}}
    if secret_text is not None:
        arn = boto3.client("secretsmanager").create_secret(Name=f"{name}-key", SecretString=secret_text)["ARN"]
        outputs["PseudonymKeySecretArn"] = {"Value": arn}
    template = {"Resources": {"Placeholder": {"Type": "AWS::SNS::Topic"}}, "Outputs": outputs}
    boto3.client("cloudformation").create_stack(StackName=name, TemplateBody=json.dumps(template))


@pytest.mark.parametrize("value", list(VECTORS))
def test_pseudonym_of_a_key_file_is_section_10s(capsys, key_file, value):
    assert run(capsys, "pseudonym", value, "--pseudonymize-key", str(key_file)) == (0, VECTORS[value] + "\n", "")


def test_pseudonym_of_a_stack_reads_its_secret(stack, capsys):
    deployed("private", f"{KEY_TEXT}\n")
    assert run(capsys, "pseudonym", PERSON, "--stack", "private") == (0, VECTORS[PERSON] + "\n", "")
    deployed("clear", None)
    code, out, err = run(capsys, "pseudonym", PERSON, "--stack", "clear")
    assert (code, out) == (1, "") and err == (
        "supportwatch: stack clear has no pseudonym key: it keeps identities in clear (IdentityMode=plain)\n"
    )
    with pytest.raises(SystemExit) as exited:
        main(["pseudonym", PERSON])
    assert exited.value.code == 2 and "one of the arguments --pseudonymize-key --stack is required" in (
        capsys.readouterr().err
    )


def test_backfill_writes_pseudonyms_and_a_plain_run_is_refused(stack, capsys, key_file):
    put_trail(stack.put)
    location, table = f"s3://{stack.bucket}/trails/", stack.resources.table
    code, _, err = run(
        capsys, "backfill", location, "--table", table, "--no-alerts", "--pseudonymize-key", str(key_file)
    )
    assert code == 0, err
    store = SummaryStore(boto3.client("dynamodb"), table)
    assert store.identity_mode() == IdentityMode("pseudonymous", Pseudonymizer(KEY).fingerprint)
    shown = json.loads(run(capsys, "query", "--table", table, "--format", "json")[1])
    assert set(shown["summaries"]) == {pseudonym(person) for person in PEOPLE}
    assert not any(person in json.dumps(stack.items()) for person in PEOPLE)

    code, out, err = run(capsys, "backfill", location, "--table", table, "--no-alerts")  # no key: refused
    assert (code, out) == (2, "") and err.splitlines()[-1] == (
        f"supportwatch: table {table} holds pseudonymous identities (key fingerprint "
        f"{Pseudonymizer(KEY).fingerprint}), not identities in clear: deploy with the mode and key it was "
        "written with"
    )


def test_a_stack_backfill_uses_the_stacks_key(stack, capsys):
    """`backfill --stack` of a pseudonymous stack pseudonymizes as its function does."""
    put_trail(stack.put)
    arn = boto3.client("secretsmanager").create_secret(Name="k", SecretString=KEY_TEXT)["ARN"]
    outputs = {
        "SummaryTableName": {"Value": stack.resources.table},
        "AlertTopicArn": {"Value": stack.resources.topic_arn},
        "PseudonymKeySecretArn": {"Value": arn},
    }
    template = {"Resources": {"Placeholder": {"Type": "AWS::SNS::Topic"}}, "Outputs": outputs}
    boto3.client("cloudformation").create_stack(StackName="sw", TemplateBody=json.dumps(template))
    code, _, err = run(capsys, "backfill", f"s3://{stack.bucket}/trails/", "--stack", "sw", "--no-alerts")
    assert code == 0, err
    shown = json.loads(run(capsys, "query", "--table", stack.resources.table, "--format", "json")[1])
    assert set(shown["summaries"]) == {pseudonym(person) for person in PEOPLE}
