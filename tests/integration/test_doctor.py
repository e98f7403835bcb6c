"""`supportwatch doctor` on moto: trails, selectors, status, permissions, and a stack's delivery.

Each broken setup is repaired with the exact fix doctor printed (the `aws` command run through boto3
with the same operation and parameters), and the check must then pass.
"""

from __future__ import annotations

import json
import re
import shlex
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws
from moto.core.authorization import enable_iam_authentication

from supportwatch.aws.inspection import Inspector
from supportwatch.aws.local import STACK_NAME, deploy
from supportwatch.aws.sandbox_account import open_trail, record_stack
from supportwatch.cli.main import main
from supportwatch.doctor.checks import diagnose, exit_code
from tests.helpers import TEMPLATE, MotoAccount
from tests.integration.conftest import serve_one_request_at_a_time

REGION = "us-east-1"
BUCKET = "doctor-trail-logs"
ACCOUNT = "123456789012"  # moto's account
ALL = [{"ReadWriteType": "All", "IncludeManagementEvents": True}]


@pytest.fixture
def aws(monkeypatch):
    # doctor asks every region at once; moto's in-process backends are not thread-safe (one thread creates a
    # region's backend while another iterates them: "dictionary changed size"), AWS's are: one request at a time
    serve_one_request_at_a_time(monkeypatch)
    with mock_aws():
        boto3.client("s3").create_bucket(Bucket=BUCKET)
        yield


def make_trail(
    name: str = "main",
    region: str = REGION,
    multi: bool = True,
    validation: bool = True,
    selectors: list | None = None,
    advanced: list | None = None,
    logging: bool = True,
    **options,
) -> None:
    cloudtrail = boto3.client("cloudtrail", region_name=region)
    cloudtrail.create_trail(
        Name=name, S3BucketName=BUCKET, IsMultiRegionTrail=multi, EnableLogFileValidation=validation, **options
    )
    # moto gives a new trail no selectors; AWS gives it ReadWriteType All with management events: set them.
    if advanced is not None:
        cloudtrail.put_event_selectors(TrailName=name, AdvancedEventSelectors=advanced)
    else:
        cloudtrail.put_event_selectors(TrailName=name, EventSelectors=selectors or ALL)
    if logging:
        cloudtrail.start_logging(Name=name)


def doctor(capsys, *args: str) -> tuple[int, dict[str, dict], str]:
    code = main(["doctor", "--format", "json", *args])
    captured = capsys.readouterr()
    document = json.loads(captured.out) if captured.out else {"checks": []}
    assert all(set(check) == {"name", "status", "detail", "fix"} for check in document["checks"])
    return code, {check["name"]: check for check in document["checks"]}, captured.err


def apply(fix: str) -> None:
    """Run an `aws SERVICE COMMAND --option value ...` fix as the boto3 call the AWS CLI makes."""
    for command in fix.split(" && "):
        words = shlex.split(command)
        assert words[0] == "aws", fix
        service = {"s3api": "s3"}.get(words[1], words[1])
        parameters: dict[str, object] = {}
        region = REGION
        rest = words[3:]
        while rest:
            option = rest.pop(0)
            assert option.startswith("--"), fix
            if not rest or rest[0].startswith("--"):
                value: object = True
            else:
                value = rest.pop(0)
                if value[:1] in "[{":
                    value = json.loads(value)
            if option == "--region":
                region = str(value)
            else:
                parameters["".join(part.capitalize() for part in option[2:].split("-"))] = value
        operation = words[2].replace("-", "_")
        getattr(boto3.client(service, region_name=region), operation)(**parameters)


def test_a_healthy_multi_region_trail_passes(aws, capsys):
    make_trail()
    code, checks, _ = doctor(capsys)
    assert code == 0
    assert {name: check["status"] for name, check in checks.items()} == {
        "trail main events": "pass",
        "trail main logging": "pass",
        "trail main validation": "pass",
        "regions": "pass",
    }
    assert checks["regions"]["detail"].startswith("all ") and "main" in checks["regions"]["detail"]


