"""template.yaml checked by the real tools: cfn-lint, the SAM translator and the SAM CLI (validate, build)."""

import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import replace
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
CHAT_TOPIC = "arn:aws:sns:us-east-1:111122223333:security-chat"
PRODUCT = "arn:aws:securityhub:us-east-1:111122223333:product/111122223333/default"
PARAMETER_SETS = [
    {},
    {"CreateTrail": "false"},
    {"LogKeyPrefix": "team-a"},
    {"TrailKmsKeyArn": KMS_KEY},
    {"CreateTrail": "false", "LogKeyPrefix": "team-a/logs", "TrailKmsKeyArn": KMS_KEY},
    {"OpsEmail": "ops@example.com", "ReservedConcurrency": "5", "AccessLogBucketName": "access-logs-111122223333"},
    {"VerifyDigests": "false", "DigestGraceMinutes": "30"},
    {"SecurityHubFindings": "enabled"},
    {"EventBridgeAlerts": "enabled"},
    {"ChatTopicArn": CHAT_TOPIC},
    {"SecurityHubFindings": "enabled", "EventBridgeAlerts": "enabled", "ChatTopicArn": CHAT_TOPIC},
    {"IdentityMode": "pseudonymous"},
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
    "EventsDeadLetterQueueAlarm",
    "IngestDeadLetterQueueAlarm",
    "IngestQueueAgeAlarm",
}
NO_VALUE = object()
DYNAMODB_ACTIONS = ("GetItem", "BatchGetItem", "PutItem", "UpdateItem", "ConditionCheckItem", "Query")


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
        if fn == "Fn::Or":
            return any(map(ev, arg))
        if fn == "Condition":
            return condition(arg)
        if fn == "Fn::Sub":
            text, names = (arg, {}) if isinstance(arg, str) else arg
            return sub(text, values | {k: ev(x) for k, x in names.items()})
        if fn == "Fn::GetAtt":
            return f"<{'.'.join(arg)}>"
        if fn == "Fn::Join":
            return ev(arg[0]).join(map(str, ev(arg[1])))
        if fn == "Fn::Split":
            return ev(arg[1]).split(ev(arg[0]))
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


@pytest.mark.parametrize(
    ("value", "allowed"),
    [
        ("support", True),
        ("q", True),
        ("support,q,bedrock", True),
        ("bedrock,support", True),
        ("", False),
        ("support,", False),
        ("support, q", False),
        ("Q", False),
        ("mq", False),
        ("kendra", False),
    ],
)
def test_watched_services_pattern_accepts_only_lists_the_function_reads(value, allowed):
    from supportwatch.services import parse_services

    pattern = yaml_parse(TEMPLATE.read_text())["Parameters"]["WatchedServices"]["AllowedPattern"]
    assert bool(re.fullmatch(pattern, value)) == allowed
    if allowed:
        assert set(parse_services(value)) == set(value.split(","))


@pytest.mark.parametrize(
    ("parameters", "watched"),
    [({}, ("support",)), ({"WatchedServices": "bedrock,q,support"}, ("support", "q", "bedrock"))],
)
def test_watched_services_reach_the_function(parameters, watched):
    from supportwatch.config import Settings

    variables = resolve(translate(parameters), parameters)["ProcessorFunction"]["Properties"]["Environment"]
    settings = Settings.from_env({name: str(value) for name, value in variables["Variables"].items()})
    assert settings.watched_services == watched


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
                "object": {
                    "key": [
                        {"wildcard": f"{logs}*/CloudTrail/*.json.gz"},
                        {"wildcard": f"{logs}*/CloudTrail-Digest/*.json.gz"},
                    ]
                },
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


