"""Doctor with more services watched (contract section 12): Amazon Q's SendMessage is a Write management
event and Bedrock's readOnly varies, so a trail must log Read and Write management events of their
sources; support alone needs Read ones only. Pure, no AWS."""

from __future__ import annotations

import json

import pytest

from supportwatch.aws.inspection import parse_selectors
from supportwatch.doctor.checks import diagnose, exit_code
from supportwatch.doctor.models import BasicSelector, Observed, Selectors, Trail
from supportwatch.doctor.selectors import SOURCE, fixed, verdict
from tests.unit.test_doctor_checks import trail as healthy_trail

Q_SOURCE, BEDROCK_SOURCE = "q.amazonaws.com", "bedrock.amazonaws.com"
MANAGEMENT = {"Field": "eventCategory", "Equals": ["Management"]}
ALL, READ, WRITE = (
    {"ReadWriteType": kind, "IncludeManagementEvents": True} for kind in ("All", "ReadOnly", "WriteOnly")
)


def basic(*selectors: dict) -> dict:
    return {"EventSelectors": list(selectors)}


def advanced(*field_lists: list[dict]) -> dict:
    return {"AdvancedEventSelectors": [{"Name": f"s{n}", "FieldSelectors": f} for n, f in enumerate(field_lists)]}


def read_only(*values: str) -> dict:
    return {"Field": "readOnly", "Equals": list(values)}


def source(operator: str, *values: str) -> dict:
    return {"Field": "eventSource", operator: list(values)}


def name(operator: str, *values: str) -> dict:
    return {"Field": "eventName", operator: list(values)}


def reach(selectors: dict, services: tuple[str, ...]) -> str:
    return verdict(parse_selectors(selectors), services).reach


def reach_after_fix(selectors: dict, services: tuple[str, ...]) -> str:
    option, document = fixed(parse_selectors(selectors), services)
    key = "AdvancedEventSelectors" if option == "--advanced-event-selectors" else "EventSelectors"
    return reach({key: json.loads(document)}, services)


# Per selector setup, the reach for support, q and bedrock watched alone.
CASES = [
    (basic(ALL), ("all", "all", "all")),
    (basic(READ), ("all", "none", "none")),
    (basic(WRITE), ("none", "none", "none")),
    (basic(READ, WRITE), ("all", "all", "all")),
    (basic({**ALL, "IncludeManagementEvents": False}), ("none", "none", "none")),
    (basic({**ALL, "ExcludeManagementEventSources": [Q_SOURCE]}), ("all", "none", "all")),
    (basic({**ALL, "ExcludeManagementEventSources": [BEDROCK_SOURCE, "kms.amazonaws.com"]}), ("all", "all", "none")),
    (basic({**READ, "ExcludeManagementEventSources": [SOURCE]}, WRITE), ("none", "all", "all")),
    (advanced([MANAGEMENT]), ("all", "all", "all")),
    (advanced([MANAGEMENT, read_only("true")]), ("all", "none", "none")),
    (advanced([MANAGEMENT, read_only("false")]), ("none", "none", "none")),
    (advanced([MANAGEMENT, read_only("true", "false")]), ("all", "all", "all")),
    (advanced([MANAGEMENT, read_only("true")], [MANAGEMENT, read_only("false")]), ("all", "all", "all")),
    (advanced([MANAGEMENT, {"Field": "readOnly", "NotEquals": ["false"]}]), ("all", "none", "none")),
    (advanced([MANAGEMENT, source("NotEquals", Q_SOURCE)]), ("all", "none", "all")),
    (advanced([MANAGEMENT, source("NotEquals", BEDROCK_SOURCE)]), ("all", "all", "none")),
    (advanced([MANAGEMENT, source("NotStartsWith", "bedrock")]), ("all", "all", "none")),
    (advanced([MANAGEMENT, source("Equals", SOURCE)]), ("all", "none", "none")),
    (advanced([MANAGEMENT, source("Equals", SOURCE, Q_SOURCE, BEDROCK_SOURCE)]), ("all", "all", "all")),
    (advanced([MANAGEMENT, source("Equals", Q_SOURCE), read_only("true")]), ("none", "none", "none")),
    # Q counts every name: one name selected may drop the others; SendMessage excluded misses Q's chat.
    (advanced([MANAGEMENT, name("Equals", "SendMessage")]), ("none", "some", "none")),
    (advanced([MANAGEMENT, name("NotEquals", "SendMessage")]), ("all", "none", "all")),
    (advanced([MANAGEMENT, name("Equals", "InvokeModel")]), ("none", "none", "some")),
    (advanced([MANAGEMENT, name("NotEquals", "Converse")]), ("all", "some", "some")),  # Q: names unknown
    (advanced([MANAGEMENT, {"Field": "userIdentity.arn", "StartsWith": ["arn:aws:iam::1"]}]), ("some",) * 3),
    (
        advanced([{"Field": "eventCategory", "Equals": ["Data"]}, {"Field": "resources.type", "Equals": ["x"]}]),
        ("none",) * 3,
    ),
]


@pytest.mark.parametrize(("selectors", "reaches"), CASES)
def test_each_service_needs_its_kinds_of_management_events(selectors, reaches):
    for service, expected in zip(("support", "q", "bedrock"), reaches, strict=True):
        assert reach(selectors, (service,)) == expected, service
        if expected != "all":
            assert reach_after_fix(selectors, (service,)) == "all", service
    together = ("support", "q", "bedrock")
    combined = "all" if set(reaches) == {"all"} else "none" if "none" in reaches else "some"
    assert reach(selectors, together) == combined
    if combined != "all":
        assert reach_after_fix(selectors, together) == "all"