def test_a_write_only_trail_fails_until_its_fix_is_applied(aws, capsys):
    make_trail(selectors=[{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True}])
    code, checks, _ = doctor(capsys)
    assert code == 1
    assert checks["trail main events"]["status"] == "fail"
    assert "WriteOnly" in checks["trail main events"]["detail"]
    assert checks["regions"]["status"] == "fail"
    apply(checks["trail main events"]["fix"])
    code, checks, _ = doctor(capsys)
    assert code == 0 and checks["trail main events"]["status"] == "pass" and checks["regions"]["status"] == "pass"


def test_an_advanced_selector_excluding_the_source_fails_until_fixed(aws, capsys):
    make_trail(
        advanced=[
            {
                "Name": "management without noise",
                "FieldSelectors": [
                    {"Field": "eventCategory", "Equals": ["Management"]},
                    {
                        "Field": "eventSource",
                        "NotEquals": ["kms.amazonaws.com", "supportrecommendations.amazonaws.com"],
                    },
                ],
            }
        ]
    )
    code, checks, _ = doctor(capsys)
    assert code == 1
    events = checks["trail main events"]
    assert events["status"] == "fail" and "NotEquals" in events["detail"]
    assert "--advanced-event-selectors" in events["fix"]
    apply(events["fix"])
    code, checks, _ = doctor(capsys)
    assert code == 0 and checks["trail main events"]["status"] == "pass"
    selectors = boto3.client("cloudtrail").get_event_selectors(TrailName="main")["AdvancedEventSelectors"]
    assert {"Field": "eventSource", "NotEquals": ["kms.amazonaws.com"]} in selectors[0]["FieldSelectors"]


def test_a_stopped_trail_fails_until_started(aws, capsys):
    make_trail(logging=False)
    code, checks, _ = doctor(capsys)
    assert code == 1
    assert (
        checks["trail main logging"]["status"] == "fail" and "IsLogging false" in checks["trail main logging"]["detail"]
    )
    assert checks["trail main logging"]["fix"] == "aws cloudtrail start-logging --region us-east-1 --name main"
    apply(checks["trail main logging"]["fix"])
    code, checks, _ = doctor(capsys)
    assert code == 0 and checks["trail main logging"]["status"] == "pass"


def test_a_single_region_trail_warns_for_the_other_regions(aws, capsys):
    make_trail(region="eu-west-1", multi=False)
    code, checks, _ = doctor(capsys)
    assert code == 0
    regions = checks["regions"]
    assert regions["status"] == "warn"
    missing, total = map(int, re.search(r"in (\d+) of (\d+) regions", regions["detail"]).groups())
    assert missing == total - 1 and regions["detail"].endswith("(main covers eu-west-1 only)")
    assert regions["fix"] == "aws cloudtrail update-trail --region eu-west-1 --name main --is-multi-region-trail"
    apply(regions["fix"])
    code, checks, _ = doctor(capsys)
    assert code == 0 and checks["regions"]["status"] == "pass"


def test_a_redundant_broken_trail_only_warns(aws, capsys):
    make_trail()
    make_trail("old", logging=False, validation=False)
    code, checks, _ = doctor(capsys)
    assert code == 0
    assert checks["trail old logging"]["status"] == "warn" and checks["regions"]["status"] == "pass"


def test_log_file_validation_off_warns_until_on(aws, capsys):
    make_trail(validation=False)
    code, checks, _ = doctor(capsys)
    assert code == 0 and checks["trail main validation"]["status"] == "warn"
    apply(checks["trail main validation"]["fix"])
    _, checks, _ = doctor(capsys)
    assert checks["trail main validation"]["status"] == "pass"


def test_an_organization_trail_covers_the_account(aws, capsys):
    make_trail("org-trail", IsOrganizationTrail=True)
    code, checks, _ = doctor(capsys)
    assert code == 0 and checks["regions"]["status"] == "pass"
    assert "organization" in checks["trail org-trail events"]["detail"]
    boto3.client("cloudtrail").stop_logging(Name="org-trail")
    code, checks, _ = doctor(capsys)
    assert code == 1 and "management account" in checks["trail org-trail logging"]["detail"]


def caller_allowed(*actions: str) -> None:
    """Credentials of a user allowed only `actions` (moto then enforces IAM)."""
    iam = boto3.client("iam")
    iam.create_user(UserName="auditor")
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": list(actions), "Resource": "*"}]}
    iam.put_user_policy(UserName="auditor", PolicyName="doctor", PolicyDocument=json.dumps(policy))
    return iam.create_access_key(UserName="auditor")["AccessKey"]


