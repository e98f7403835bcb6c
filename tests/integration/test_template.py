"""template.yaml checked by the real tools: cfn-lint, the SAM translator and the SAM CLI (validate, build)."""

import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import boto3
import pytest
from cfnlint.api import lint, lint_file
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator
from samtranslator.yaml_helper import yaml_parse

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
KMS_KEY = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
PSEUDO = {
    "AWS::Partition": "aws",
    "AWS::Region": "us-east-1",
    "AWS::AccountId": "111122223333",
    "AWS::StackName": "supportwatch",
}
BUCKET = "supportwatch-trail-111122223333-us-east-1"
PARAMETER_SETS = [
    {},
    {"CreateTrail": "false"},
    {"LogKeyPrefix": "team-a"},
    {"TrailKmsKeyArn": KMS_KEY},
    {"CreateTrail": "false", "LogKeyPrefix": "team-a/logs", "TrailKmsKeyArn": KMS_KEY},
]
PARAMETER_IDS = [",".join(p) or "defaults" for p in PARAMETER_SETS]
EXISTING = "org-log-archive-444455556666"
OWNER = "444455556666"
OWNER_KMS_KEY = "arn:aws:kms:us-east-1:444455556666:key/0987dcba-12ab-34cd-56ef-1234567890ab"
EXISTING_SETS = [
    {"TrailBucketMode": "existing", "ExistingBucketName": EXISTING},
    {
        "TrailBucketMode": "existing",
        "ExistingBucketName": EXISTING,
        "LogKeyPrefix": "org/trail",
        "TrailKmsKeyArn": OWNER_KMS_KEY,
        "ExistingBucketOwner": OWNER,
    },
    {"TrailBucketMode": "existing", "ExistingBucketName": EXISTING, "ExistingBucketOwner": "111122223333"},
    {"TrailBucketMode": "existing", "ExistingBucketName": EXISTING, "CreateTrail": "true", "LogKeyPrefix": "p"},
    {"TrailBucketMode": "existing", "ExistingBucketName": EXISTING, "ExistingBucketTrigger": "SQS"},
    {
        "TrailBucketMode": "existing",
        "ExistingBucketName": EXISTING,
        "ExistingBucketTrigger": "SQS",
        "LogKeyPrefix": "org/trail",
        "TrailKmsKeyArn": OWNER_KMS_KEY,
        "ExistingBucketOwner": OWNER,
    },
    {
        "TrailBucketMode": "existing",
        "ExistingBucketName": EXISTING,
        "ExistingBucketTrigger": "SQS",
        "LogKeyPrefix": "p",
    },
]
EXISTING_IDS = [
    ",".join(f"{k}={v}" for k, v in p.items() if k not in ("TrailBucketMode", "ExistingBucketName"))
    .replace(OWNER_KMS_KEY, "kms")
    .replace("ExistingBucket", "")
    or "EventBridge"
    for p in EXISTING_SETS
]
EXISTING_ONLY = {
    "ObjectCreatedRule",
    "ObjectCreatedRulePermission",
    "EventsDeadLetterQueue",
    "EventsDeadLetterQueuePolicy",
    "ForwardedEventsPolicy",
    "IngestQueue",
    "IngestDeadLetterQueue",
    "IngestQueuePolicy",
    "IngestEventSourceMapping",
}
NO_VALUE = object()


def translate(parameters: dict) -> dict:
    """The CloudFormation template SAM deploys (CodeUri as `sam package` rewrites it)."""
    template = yaml_parse(TEMPLATE.read_text())
    template["Resources"]["ProcessorFunction"]["Properties"]["CodeUri"] = "s3://placeholder-bucket/code.zip"
    translator = Translator(None, Parser(), boto_session=boto3.Session(region_name="us-east-1"))
    return translator.translate(template, dict(parameters), get_managed_policy_map=lambda: {})