@pytest.mark.parametrize("parameters", PARAMETER_SETS + EXISTING_SETS, ids=PARAMETER_IDS + EXISTING_IDS)
def test_least_privilege_every_grant_of_the_role(parameters):
    """The role's inline grants, as (action, resource) pairs, are exactly these: read the log prefix
    (decrypt with the trail key only), write the table, publish to the alert topic, send to the DLQ,
    read CloudTrail's public keys unless VerifyDigests is off (and consume the ingest queue in SQS mode; read
    the pseudonym key, that secret only, in pseudonymous mode)."""
    resources = resolve(translate(parameters), parameters)
    bucket = EXISTING if parameters.get("TrailBucketMode") == "existing" else BUCKET
    kms_key = parameters.get("TrailKmsKeyArn")
    allowed = {("s3:GetObject", f"arn:aws:s3:::{bucket}/{logs_prefix(parameters)}*")}
    allowed |= {("kms:Decrypt", kms_key)} if kms_key else set()
    allowed |= {
        (f"dynamodb:{action}", table)
        for action in DYNAMODB_ACTIONS
        for table in ("<SummaryTable.Arn>", "<SummaryTable.Arn>/index/*")
    }
    allowed |= {("sns:Publish", "<AlertTopic>"), ("sqs:SendMessage", "<DeadLetterQueue.Arn>")}
    if parameters.get("VerifyDigests") != "false":  # digest signatures; ListPublicKeys has no resource scope
        allowed |= {("cloudtrail:ListPublicKeys", "*")}
    if parameters.get("SecurityHubFindings") == "enabled":
        allowed |= {("securityhub:BatchImportFindings", PRODUCT)}
    if parameters.get("EventBridgeAlerts") == "enabled":
        allowed |= {("events:PutEvents", "arn:aws:events:us-east-1:111122223333:event-bus/default")}
    if chat_topic := parameters.get("ChatTopicArn"):
        allowed |= {("sns:Publish", chat_topic)}
    if parameters.get("IdentityMode") == "pseudonymous":
        allowed |= {("secretsmanager:GetSecretValue", "<PseudonymKey>")}
    if parameters.get("ExistingBucketTrigger") == "SQS":
        consume = ("ReceiveMessage", "DeleteMessage", "GetQueueAttributes", "ChangeMessageVisibility")
        allowed |= {(f"sqs:{action}", "<IngestQueue.Arn>") for action in consume}

    granted = {
        (action, resource)
        for statement in role_statements(resources)
        for action in as_list(statement["Action"])
        for resource in as_list(statement["Resource"])
    }
    assert granted == allowed
    # The only role in the stack is the function's.
    roles = [logical_id for logical_id, r in resources.items() if r["Type"] == "AWS::IAM::Role"]
    assert roles == ["ProcessorFunctionRole"]


@pytest.mark.parametrize("parameters", PARAMETER_SETS, ids=PARAMETER_IDS)
def test_alert_routes_are_on_only_when_switched_on(parameters):
    """The function's environment switches each route of contract section 11; off by default."""
    from supportwatch.aws.findings import alert_routes
    from supportwatch.config import Settings

    variables = resolve(translate(parameters), parameters)["ProcessorFunction"]["Properties"]["Environment"]
    settings = Settings.from_env({name: str(value) for name, value in variables["Variables"].items()})
    on = parameters.get("SecurityHubFindings") == "enabled"
    assert settings.security_hub_product_arn == (PRODUCT if on else "")
    assert settings.eventbridge_alerts == (parameters.get("EventBridgeAlerts") == "enabled")
    assert settings.chat_topic_arn == parameters.get("ChatTopicArn", "")
    names = [route.name for route in alert_routes(settings, lambda service: boto3.client(service, "us-east-1"), None)]
    expected = {"securityhub": on, "eventbridge": settings.eventbridge_alerts, "chat": bool(settings.chat_topic_arn)}
    assert names == [name for name, wanted in expected.items() if wanted]