def test_missing_permissions_are_warnings_naming_the_action(aws, capsys, monkeypatch):
    make_trail()
    key = caller_allowed("cloudtrail:DescribeTrails", "cloudtrail:GetTrailStatus")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
    monkeypatch.delenv("AWS_SESSION_TOKEN")
    with enable_iam_authentication():
        code, checks, err = doctor(capsys)
    permission = checks["permission cloudtrail:GetEventSelectors"]
    assert permission["status"] == "warn" and "denied (AccessDenied)" in permission["detail"]
    assert "allow cloudtrail:GetEventSelectors" in permission["fix"]
    assert checks["regions"]["status"] == "warn" and "could not tell" in checks["regions"]["detail"]
    assert code == 2 and "Traceback" not in err and len(err.splitlines()) == 1


def test_no_credentials_exit_2_with_one_line(capsys, monkeypatch, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", raising=False)
    code = main(["doctor"])
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    assert captured.err.startswith("supportwatch: could not check: no AWS credentials found (")
    assert len(captured.err.splitlines()) == 1


FUNCTION = "sw-ProcessorFunction"
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{FUNCTION}"


def make_stack(parameters: dict[str, str], outputs: dict[str, object], queues: tuple[str, ...] = ()) -> dict:
    """A plain CloudFormation stack with the outputs and parameters of the SAM one (which moto cannot
    transform), its dead-letter queues created by the stack; returns the outputs."""
    names = ("DeadLetterQueue", *queues)
    template = {
        "Parameters": {name: {"Type": "String"} for name in parameters},
        "Resources": {name: {"Type": "AWS::SQS::Queue"} for name in names},
        "Outputs": {
            "ProcessorFunctionName": {"Value": FUNCTION},
            **{f"{name}Url": {"Value": {"Ref": name}} for name in names},
            **{name: {"Value": value} for name, value in outputs.items()},
        },
    }
    cloudformation = boto3.client("cloudformation")
    cloudformation.create_stack(
        StackName="sw",
        TemplateBody=json.dumps(template),
        Parameters=[{"ParameterKey": key, "ParameterValue": value} for key, value in parameters.items()],
    )
    (stack,) = cloudformation.describe_stacks(StackName="sw")["Stacks"]
    return {output["OutputKey"]: output["OutputValue"] for output in stack["Outputs"]}


def put_file(key: str) -> None:
    boto3.client("s3").put_object(Bucket=BUCKET, Key=key, Body=b"")


def put_logs(prefix: str, region: str, age: timedelta, digest: bool = True) -> None:
    """A log file (and a digest) of `region`, written `age` ago, where CloudTrail puts them."""
    when = datetime.now(UTC) - age
    folder = f"{prefix}AWSLogs/{ACCOUNT}/CloudTrail/{region}/{when:%Y/%m/%d}/"
    put_file(f"{folder}{ACCOUNT}_CloudTrail_{region}_{when:%Y%m%dT%H%MZ}_abc.json.gz")
    if digest:
        folder = folder.replace("/CloudTrail/", "/CloudTrail-Digest/")
        put_file(f"{folder}{ACCOUNT}_CloudTrail-Digest_{region}_main_{REGION}_{when:%Y%m%dT%H%M%SZ}.json.gz")


def notify_function(prefix: str) -> None:
    rules = [{"Name": "prefix", "Value": f"{prefix}AWSLogs/"}, {"Name": "suffix", "Value": ".json.gz"}]
    boto3.client("s3").put_bucket_notification_configuration(
        Bucket=BUCKET,
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {
                    "LambdaFunctionArn": FUNCTION_ARN,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": rules}},
                }
            ]
        },
    )


def statuses(checks: dict[str, dict]) -> dict[str, str]:
    return {name: check["status"] for name, check in checks.items()}