def evaluator(template: dict, parameters: dict) -> Callable[[object], object]:
    """Evaluates the intrinsics the template uses for one parameter set.
    References to resources become "<LogicalId>" / "<LogicalId.Attribute>"."""
    values = {name: str(p.get("Default", "")) for name, p in template["Parameters"].items()}
    values |= PSEUDO | parameters

    def sub(text: str, names: dict) -> str:
        return re.sub(r"\$\{([^}]+)\}", lambda m: str(names.get(m[1], f"<{m[1]}>")), text)

    def ev(v: object) -> object:
        if isinstance(v, list):
            return [r for r in map(ev, v) if r is not NO_VALUE]
        if not isinstance(v, dict):
            return v
        [(fn, arg)] = v.items() if len(v) == 1 else [(None, None)]
        if fn == "Ref":
            return NO_VALUE if arg == "AWS::NoValue" else values.get(arg, f"<{arg}>")
        if fn == "Fn::If":
            return ev(arg[1] if condition(arg[0]) else arg[2])
        if fn == "Fn::Equals":
            return ev(arg[0]) == ev(arg[1])
        if fn == "Fn::Not":
            return not ev(arg[0])
        if fn == "Fn::And":
            return all(map(ev, arg))
        if fn == "Condition":
            return condition(arg)
        if fn == "Fn::Sub":
            text, names = (arg, {}) if isinstance(arg, str) else arg
            return sub(text, values | {k: ev(x) for k, x in names.items()})
        if fn == "Fn::GetAtt":
            return f"<{'.'.join(arg)}>"
        if fn == "Fn::FindInMap":
            table, key, field = map(ev, arg)
            return template["Mappings"][table][key][field]
        if fn and fn.startswith("Fn::"):
            raise AssertionError(f"resolve() does not know {fn}")
        return {k: r for k, x in v.items() if (r := ev(x)) is not NO_VALUE}

    def condition(name: str) -> bool:
        return ev(template["Conditions"][name])

    return ev


def resolve(template: dict, parameters: dict) -> dict:
    """The resources that exist for one parameter set, with the intrinsics the template uses evaluated."""
    ev = evaluator(template, parameters)

    def condition(name: str) -> bool:
        return ev({"Condition": name})

    return {
        logical_id: ev(resource)
        for logical_id, resource in template["Resources"].items()
        if "Condition" not in resource or condition(resource["Condition"])
    }


def role_statements(resources: dict) -> list[dict]:
    role = resources["ProcessorFunctionRole"]["Properties"]
    return [s for policy in role["Policies"] for s in policy["PolicyDocument"]["Statement"]]


def logs_prefix(parameters: dict) -> str:
    """Where the logs start: `<LogKeyPrefix>/AWSLogs/`, or `AWSLogs/`."""
    key_prefix = parameters.get("LogKeyPrefix", "")
    return f"{key_prefix}/AWSLogs/" if key_prefix else "AWSLogs/"


def as_list(value: object) -> list:
    return value if isinstance(value, list) else [value]


@pytest.mark.parametrize(
    ("value", "allowed"), [("", True), ("team-a", True), ("a/b.c", True), ("/a", False), ("a/", False)]
)
def test_log_key_prefix_pattern(value, allowed):
    pattern = yaml_parse(TEMPLATE.read_text())["Parameters"]["LogKeyPrefix"]["AllowedPattern"]
    assert bool(re.fullmatch(pattern, value)) == allowed


def test_template_is_lint_clean():
    matches = lint_file(TEMPLATE)
    assert not matches, "\n".join(map(str, matches))


@pytest.mark.parametrize("parameters", PARAMETER_SETS + EXISTING_SETS, ids=PARAMETER_IDS + EXISTING_IDS)
def test_translated_template_is_lint_clean(parameters):
    # Only the translated template shows the resources SAM generates (role, S3 permission, bucket
    # notification), so only here does cfn-lint see a bucket -> function -> role -> bucket cycle (E3004).
    matches = lint(json.dumps(translate(parameters)))
    assert not matches, "\n".join(map(str, matches))


