"""Event selector semantics (AWS's documented rules) and the fixes doctor proposes: pure, no AWS."""

from __future__ import annotations

import json

import pytest

from supportwatch.aws.inspection import parse_selectors
from supportwatch.doctor.selectors import SOURCE, fixed, verdict

MANAGEMENT = {"Field": "eventCategory", "Equals": ["Management"]}


def basic(*selectors: dict) -> dict:
    return {"EventSelectors": list(selectors)}


def advanced(*field_lists: list[dict]) -> dict:
    return {"AdvancedEventSelectors": [{"Name": f"s{n}", "FieldSelectors": f} for n, f in enumerate(field_lists)]}


def reach_after_fix(found: dict) -> str:
    option, document = fixed(parse_selectors(found))
    key = "AdvancedEventSelectors" if option == "--advanced-event-selectors" else "EventSelectors"
    return verdict(parse_selectors({key: json.loads(document)})).reach


@pytest.mark.parametrize(
    ("selectors", "reach", "reason"),
    [
        (basic({"ReadWriteType": "All", "IncludeManagementEvents": True}), "all", ""),
        (basic({"ReadWriteType": "ReadOnly", "IncludeManagementEvents": True}), "all", ""),
        (basic({"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True}), "none", "WriteOnly"),
        (basic({"ReadWriteType": "All", "IncludeManagementEvents": False}), "none", "IncludeManagementEvents"),
        (
            basic({"ReadWriteType": "All", "IncludeManagementEvents": True, "ExcludeManagementEventSources": [SOURCE]}),
            "none",
            "ExcludeManagementEventSources",
        ),
        (
            basic(
                {"ReadWriteType": "All", "IncludeManagementEvents": True, "ExcludeManagementEventSources": [SOURCE]},
                {"ReadWriteType": "ReadOnly", "IncludeManagementEvents": True},
            ),
            "all",
            "",
        ),
        (
            basic(
                {
                    "ReadWriteType": "All",
                    "IncludeManagementEvents": True,
                    "ExcludeManagementEventSources": ["kms.amazonaws.com"],
                }
            ),
            "all",
            "",
        ),
        (basic(), "none", "no event selectors"),
        (advanced([MANAGEMENT]), "all", ""),
        (advanced([MANAGEMENT, {"Field": "readOnly", "Equals": ["true"]}]), "all", ""),
        (advanced([MANAGEMENT, {"Field": "readOnly", "Equals": ["false"]}]), "none", "readOnly Equals false"),
        (advanced([MANAGEMENT, {"Field": "eventSource", "NotEquals": [SOURCE]}]), "none", "NotEquals"),
        (advanced([MANAGEMENT, {"Field": "eventSource", "NotEquals": ["kms.amazonaws.com"]}]), "all", ""),
        (advanced([MANAGEMENT, {"Field": "eventSource", "NotStartsWith": ["support"]}]), "none", "NotStartsWith"),
        (advanced([MANAGEMENT, {"Field": "eventSource", "NotEndsWith": [".amazonaws.com"]}]), "none", "NotEndsWith"),
        (advanced([MANAGEMENT, {"Field": "eventSource", "StartsWith": ["s3", "supportrec"]}]), "all", ""),
        (advanced([MANAGEMENT, {"Field": "eventSource", "Equals": ["s3.amazonaws.com"]}]), "none", "Equals"),
        # A positive and a negative operator on one field: one value must match and none of the others.
        (
            advanced([MANAGEMENT, {"Field": "eventSource", "StartsWith": ["support"], "NotEquals": [SOURCE]}]),
            "none",
            "NotEquals",
        ),
        # One of the two calls only.
        (
            advanced([MANAGEMENT, {"Field": "eventName", "Equals": ["StartSupportTroubleshooting"]}]),
            "some",
            "eventName",
        ),
        # A field the calls' records do not fix: some callers may be dropped.
        (advanced([MANAGEMENT, {"Field": "userIdentity.arn", "NotStartsWith": ["arn:aws:sts::1"]}]), "some", "arn"),
        # Data events only.
        (
            advanced(
                [
                    {"Field": "eventCategory", "Equals": ["Data"]},
                    {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
                ]
            ),
            "none",
            "management",
        ),
        # Selectors are alternatives: a second one that selects the calls is enough.
        (
            advanced(
                [MANAGEMENT, {"Field": "eventSource", "NotEquals": [SOURCE]}],
                [MANAGEMENT, {"Field": "readOnly", "Equals": ["true"]}],
            ),
            "all",
            "",
        ),
    ],
)
def test_verdict_follows_the_documented_semantics(selectors, reach, reason):
    found = verdict(parse_selectors(selectors))
    assert found.reach == reach
    assert reason in found.reason
    if reach != "all":
        assert reach_after_fix(selectors) == "all"


def test_the_fix_keeps_everything_else_of_theparse_selectors():
    data = {"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::bucket/"]}
    selectors = basic(
        {
            "ReadWriteType": "WriteOnly",
            "IncludeManagementEvents": True,
            "DataResources": [data],
            "ExcludeManagementEventSources": ["kms.amazonaws.com", SOURCE],
        }
    )
    option, document = fixed(parse_selectors(selectors))
    assert option == "--event-selectors"
    assert json.loads(document) == [
        {
            "ReadWriteType": "All",
            "IncludeManagementEvents": True,
            "DataResources": [data],
            "ExcludeManagementEventSources": ["kms.amazonaws.com"],
        }
    ]
    data_selector = [
        {"Field": "eventCategory", "Equals": ["Data"]},
        {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
    ]
    excluding = advanced(
        data_selector, [MANAGEMENT, {"Field": "eventSource", "NotEquals": ["kms.amazonaws.com", SOURCE]}]
    )
    option, document = fixed(parse_selectors(excluding))
    assert option == "--advanced-event-selectors"
    assert json.loads(document) == [
        {"Name": "s0", "FieldSelectors": data_selector},
        {"Name": "s1", "FieldSelectors": [MANAGEMENT, {"Field": "eventSource", "NotEquals": ["kms.amazonaws.com"]}]},
    ]
    option, document = fixed(parse_selectors(advanced(data_selector)))
    assert json.loads(document)[1]["FieldSelectors"] == [MANAGEMENT, {"Field": "readOnly", "Equals": ["true"]}]