def test_a_healthy_stack_passes_every_delivery_check(aws, capsys):
    make_trail(S3KeyPrefix="trails")
    make_stack({"LogKeyPrefix": "trails"}, {"TrailBucketName": BUCKET})
    notify_function("trails/")
    put_logs("trails/", REGION, timedelta(minutes=10))
    put_logs("trails/", "eu-west-1", timedelta(hours=26, minutes=5))  # yesterday's folder
    put_logs("trails/", "eu-west-1", timedelta(hours=2))
    code, checks, _ = doctor(capsys, "--stack", "sw")
    assert code == 0, checks
    assert {name: status for name, status in statuses(checks).items() if status != "pass"} == {}
    assert {
        "delivery bucket",
        "delivery notification",
        "function errors",
        "function throttles",
        "newest logs",
        "newest digests",
    } <= set(checks)
    assert re.fullmatch(r"2 folders, newest 1\d min ago \(us-east-1\)", checks["newest logs"]["detail"])
    assert [name for name in checks if name.startswith("queue ")] == ["queue DeadLetterQueue"]


def test_a_broken_stack_names_each_problem_and_its_fix(aws, capsys):
    make_trail(S3KeyPrefix="other")
    outputs = make_stack({"LogKeyPrefix": "trails"}, {"TrailBucketName": BUCKET})
    dlq = outputs["DeadLetterQueueUrl"]
    for number in range(2):
        boto3.client("sqs").send_message(QueueUrl=dlq, MessageBody=json.dumps({"n": number}))
    boto3.client("cloudwatch").put_metric_data(
        Namespace="AWS/Lambda",
        MetricData=[{"MetricName": "Errors", "Dimensions": [{"Name": "FunctionName", "Value": FUNCTION}], "Value": 3}],
    )
    put_logs("trails/", REGION, timedelta(minutes=5))
    put_logs("trails/", "eu-west-1", timedelta(days=3), digest=False)
    code, checks, _ = doctor(capsys, "--stack", "sw")
    assert code == 1
    bucket = checks["delivery bucket"]
    assert bucket["status"] == "fail" and "s3://doctor-trail-logs/other/AWSLogs/" in bucket["detail"]
    assert bucket["fix"] == "sam deploy --stack-name sw --parameter-overrides LogKeyPrefix=other"
    assert checks["delivery notification"]["status"] == "fail"
    assert checks["delivery notification"]["fix"] == "sam deploy --stack-name sw"
    queue = checks["queue DeadLetterQueue"]
    assert queue["status"] == "fail" and queue["detail"].startswith("2 failed events")
    assert queue["fix"] == f"supportwatch redrive --queue-url {dlq} --stack sw"
    assert checks["function errors"]["status"] == "warn" and checks["function errors"]["detail"].startswith("3 failed")
    silent = checks["newest logs eu-west-1"]
    assert silent["status"] == "warn" and "silent since 72 h ago while other regions deliver" in silent["detail"]


def test_no_log_at_all_fails(aws, capsys):
    make_trail()
    make_stack({}, {"TrailBucketName": BUCKET})
    notify_function("")
    code, checks, _ = doctor(capsys, "--stack", "sw")
    assert code == 1
    assert checks["newest logs"]["status"] == "fail" and checks["newest logs"]["detail"].startswith("no logs under")
    assert checks["newest logs"]["fix"] == "aws cloudtrail get-trail-status --region us-east-1 --name main"


@pytest.fixture
def eventbridge_configuration(monkeypatch):
    """moto keeps a bucket's EventBridgeConfiguration but leaves it out of GetBucketNotificationConfiguration,
    where AWS returns it (`{}`) while it is on: add it, as AWS does."""
    from moto.s3 import responses

    original = responses.S3Response.get_bucket_notification

    def with_eventbridge(self):
        configuration = self.backend.get_bucket_notification_configuration(self.bucket_name)
        if configuration is None or configuration.event_bridge is None:
            return original(self)
        plain = responses.ActionResult
        monkeypatch.setattr(responses, "ActionResult", lambda result: plain({**result, "EventBridgeConfiguration": {}}))
        try:
            return original(self)
        finally:
            monkeypatch.setattr(responses, "ActionResult", plain)

    monkeypatch.setattr(responses.S3Response, "get_bucket_notification", with_eventbridge)