def test_the_reason_names_the_services_missed_and_why():
    found = verdict(parse_selectors(basic(READ)), ("support", "q", "bedrock"))
    assert found == type(found)(
        "none", "Amazon Q and Amazon Bedrock: only Read management events are logged (ReadWriteType ReadOnly)"
    )
    found = verdict(parse_selectors(advanced([MANAGEMENT, source("NotEquals", Q_SOURCE)])), ("support", "q"))
    assert found.reach == "none"
    assert found.reason == f'Amazon Q: advanced selector "s0": eventSource NotEquals {Q_SOURCE} excludes them'
    # support alone: the reason as it always was.
    assert verdict(parse_selectors(basic(WRITE))).reason == (
        "only Write management events are logged (ReadWriteType WriteOnly)"
    )


def test_the_fix_logs_every_management_event_and_keeps_everything_else():
    data = {"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::bucket/"]}
    excluding = {**READ, "DataResources": [data], "ExcludeManagementEventSources": ["kms.amazonaws.com", Q_SOURCE]}
    option, document = fixed(parse_selectors(basic(excluding)), ("support", "q"))
    assert option == "--event-selectors"
    assert json.loads(document) == [
        {**excluding, "ReadWriteType": "All", "ExcludeManagementEventSources": ["kms.amazonaws.com"]}
    ]
    # support alone keeps ReadOnly: it is all that needs.
    assert json.loads(fixed(parse_selectors(basic(READ)))[1]) == [READ]
    selectors = advanced([MANAGEMENT, read_only("true"), source("NotEquals", "kms.amazonaws.com", BEDROCK_SOURCE)])
    option, document = fixed(parse_selectors(selectors), ("bedrock",))
    assert json.loads(document) == [
        {"Name": "s0", "FieldSelectors": [MANAGEMENT, source("NotEquals", "kms.amazonaws.com")]}
    ]
    data_only = advanced([{"Field": "eventCategory", "Equals": ["Data"]}, {"Field": "resources.type", "Equals": ["x"]}])
    option, document = fixed(parse_selectors(data_only), ("support", "q"))
    assert json.loads(document)[1] == {"Name": "Management events (supportwatch)", "FieldSelectors": [MANAGEMENT]}


def trail(selectors: Selectors, name: str = "main") -> Trail:
    return healthy_trail(name, selectors=selectors)


def observe(selectors: Selectors, services: tuple[str, ...], *others: Trail) -> Observed:
    trails = (trail(selectors), *others)
    return Observed("111122223333", ("eu-west-1", "us-east-1"), trails, now=None, services=services)  # type: ignore[arg-type]


def test_a_read_only_trail_fails_when_q_is_watched_and_names_the_fix():
    reads = Selectors(basic=(BasicSelector(read_write="ReadOnly", raw=READ),))
    observed = observe(reads, ("support",))
    checks = {check.name: check for check in diagnose(observed)}
    assert checks["trail main events"].detail == "logs Read management events (all regions)"
    assert exit_code(diagnose(observed), observed) == 0
    observed = observe(reads, ("support", "q"))
    checks = {check.name: check for check in diagnose(observed)}
    events = checks["trail main events"]
    assert events.status == "fail" and "Amazon Q" in events.detail and "ReadOnly" in events.detail
    assert events.fix == (
        "aws cloudtrail put-event-selectors --region us-east-1 --trail-name main --event-selectors "
        '\'[{"ReadWriteType":"All","IncludeManagementEvents":true}]\''
    )
    assert checks["regions"].status == "fail" and checks["regions"].fix == events.fix
    assert checks["regions"].detail.startswith("q.amazonaws.com calls not delivered in 2 of 2 regions")
    assert checks["trail main validation"].status == "pass"  # the trail still delivers support's calls
    assert exit_code(diagnose(observed), observed) == 1
    everything = observe(Selectors(basic=(BasicSelector(raw=ALL),)), ("support", "q", "bedrock"))
    checks = {check.name: check for check in diagnose(everything)}
    assert checks["trail main events"].detail == "logs Read and Write management events (all regions)"
    assert exit_code(diagnose(everything), everything) == 0


def test_trails_may_share_the_services_between_them():
    support_only = parse_selectors(advanced([MANAGEMENT, source("Equals", SOURCE)]))
    q_only = parse_selectors(advanced([MANAGEMENT, source("Equals", Q_SOURCE)]))
    observed = observe(support_only, ("support", "q"), trail(q_only, "chat"))
    checks = {check.name: check for check in diagnose(observed)}
    # Each misses the other's service, which the other delivers everywhere: warnings, and every region passes.
    assert checks["trail main events"].status == "warn" and checks["trail main events"].detail.startswith("Amazon Q:")
    assert checks["trail chat events"].status == "warn"
    assert checks["regions"].status == "pass" and checks["regions"].detail == "all 2 regions delivered by chat, main"
    assert exit_code(diagnose(observed), observed) == 0
    alone = observe(support_only, ("support", "q"))
    checks = {check.name: check for check in diagnose(alone)}
    assert checks["trail main events"].status == "fail"
    assert checks["regions"].detail.startswith("q.amazonaws.com calls not delivered in 2 of 2 regions")
