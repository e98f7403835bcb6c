"""Doctor's verdicts over what was read (pure, no AWS): coverage, severities, delivery wiring, freshness,
permissions and exit codes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from supportwatch.doctor.checks import diagnose, exit_code
from supportwatch.doctor.models import (
    AdvancedSelector,
    BasicSelector,
    Deployment,
    FieldSelector,
    Newest,
    Notification,
    Observed,
    Rule,
    Selectors,
    Trail,
    TrailStatus,
    Unread,
)

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
REGIONS = ("eu-west-1", "us-east-1", "us-west-2")
READS = Selectors(basic=(BasicSelector(),))
WRITES = Selectors(basic=(BasicSelector(read_write="WriteOnly"),))
ONE_CALL = Selectors(
    advanced=(
        AdvancedSelector(
            "one call",
            (
                FieldSelector("eventCategory", equals=("Management",)),
                FieldSelector("eventName", equals=("StartSupportTroubleshooting",)),
            ),
        ),
    )
)
FUNCTION = "sw-ProcessorFunction"


def trail(name: str = "main", **changes) -> Trail:
    base = Trail(
        name=name,
        arn=f"arn:aws:cloudtrail:us-east-1:111122223333:trail/{name}",
        home_region="us-east-1",
        multi_region=True,
        organization=False,
        bucket="logs",
        prefix="",
        validation=True,
        status=TrailStatus(logging=True),
        selectors=READS,
    )
    return replace(base, **changes)


def observe(*trails: Trail, **changes) -> Observed:
    return replace(Observed(account="111122223333", regions=REGIONS, trails=trails, now=NOW), **changes)


def verdicts(observed: Observed) -> dict[str, tuple[str, str, str]]:
    return {check.name: (check.status, check.detail, check.fix) for check in diagnose(observed)}


def test_a_broken_trail_fails_only_where_no_other_trail_delivers():
    single = trail("regional", multi_region=False)
    stopped = trail("everywhere", status=TrailStatus(logging=False))
    found = verdicts(observe(single, stopped))
    assert found["trail everywhere logging"][0] == "fail"  # eu-west-1 and us-west-2 have no other trail
    status, detail, fix = found["regions"]
    assert status == "warn" and "2 of 3 regions: eu-west-1, us-west-2" in detail
    assert fix == "aws cloudtrail update-trail --region us-east-1 --name regional --is-multi-region-trail"
    found = verdicts(observe(trail("main"), stopped))
    assert found["trail everywhere logging"][0] == "warn" and found["regions"][0] == "pass"
    assert exit_code(diagnose(observe(trail("main"), stopped)), observe(trail("main"), stopped)) == 0


def test_without_any_delivering_trail_the_regions_fix_is_the_trails_own():
    found = verdicts(observe(trail(selectors=WRITES)))
    assert found["regions"][0] == "fail"
    assert found["regions"][2] == found["trail main events"][2]
    assert found["regions"][2].startswith("aws cloudtrail put-event-selectors --region us-east-1 --trail-name main")
    assert verdicts(observe())["regions"][2].startswith("aws cloudtrail create-trail --name supportwatch")


def test_selectors_that_drop_some_calls_warn():
    found = verdicts(observe(trail(selectors=ONE_CALL)))
    assert found["trail main events"][0] == "warn" and "may drop some" in found["trail main events"][1]
    assert found["regions"][0] == "warn" and "may drop some calls in 3 regions" in found["regions"][1]
    assert found["trail main validation"][0] == "pass"


def test_a_delivery_error_fails_and_an_organization_trail_names_the_management_account():
    found = verdicts(observe(trail(status=TrailStatus(logging=True, delivery_error="NoSuchBucket"), organization=True)))
    assert found["trail main logging"][:2] == ("fail", "delivery to s3://logs fails: NoSuchBucket")
    found = verdicts(observe(trail(status=TrailStatus(logging=False), organization=True)))
    assert "management account" in found["trail main logging"][1]


def test_what_could_not_be_read_is_a_warning_and_leaves_the_answer_open():
    unread = (Unread("cloudtrail:GetEventSelectors", trail().arn, "AccessDeniedException"),)
    observed = observe(trail(selectors=None), unread=unread)
    found = verdicts(observed)
    assert found["permission cloudtrail:GetEventSelectors"][0] == "warn"
    assert found["permission cloudtrail:GetEventSelectors"][1].startswith("denied (AccessDeniedException)")
    assert found["regions"][:2] == ("warn", "could not tell for 3 regions: eu-west-1, us-east-1, us-west-2")
    assert exit_code(diagnose(observed), observed) == 2
    nothing = observe(unread=(Unread("cloudtrail:DescribeTrails", "us-east-1", "AccessDenied"),), trails_read=False)
    assert list(verdicts(nothing)) == ["permission cloudtrail:DescribeTrails"]
    assert exit_code(diagnose(nothing), nothing) == 2
    flaky = observe(trail(), unread=(Unread("sqs:GetQueueAttributes", "https://q", "EndpointConnectionError"),))
    assert verdicts(flaky)["read sqs:GetQueueAttributes"][0] == "warn"
    assert exit_code(diagnose(flaky), flaky) == 0


def stack(**changes) -> Deployment:
    base = Deployment(
        stack="sw",
        trigger="S3",
        bucket="logs",
        prefix="",
        function=FUNCTION,
        notifications=(
            Notification(
                f"arn:aws:lambda:us-east-1:111122223333:function:{FUNCTION}",
                ("s3:ObjectCreated:*",),
                "AWSLogs/",
                ".json.gz",
            ),
        ),
        logs=(Newest("111122223333", "us-east-1", NOW - timedelta(minutes=5)),),
    )
    return replace(base, **changes)


def test_notifications_must_reach_the_function_with_a_filter_that_passes_log_keys():
    assert verdicts(observe(trail(), deployment=stack()))["delivery notification"][0] == "pass"
    wrong = [
        Notification(
            f"arn:aws:lambda:us-east-1:111122223333:function:{FUNCTION}", ("s3:ObjectCreated:*",), "x/AWSLogs/"
        ),
        Notification(f"arn:aws:lambda:us-east-1:111122223333:function:{FUNCTION}", ("s3:ObjectRemoved:*",)),
        Notification("arn:aws:lambda:us-east-1:111122223333:function:other", ("s3:ObjectCreated:*",)),
        Notification(
            f"arn:aws:lambda:us-east-1:111122223333:function:{FUNCTION}", ("s3:ObjectCreated:*",), "", ".json"
        ),
    ]
    for notification in wrong:
        status, _, fix = verdicts(observe(trail(), deployment=stack(notifications=(notification,))))[
            "delivery notification"
        ]
        assert (status, fix) == ("fail", "sam deploy --stack-name sw"), notification


def test_the_eventbridge_rule_must_match_the_bucket_and_keys_and_target_the_function():
    rule = Rule(
        "sw-rule",
        True,
        ("logs",),
        ("AWSLogs/*/CloudTrail/*.json.gz",),
        (f"arn:aws:lambda:us-east-1:1:function:{FUNCTION}",),
    )
    deployment = stack(trigger="EventBridge", eventbridge_on=True, rule=rule)
    assert verdicts(observe(trail(), deployment=deployment))["delivery rule"][0] == "pass"
    for broken in (
        replace(rule, buckets=("other",)),
        replace(rule, key_patterns=("trails/AWSLogs/*",)),
        replace(rule, targets=("arn:aws:lambda:us-east-1:1:function:other",)),
    ):
        status, detail, _ = verdicts(observe(trail(), deployment=replace(deployment, rule=broken)))["delivery rule"]
        assert status == "fail", detail


def test_freshness_per_account_and_region():
    logs = (
        Newest("111122223333", "us-east-1", NOW - timedelta(minutes=5)),
        Newest("111122223333", "eu-west-1", NOW - timedelta(hours=30)),
        Newest("444455556666", "eu-west-1", None),
    )
    found = verdicts(observe(trail(), deployment=stack(logs=logs)))
    assert found["newest logs eu-west-1 111122223333"][:2] == (
        "warn",
        "silent since 30 h ago while other regions deliver (idle?)",
    )
    assert found["newest logs eu-west-1 444455556666"][1].startswith("silent over 7 days")
    stale = (Newest("111122223333", "us-east-1", NOW - timedelta(hours=25)),)
    assert verdicts(observe(trail(), deployment=stack(logs=stale)))["newest logs"][:2] == (
        "fail",
        "newest of all logs: us-east-1 25 h ago",
    )
    digests = (Newest("111122223333", "us-east-1", NOW - timedelta(hours=4)),)
    assert verdicts(observe(trail(), deployment=stack(digests=digests)))["newest digests"][0] == "warn"
    no_validation = verdicts(observe(trail(validation=False), deployment=stack(digests=digests)))
    assert "newest digests" not in no_validation