def test_existing_bucket_with_eventbridge(aws, eventbridge_configuration, capsys):
    make_trail()
    events = boto3.client("events")
    pattern = {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {"bucket": {"name": [BUCKET]}, "object": {"key": [{"wildcard": "AWSLogs/*/CloudTrail/*.json.gz"}]}},
    }
    rule_arn = events.put_rule(Name="sw-ObjectCreatedRule", EventPattern=json.dumps(pattern), State="DISABLED")[
        "RuleArn"
    ]
    events.put_targets(Rule="sw-ObjectCreatedRule", Targets=[{"Id": "ProcessorFunction", "Arn": FUNCTION_ARN}])
    make_stack(
        {"TrailBucketMode": "existing", "ExistingBucketName": BUCKET, "ExistingBucketTrigger": "EventBridge"},
        {"ObjectCreatedRuleArn": rule_arn},
        queues=("EventsDeadLetterQueue",),
    )
    put_logs("", REGION, timedelta(minutes=5))
    code, checks, _ = doctor(capsys, "--stack", "sw")
    assert code == 1
    assert checks["delivery notification"]["status"] == "fail"
    assert "does not send events to EventBridge" in checks["delivery notification"]["detail"]
    apply(checks["delivery notification"]["fix"])
    code, checks, _ = doctor(capsys, "--stack", "sw")
    assert checks["delivery rule"]["status"] == "fail" and "disabled" in checks["delivery rule"]["detail"]
    apply(checks["delivery rule"]["fix"])
    code, checks, _ = doctor(capsys, "--stack", "sw")
    assert code == 0 and checks["delivery rule"]["status"] == "pass"
    assert {name for name in checks if name.startswith("queue ")} == {
        "queue DeadLetterQueue",
        "queue EventsDeadLetterQueue",
    }


def test_existing_bucket_with_an_ingest_queue(aws, capsys):
    make_trail(S3KeyPrefix="org")
    queue_url = boto3.client("sqs").create_queue(QueueName="sw-IngestQueue")["QueueUrl"]
    queue_arn = boto3.client("sqs").get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    make_stack(
        {
            "TrailBucketMode": "existing",
            "ExistingBucketName": BUCKET,
            "ExistingBucketTrigger": "SQS",
            "LogKeyPrefix": "org",
        },
        {"IngestQueueArn": queue_arn},
        queues=("IngestDeadLetterQueue",),
    )
    notify_function("org/")  # another notification the fix must keep
    put_logs("org/", REGION, timedelta(minutes=5))
    code, checks, _ = doctor(capsys, "--stack", "sw")
    assert code == 1 and checks["delivery notification"]["status"] == "fail"
    apply(checks["delivery notification"]["fix"])
    code, checks, _ = doctor(capsys, "--stack", "sw")
    assert code == 0 and checks["delivery notification"]["status"] == "pass"
    configuration = boto3.client("s3").get_bucket_notification_configuration(Bucket=BUCKET)
    assert len(configuration["LambdaFunctionConfigurations"]) == 1 and len(configuration["QueueConfigurations"]) == 1


def test_a_missing_stack_cannot_be_checked(aws, capsys):
    make_trail()
    code = main(["doctor", "--stack", "absent"])
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    assert (
        captured.err
        == "supportwatch: could not check: stack absent not found in us-east-1: check --stack and --region\n"
    )


def test_an_organization_trail_of_the_management_account_with_a_delivery_error(aws, monkeypatch):
    """What moto does not model, through botocore's Stubber: the shadow of an organization trail whose
    home is the management account, and GetTrailStatus's LatestDeliveryError."""
    monkeypatch.setattr(boto3.session.Session, "get_available_regions", lambda *_args, **_kwargs: [REGION])
    inspector = Inspector(None, REGION)
    arn = f"arn:aws:cloudtrail:{REGION}:999988887777:trail/org"
    trail = {
        "Name": "org",
        "TrailARN": arn,
        "HomeRegion": REGION,
        "S3BucketName": "org-archive",
        "IsMultiRegionTrail": True,
        "IsOrganizationTrail": True,
        "LogFileValidationEnabled": True,
    }
    with Stubber(inspector.client("cloudtrail", REGION)) as stubber:
        stubber.add_response("describe_trails", {"trailList": [trail]}, {"includeShadowTrails": True})
        stubber.add_response(
            "get_trail_status", {"IsLogging": True, "LatestDeliveryError": "AccessDenied"}, {"Name": arn}
        )
        stubber.add_response("get_event_selectors", {"TrailARN": arn, "EventSelectors": ALL}, {"TrailName": arn})
        observed = inspector.observe(None, datetime.now(UTC))
        stubber.assert_no_pending_responses()
    checks = {check.name: check for check in diagnose(observed)}
    assert (
        checks["trail org events"].status == "pass" and "organization, all regions" in checks["trail org events"].detail
    )
    logging = checks["trail org logging"]
    assert logging.status == "fail" and logging.detail == "delivery to s3://org-archive fails: AccessDenied"
    assert checks["regions"].status == "fail" and exit_code(list(checks.values()), observed) == 1