@pytest.mark.parametrize("parameters", PARAMETER_SETS + EXISTING_SETS, ids=PARAMETER_IDS + EXISTING_IDS)
def test_data_protection(parameters):
    resources = resolve(translate(parameters), parameters)
    table = resources["SummaryTable"]
    assert table["Properties"]["SSESpecification"] == {"SSEEnabled": True}
    assert table["Properties"]["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["DeletionPolicy"] == "Retain"
    assert resources["FunctionLogGroup"]["Properties"]["RetentionInDays"] == parameters.get("LogRetentionDays", "90")

    topics = {i: r["Properties"] for i, r in resources.items() if r["Type"] == "AWS::SNS::Topic"}
    assert {i: t["KmsMasterKeyId"] for i, t in topics.items()} == {
        "AlertTopic": "alias/aws/sns",
        "OpsTopic": "<OpsTopicKey>",
    }
    queues = {i: r["Properties"] for i, r in resources.items() if r["Type"] == "AWS::SQS::Queue"}
    assert "DeadLetterQueue" in queues
    for queue_id, queue in queues.items():
        assert queue.get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" in queue, f"{queue_id} unencrypted"

    # The ops topic's key: rotated, administered by the account, usable by CloudWatch to publish only.
    key = resources["OpsTopicKey"]["Properties"]
    assert key["EnableKeyRotation"] is True
    [admin, cloudwatch] = key["KeyPolicy"]["Statement"]
    assert admin["Principal"] == {"AWS": "arn:aws:iam::111122223333:root"}
    assert cloudwatch["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert sorted(cloudwatch["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"]

    bucket = resources.get("TrailBucket", {}).get("Properties", {})
    if access_logs := parameters.get("AccessLogBucketName"):
        assert bucket["LoggingConfiguration"] == {
            "DestinationBucketName": access_logs,
            "LogFilePrefix": "supportwatch-trail/",
        }
    else:
        assert "LoggingConfiguration" not in bucket
    function = resources["ProcessorFunction"]["Properties"]
    assert function.get("ReservedConcurrentExecutions") == parameters.get("ReservedConcurrency")


@pytest.mark.parametrize("mode", ["plain", "pseudonymous"])
def test_the_pseudonym_key_exists_only_in_pseudonymous_mode(mode):
    """Contract section 10: the stack generates the key as a secret, kept with the table, and names it to
    the function; in plain mode there is no secret and the function is told none."""
    resources = resolve(translate({"IdentityMode": mode}), {"IdentityMode": mode})
    variables = resources["ProcessorFunction"]["Properties"]["Environment"]["Variables"]
    secrets = {i: r for i, r in resources.items() if r["Type"] == "AWS::SecretsManager::Secret"}
    if mode == "plain":
        assert secrets == {} and variables["PSEUDONYM_KEY_SECRET"] == ""
        return
    assert list(secrets) == ["PseudonymKey"] and variables["PSEUDONYM_KEY_SECRET"] == "<PseudonymKey>"
    key = secrets["PseudonymKey"]
    assert key["DeletionPolicy"] == key["UpdateReplacePolicy"] == "Retain"
    assert key["Properties"]["GenerateSecretString"] == {"PasswordLength": 64, "ExcludePunctuation": True}


@pytest.mark.parametrize("parameters", PARAMETER_SETS + EXISTING_SETS, ids=PARAMETER_IDS + EXISTING_IDS)
def test_alarms_cover_the_function_and_every_dead_letter_queue(parameters):
    resources = resolve(translate(parameters), parameters)
    alarms = {i: r["Properties"] for i, r in resources.items() if r["Type"] == "AWS::CloudWatch::Alarm"}
    for alarm_id, alarm in alarms.items():
        assert alarm["AlarmActions"] == ["<OpsTopic>"], alarm_id
        assert alarm["OKActions"] == ["<OpsTopic>"], alarm_id
        assert alarm["AlarmName"].startswith("supportwatch-"), alarm_id

    def watched(namespace: str, metric: str) -> dict[str, dict]:
        """dimension value -> alarm, for the alarms on one metric."""
        found = {}
        for alarm in alarms.values():
            if (alarm["Namespace"], alarm["MetricName"]) == (namespace, metric):
                [dimension] = alarm["Dimensions"]
                found[dimension["Value"]] = alarm
        return found

    for metric in ("Errors", "Throttles", "DestinationDeliveryFailures"):
        [(function, alarm)] = watched("AWS/Lambda", metric).items()
        assert function == "<ProcessorFunction>"
        assert (alarm["Statistic"], alarm["Threshold"], alarm["ComparisonOperator"]) == (
            "Sum",
            0,
            "GreaterThanThreshold",
        )

    # Every queue the stack creates is a dead-letter queue, except the SQS mode's ingest queue.
    queues = {i for i, r in resources.items() if r["Type"] == "AWS::SQS::Queue"}
    depth = watched("AWS/SQS", "ApproximateNumberOfMessagesVisible")
    assert set(depth) == {f"<{queue}.QueueName>" for queue in queues - {"IngestQueue"}}
    for alarm in depth.values():
        assert (alarm["Statistic"], alarm["Threshold"], alarm["ComparisonOperator"]) == (
            "Maximum",
            0,
            "GreaterThanThreshold",
        )
        assert alarm["TreatMissingData"] == "ignore"  # SQS stops reporting a full but untouched queue
    age = watched("AWS/SQS", "ApproximateAgeOfOldestMessage")
    if "IngestQueue" in queues:
        [(queue, alarm)] = age.items()
        assert queue == "<IngestQueue.QueueName>"
        assert int(alarm["Threshold"]) == int(parameters.get("IngestQueueAgeAlarmSeconds", 3600))
    else:
        assert not age
    [(service, unavailable)] = watched("SupportWatch", "ObjectsUnavailable").items()
    assert service == "supportwatch"  # Powertools' default dimension: the function's POWERTOOLS_SERVICE_NAME
    assert (unavailable["Statistic"], unavailable["Threshold"], unavailable["ComparisonOperator"]) == (
        "Sum",
        0,
        "GreaterThanThreshold",
    )
    routes = watched("SupportWatch", "AlertsNotRouted")
    routed = {"SecurityHubFindings", "EventBridgeAlerts", "ChatTopicArn"} & set(parameters)
    assert set(routes) == ({"supportwatch"} if routed else set())
    assert len(alarms) == 4 + len(depth) + len(age) + len(routes)

    assert ("OpsEmailSubscription" in resources) == bool(parameters.get("OpsEmail"))
    if "OpsEmailSubscription" in resources:
        subscription = resources["OpsEmailSubscription"]["Properties"]
        assert subscription == {"TopicArn": "<OpsTopic>", "Protocol": "email", "Endpoint": parameters["OpsEmail"]}


def emitted_metrics(capsys, watched: tuple[str, ...] = ("support",)) -> set[tuple[str, ...]]:
    """(name, dimension, value, ...) of every metric the handler's Powertools Metrics emit for the reports of
    every outcome with an alert of every rule, and events and alerts of every `watched` service (the
    per-rule and per-service metrics are EMF documents of their own on stdout)."""
    from supportwatch import handler
    from supportwatch.config import RULES
    from supportwatch.models import ObjectRef
    from supportwatch.pipeline import ObjectReport, per_service
    from tests.unit.test_pipeline_services import event_of

    found: set[tuple[str, ...]] = set()
    service = ("service", os.environ["POWERTOOLS_SERVICE_NAME"])
    services = per_service([event_of(name) for name in watched], watched)  # (): support alone
    alerting = tuple(name for name, _ in services)  # when more than support is watched every alert has one
    capsys.readouterr()
    for outcome in handler.OUTCOME_METRICS:
        report = ObjectReport(ObjectRef("b", "k"), outcome, "reason", alerts=1, alert_rules=RULES)
        handler.log_report(replace(report, service_events=services, alert_services=alerting))
        found |= {(name, *service) for name in handler.metrics.metric_set}
        handler.metrics.clear_metrics()
    for line in capsys.readouterr().out.splitlines():
        document = json.loads(line)
        if "_aws" in document:
            [directive] = document["_aws"]["CloudWatchMetrics"]
            [dimensions] = directive["Dimensions"]
            for metric in directive["Metrics"]:
                pairs = sorted((name, document[name]) for name in dimensions)
                found.add((metric["Name"], *(part for pair in pairs for part in pair)))
    return found


@pytest.mark.parametrize(
    "parameters",
    [*PARAMETER_SETS, *EXISTING_SETS, {"DashboardEnabled": "false"}],
    ids=[*PARAMETER_IDS, *EXISTING_IDS, "off"],
)
def test_dashboard_shows_the_handlers_metrics_and_every_queue(parameters, capsys):
    resources = resolve(translate(parameters), parameters)
    outputs = translate(parameters)["Outputs"]
    if parameters.get("DashboardEnabled") == "false":
        assert "Dashboard" not in resources
        return
    assert "DashboardUrl" in outputs
    dashboard = resources["Dashboard"]["Properties"]
    body = json.loads(dashboard["DashboardBody"])
    environment = resources["ProcessorFunction"]["Properties"]["Environment"]["Variables"]
    metrics = [
        [part for part in metric if not isinstance(part, dict)]
        for widget in body["widgets"]
        for metric in widget["properties"]["metrics"]
    ]
    for widget in body["widgets"]:
        assert widget["properties"]["title"] and widget["properties"]["region"] == "us-east-1"
    assert environment["POWERTOOLS_SERVICE_NAME"] == os.environ["POWERTOOLS_SERVICE_NAME"]
    ours = {
        (m[1], *(part for pair in sorted(zip(m[2::2], m[3::2], strict=True)) for part in pair))
        for m in metrics
        if m[0] == environment["POWERTOOLS_METRICS_NAMESPACE"]
    }
    assert ours == emitted_metrics(capsys)  # every metric (and dimension) the handler emits, none it does not
    lambda_metrics = {(m[1], m[3]) for m in metrics if m[0] == "AWS/Lambda"}
    assert lambda_metrics == {
        (name, "<ProcessorFunction>")
        for name in ("Duration", "Errors", "Throttles", "DestinationDeliveryFailures", "ConcurrentExecutions")
    }
    stats = {w["properties"]["metrics"][i][-1].get("stat") for w in body["widgets"] for i in range(2)
             if w["properties"]["title"].startswith("Function duration")}  # fmt: skip
    assert stats == {"p50", "p99"}
    queues = {i for i, r in resources.items() if r["Type"] == "AWS::SQS::Queue"}
    depth = {m[3] for m in metrics if m[:2] == ["AWS/SQS", "ApproximateNumberOfMessagesVisible"]}
    assert depth == {f"<{queue}.QueueName>" for queue in queues - {"IngestQueue"}}
    age = {m[3] for m in metrics if m[:2] == ["AWS/SQS", "ApproximateAgeOfOldestMessage"]}
    assert age == ({"<IngestQueue.QueueName>"} if "IngestQueue" in queues else set())


@pytest.mark.parametrize("watched", ["support,q,bedrock", "q", "bedrock,support", "support,q", "support"])
def test_dashboard_has_a_panel_per_watched_service_when_more_than_support_is_watched(watched, capsys):
    from supportwatch.services import SERVICES, extended, parse_services

    services = parse_services(watched)
    parameters = {"WatchedServices": watched}
    body = json.loads(resolve(translate(parameters), parameters)["Dashboard"]["Properties"]["DashboardBody"])
    per_service = [w["properties"] for w in body["widgets"] if w["properties"]["title"].endswith("alerts per hour")]
    labels = [f"{SERVICES[name].label}: calls and alerts per hour" for name in services]
    assert [panel["title"] for panel in per_service] == (labels if extended(services) else [])
    for name, panel in zip(services, per_service, strict=False):
        assert [metric[1:6] for metric in panel["metrics"]] == [
            [metric, "service", "supportwatch", "watched", name] for metric in ("ServiceEvents", "ServiceAlerts")
        ]
    ours = {
        (m[1], *(part for pair in sorted(zip(m[2:-1:2], m[3:-1:2], strict=True)) for part in pair))
        for widget in body["widgets"]
        for m in widget["properties"]["metrics"]
        if m[0] == "SupportWatch"
    }
    assert ours == emitted_metrics(capsys, services)  # support alone: no per-service metric, no panel
    if not extended(services):
        assert body == json.loads(resolve(translate({}), {})["Dashboard"]["Properties"]["DashboardBody"])


# --- checkov ---------------------------------------------------------------------------------------

# checkov evaluates Conditions with the parameters' defaults and leaves out the resources they
# exclude, so the existing-bucket resources are scanned in copies whose defaults select them. Only
# the two Default lines change: the skip comments stay on their resources.
CHECKOV_VARIANTS = {
    "create": {},
    "existing-EventBridge": {"TrailBucketMode": ("create", "existing")},
    "existing-SQS": {"TrailBucketMode": ("create", "existing"), "ExistingBucketTrigger": ("EventBridge", "SQS")},
    "routes": {
        "SecurityHubFindings": ("disabled", "enabled"),
        "EventBridgeAlerts": ("disabled", "enabled"),
        "ChatTopicArn": ('""', f'"{CHAT_TOPIC}"'),
    },
    "pseudonymous": {"IdentityMode": ("plain", "pseudonymous")},
}
CHECKOV_SCANS = {
    "create": {"TrailBucket", "Trail", "ProcessorFunction", "SummaryTable", "DeadLetterQueue", "OpsTopicKey"},
    "existing-EventBridge": {"EventsDeadLetterQueue", "ObjectCreatedRulePermission"},
    "existing-SQS": {"IngestQueue", "IngestDeadLetterQueue"},
    "routes": {"ProcessorFunction"},
    "pseudonymous": {"PseudonymKey", "RevealKey", "ProcessorFunction"},
}


def checkov_binary() -> str:
    # `make test` passes the Makefile's .venv-checkov; a bare pytest finds it too.
    checkov = os.environ.get("CHECKOV") or shutil.which("checkov") or str(ROOT / ".venv-checkov" / "bin" / "checkov")
    if not checkov or not Path(checkov).is_file():
        pytest.fail(
            f"checkov not found (CHECKOV={os.environ.get('CHECKOV')!r}, no checkov on PATH): run `make checkov`"
        )
    return checkov


def with_defaults(text: str, defaults: dict[str, tuple[str, str]]) -> str:
    for name, (old, new) in defaults.items():
        block = f"  {name}:\n    Type: String\n    Default: "
        assert text.count(block + old + "\n") == 1, name
        text = text.replace(block + old + "\n", block + new + "\n")
    return text


@pytest.mark.parametrize("variant", CHECKOV_VARIANTS)
def test_checkov_finds_nothing_unjustified(variant, tmp_path):
    template = tmp_path / "template.yaml"
    template.write_text(with_defaults(TEMPLATE.read_text(), CHECKOV_VARIANTS[variant]))
    result = subprocess.run(
        [checkov_binary(), "--framework", "cloudformation", "--skip-download", "-o", "json", "-f", str(template)],
        env=os.environ | {"BC_SKIP_MAPPING": "TRUE"},
        capture_output=True,
        text=True,
    )
    assert result.returncode in (0, 1), result.stderr
    report = json.loads(result.stdout)
    results = report["results"]
    assert report["summary"]["parsing_errors"] == 0
    failed = [f"{c['check_id']} {c['resource']}: {c['check_name']}" for c in results["failed_checks"]]
    assert not failed, "checkov findings to fix or justify in template.yaml:\n" + "\n".join(failed)
    assert result.returncode == 0
    for check in results["skipped_checks"]:
        reason = (check["check_result"].get("suppress_comment") or "").strip()
        assert len(reason) > 40, f"{check['check_id']} on {check['resource']} is skipped without a reason"
    scanned = {c["resource"].rpartition(".")[2] for c in results["passed_checks"] + results["skipped_checks"]}
    assert CHECKOV_SCANS[variant] <= scanned


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


def test_sam_build_packages_code_arm64_wheels_and_bytecode(tmp_path):
    # --no-cached: nothing is written into the repository's .aws-sam/.
    run_sam("build", "--no-cached", "--build-dir", str(tmp_path))
    function = tmp_path / "ProcessorFunction"
    assert (function / "supportwatch" / "__init__.py").is_file()
    handler = yaml_parse(TEMPLATE.read_text())["Resources"]["ProcessorFunction"]["Properties"]["Handler"]
    module, _, name = handler.rpartition(".")
    assert f"def {name}(" in (function / f"{module.replace('.', '/')}.py").read_text()
    for native in ("isal", "ahocorasick_rs"):  # ahocorasick_rs: the search for several services' names at once
        assert sorted((function / native).glob("*.so")), f"{native}'s compiled modules are missing from the build"
    not_arm = [str(p.relative_to(function)) for p in function.rglob("*.so") if not is_aarch64_elf(p)]
    assert not not_arm, f"not aarch64: {not_arm}"
    # src/Makefile ships bytecode: Lambda's code directory is read-only, so without it every cold start
    # compiles boto3, botocore, Powertools and supportwatch. Hash-based and unchecked (flags 0b01), so the
    # timestamps a zip keeps cannot invalidate it; tagged for the runtime's Python 3.12.
    sources = [p for p in function.rglob("*.py") if p.parent.name != "__pycache__"]
    missing = [str(p.relative_to(function)) for p in sources if not bytecode(p).is_file()]
    assert not missing, f"no bytecode for {missing[:10]} ({len(missing)} of {len(sources)})"
    for module in (function / "supportwatch" / "handler.py", function / "botocore" / "session.py"):
        assert int.from_bytes(bytecode(module).read_bytes()[4:8], "little") == 0b01


def bytecode(source: Path) -> Path:
    return source.parent / "__pycache__" / f"{source.stem}.cpython-312.pyc"