@pytest.mark.parametrize("parameters", PARAMETER_SETS, ids=PARAMETER_IDS)
def test_parameters_shape_trail_filter_and_policies(parameters):
    resources = resolve(translate(parameters), parameters)
    key_prefix = parameters.get("LogKeyPrefix", "")
    logs = logs_prefix(parameters)
    kms_key = parameters.get("TrailKmsKeyArn")

    bucket = resources["TrailBucket"]["Properties"]
    assert bucket["BucketName"] == BUCKET
    [notification] = bucket["NotificationConfiguration"]["LambdaConfigurations"]
    assert notification["Event"] == "s3:ObjectCreated:*"
    rules = {r["Name"]: r["Value"] for r in notification["Filter"]["S3Key"]["Rules"]}
    assert rules == {"prefix": logs, "suffix": ".json.gz"}

    assert ("Trail" in resources) == (parameters.get("CreateTrail", "true") == "true")
    if "Trail" in resources:
        trail = resources["Trail"]["Properties"]
        assert trail.get("S3KeyPrefix") == (key_prefix or None)
        assert trail.get("KMSKeyId") == kms_key

    policy = resources["TrailBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    [write] = [s for s in policy if s.get("Sid") == "AWSCloudTrailWrite"]
    assert write["Resource"] == f"<TrailBucket.Arn>/{logs}*"
    assert write["Condition"]["StringEquals"] == {"s3:x-amz-acl": "bucket-owner-full-control"}

    statements = role_statements(resources)
    [get_object] = [s for s in statements if "s3:GetObject" in as_list(s["Action"])]
    assert as_list(get_object["Resource"]) == [f"arn:aws:s3:::{BUCKET}/{logs}*"]
    decrypt = [s for s in statements if "kms:Decrypt" in as_list(s["Action"])]
    assert [s["Resource"] for s in decrypt] == ([kms_key] if kms_key else [])


@pytest.mark.parametrize("parameters", PARAMETER_SETS + EXISTING_SETS, ids=PARAMETER_IDS + EXISTING_IDS)
def test_security_facts(parameters):
    resources = resolve(translate(parameters), parameters)
    if "Trail" in resources:
        trail = resources["Trail"]["Properties"]
        assert "AdvancedEventSelectors" not in trail
        # Read management events (the Support Recommendations calls), and no S3 data events (our own
        # GetObject calls on the log bucket would be logged and retrigger the function).
        assert trail["EventSelectors"] == [{"ReadWriteType": "All", "IncludeManagementEvents": True}]
        assert trail["IsMultiRegionTrail"] is True
        assert trail["EnableLogFileValidation"] is True

    statements = role_statements(resources)
    for statement in statements:
        assert statement["Effect"] == "Allow"
        assert "NotAction" not in statement and "NotResource" not in statement
        for action in as_list(statement["Action"]):
            assert "*" not in action, f"wildcard action {action}"
    # EventInvokeConfig's on-failure destination: SAM grants the send on the queue.
    assert {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "<DeadLetterQueue.Arn>"} in statements
    assert sorted(resources["ProcessorFunctionRole"]["Properties"]["ManagedPolicyArns"]) == [
        "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
        "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    ]

    if "TrailBucket" in resources:
        bucket = resources["TrailBucket"]["Properties"]
        assert all(bucket["PublicAccessBlockConfiguration"].values())
        assert bucket["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    for queue in ("DeadLetterQueue", "EventsDeadLetterQueue", "IngestQueue", "IngestDeadLetterQueue"):
        if queue in resources:
            assert resources[queue]["Properties"]["SqsManagedSseEnabled"] is True


def test_create_mode_has_none_of_the_existing_bucket_wiring():
    resources = resolve(translate({}), {})
    assert not EXISTING_ONLY & set(resources)
    assert {"TrailBucket", "TrailBucketPolicy", "Trail"} <= set(resources)


@pytest.mark.parametrize(
    ("parameters", "holds"),
    [
        ({}, True),
        ({"TrailBucketMode": "existing"}, False),
        ({"TrailBucketMode": "existing", "ExistingBucketName": EXISTING}, True),
    ],
)
def test_existing_mode_requires_a_bucket_name(parameters, holds):
    template = yaml_parse(TEMPLATE.read_text())
    ev = evaluator(template, parameters)
    (rule,) = template["Rules"].values()
    applies = ev(rule["RuleCondition"])
    assert (not applies or all(ev(a["Assert"]) for a in rule["Assertions"])) == holds


@pytest.mark.parametrize("parameters", EXISTING_SETS, ids=EXISTING_IDS)
def test_existing_bucket_wiring(parameters):
    resources = resolve(translate(parameters), parameters)
    logs = logs_prefix(parameters)
    owner = parameters.get("ExistingBucketOwner")
    kms_key = parameters.get("TrailKmsKeyArn")
    via_queue = parameters.get("ExistingBucketTrigger") == "SQS"

    # Nothing is created on the bucket side: no bucket, policy, trail or notification.
    assert not {"TrailBucket", "TrailBucketPolicy", "Trail"} & set(resources)

    statements = role_statements(resources)
    [get_object] = [s for s in statements if "s3:GetObject" in as_list(s["Action"])]
    assert as_list(get_object["Resource"]) == [f"arn:aws:s3:::{EXISTING}/{logs}*"]
    assert get_object.get("Condition") == ({"StringEquals": {"s3:ResourceAccount": owner}} if owner else None)
    decrypt = [s for s in statements if "kms:Decrypt" in as_list(s["Action"])]
    assert [s["Resource"] for s in decrypt] == ([kms_key] if kms_key else [])
    consume = [s for s in statements if "sqs:ReceiveMessage" in as_list(s["Action"])]
    assert [s["Resource"] for s in consume] == (["<IngestQueue.Arn>"] if via_queue else [])

    if via_queue:
        assert not {"ObjectCreatedRule", "ObjectCreatedRulePermission", "EventsDeadLetterQueue"} & set(resources)
        queue = resources["IngestQueue"]["Properties"]
        assert queue["RedrivePolicy"] == {"deadLetterTargetArn": "<IngestDeadLetterQueue.Arn>", "maxReceiveCount": 5}
        assert queue["VisibilityTimeout"] >= 6 * int(parameters.get("FunctionTimeout", 300))
        [allow, deny] = resources["IngestQueuePolicy"]["Properties"]["PolicyDocument"]["Statement"]
        assert (allow["Principal"], allow["Action"], allow["Resource"]) == (
            {"Service": "s3.amazonaws.com"},
            "sqs:SendMessage",
            "<IngestQueue.Arn>",
        )
        expected = {"ArnLike": {"aws:SourceArn": f"arn:aws:s3:::{EXISTING}"}}
        if owner:
            expected["StringEquals"] = {"aws:SourceAccount": owner}
        assert allow["Condition"] == expected
        assert deny["Effect"] == "Deny"
        mapping = resources["IngestEventSourceMapping"]["Properties"]
        assert mapping["EventSourceArn"] == "<IngestQueue.Arn>"
        assert mapping["FunctionName"] == "<ProcessorFunction>"
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    else:
        assert not {"IngestQueue", "IngestQueuePolicy", "IngestEventSourceMapping"} & set(resources)
        rule = resources["ObjectCreatedRule"]["Properties"]
        pattern = {
            "source": ["aws.s3"],
            "detail-type": ["Object Created"],
            "detail": {
                "bucket": {"name": [EXISTING]},
                "object": {"key": [{"wildcard": f"{logs}*/CloudTrail/*.json.gz"}]},
            },
        }
        if owner:
            pattern["account"] = [owner]
        assert rule["EventPattern"] == pattern
        [target] = rule["Targets"]
        assert target["Arn"] == "<ProcessorFunction.Arn>"
        assert target["DeadLetterConfig"] == {"Arn": "<EventsDeadLetterQueue.Arn>"}
        assert target["RetryPolicy"]["MaximumRetryAttempts"] > 0
        permission = resources["ObjectCreatedRulePermission"]["Properties"]
        assert (permission["Principal"], permission["SourceArn"]) == ("events.amazonaws.com", "<ObjectCreatedRule.Arn>")
        [dlq] = resources["EventsDeadLetterQueuePolicy"]["Properties"]["PolicyDocument"]["Statement"]
        assert dlq["Principal"] == {"Service": "events.amazonaws.com"}
        assert dlq["Condition"] == {"ArnEquals": {"aws:SourceArn": "<ObjectCreatedRule.Arn>"}}
        # Another account's bucket: its events are forwarded to this account's default bus.
        forwarded = owner is not None and owner != PSEUDO["AWS::AccountId"]
        assert ("ForwardedEventsPolicy" in resources) == forwarded
        if forwarded:
            statement = resources["ForwardedEventsPolicy"]["Properties"]["Statement"]
            assert statement["Principal"] == {"AWS": f"arn:aws:iam::{owner}:root"}
            assert statement["Action"] == "events:PutEvents"


# --- the SAM CLI ------------------------------------------------------------------------------------


def run_sam(*args: str) -> subprocess.CompletedProcess:
    sam = os.environ.get("SAM_CLI") or shutil.which("sam")
    if not sam or not Path(sam).is_file():
        pytest.fail(f"SAM CLI not found (SAM_CLI={os.environ.get('SAM_CLI')!r}, no sam on PATH): run `make sam-cli`")
    # python3.12 for the arm64 build comes from pyenv beside the machine's 3.11 (as in the Makefile).
    env = {"PYENV_VERSION": "3.11.7:3.12.1"} | os.environ | {"SAM_CLI_TELEMETRY": "0"}
    result = subprocess.run(
        [sam, *args, "--template-file", str(TEMPLATE)], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, f"sam {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result


def is_aarch64_elf(path: Path) -> bool:
    header = path.read_bytes()[:20]
    # ELF magic, 64-bit, little-endian; e_machine (offset 18) 183 = EM_AARCH64.
    return header[:4] == b"\x7fELF" and header[4] == 2 and int.from_bytes(header[18:20], "little") == 183


def test_sam_validate_lint():
    run_sam("validate", "--lint", "--region", "us-east-1")


def test_sam_build_packages_code_and_arm64_wheels(tmp_path):
    # --no-cached: nothing is written into the repository's .aws-sam/.
    run_sam("build", "--no-cached", "--build-dir", str(tmp_path))
    function = tmp_path / "ProcessorFunction"
    assert (function / "supportwatch" / "__init__.py").is_file()
    handler = yaml_parse(TEMPLATE.read_text())["Resources"]["ProcessorFunction"]["Properties"]["Handler"]
    module, _, name = handler.rpartition(".")
    assert f"def {name}(" in (function / f"{module.replace('.', '/')}.py").read_text()
    isal = sorted((function / "isal").glob("*.so"))
    assert isal, "isal's compiled modules are missing from the build"
    not_arm = [str(p.relative_to(function)) for p in function.rglob("*.so") if not is_aarch64_elf(p)]
    assert not not_arm, f"not aarch64: {not_arm}"