READ_ONLY = [{"ReadWriteType": "ReadOnly", "IncludeManagementEvents": True}]


def test_a_read_only_trail_misses_amazon_q_until_it_logs_all_management_events(aws, capsys):
    make_trail(selectors=READ_ONLY)
    code, checks, _ = doctor(capsys, "--services", "support")
    assert code == 0 and set(statuses(checks).values()) == {"pass"}
    code, checks, _ = doctor(capsys, "--services", "support,q")
    assert code == 1
    events = checks["trail main events"]
    assert events["status"] == "fail" and events["detail"] == (
        "Amazon Q: only Read management events are logged (ReadWriteType ReadOnly)"
    )
    assert checks["regions"]["status"] == "fail"
    apply(events["fix"])
    assert (
        boto3.client("cloudtrail").get_event_selectors(TrailName="main")["EventSelectors"][0]["ReadWriteType"] == "All"
    )
    code, checks, _ = doctor(capsys, "--services", "support,q,bedrock")
    assert code == 0 and set(statuses(checks).values()) == {"pass"}
    assert checks["trail main events"]["detail"] == "logs Read and Write management events (all regions)"


def test_an_advanced_selector_excluding_bedrock_fails_until_fixed(aws, capsys):
    make_trail(
        advanced=[
            {
                "Name": "management but bedrock",
                "FieldSelectors": [
                    {"Field": "eventCategory", "Equals": ["Management"]},
                    {"Field": "eventSource", "NotEquals": ["bedrock.amazonaws.com", "kms.amazonaws.com"]},
                ],
            }
        ]
    )
    code, checks, _ = doctor(capsys, "--services", "support,q")
    assert code == 0
    code, checks, _ = doctor(capsys, "--services", "bedrock")
    assert code == 1 and "Amazon Bedrock" in checks["trail main events"]["detail"]
    apply(checks["trail main events"]["fix"])
    code, checks, _ = doctor(capsys, "--services", "bedrock")
    assert code == 0, checks


def test_the_stack_says_which_services_are_watched(aws, capsys):
    make_trail(S3KeyPrefix="trails", selectors=READ_ONLY)
    make_stack({"LogKeyPrefix": "trails", "WatchedServices": "support,q"}, {"TrailBucketName": BUCKET})
    notify_function("trails/")
    put_logs("trails/", REGION, timedelta(minutes=10))
    code, checks, _ = doctor(capsys, "--stack", "sw")
    assert code == 1 and "Amazon Q" in checks["trail main events"]["detail"]
    assert checks["delivery bucket"]["status"] == "pass"  # it delivers support's calls there; the trail row fails
    code, checks, _ = doctor(capsys, "--stack", "sw", "--services", "support")  # --services wins
    assert code == 0, checks


def test_a_bad_services_list_is_one_line(aws, capsys):
    with pytest.raises(SystemExit) as exited:
        main(["doctor", "--services", "support,chatgpt"])
    err = capsys.readouterr().err
    assert exited.value.code == 2 and err.count("\n") == 1 and "unknown service chatgpt" in err


def test_the_sandbox_stack_names_the_services_its_function_watches():
    with mock_aws():
        stack = deploy(MotoAccount(), TEMPLATE, services=("support", "bedrock"))  # sandbox --services
        record_stack(MotoAccount(), stack)
        open_trail(MotoAccount(), stack.bucket)
        observed = Inspector(None, REGION).observe(STACK_NAME, datetime.now(UTC))
    assert observed.services == ("support", "bedrock")
    events = {check.name: check for check in diagnose(observed)}[f"trail {STACK_NAME} events"]
    assert events.detail == f"logs Read and Write management events ({REGION} only)"
