"""Whether a trail's event selectors deliver the Support Recommendations calls, and the selectors that would.

Both calls are Read management events of `supportrecommendations.amazonaws.com` (contract section 1).
Basic selectors deliver them when one includes management events with `ReadWriteType` `All` or
`ReadOnly` and does not list the source in `ExcludeManagementEventSources`. Advanced selectors follow
AWS's documented semantics: a trail logs an event that any selector matches; a selector matches when
all its field conditions hold; within a condition, the values of `Equals`, `StartsWith` and `EndsWith`
are alternatives (one must match) while every value of `NotEquals`, `NotStartsWith` and `NotEndsWith`
must not match. A condition on a field the calls' records do not fix (e.g. `userIdentity.arn`) may
drop some of them: the verdict is then `some`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from supportwatch.doctor.models import AdvancedSelector, BasicSelector, FieldSelector, Selectors

SOURCE = "supportrecommendations.amazonaws.com"
EVENT_NAMES = ("StartSupportTroubleshooting", "GetSupportTroubleshootingResponse")
Reach = Literal["all", "some", "none"]

_OPERATORS = (
    ("equals", "Equals"),
    ("starts_with", "StartsWith"),
    ("ends_with", "EndsWith"),
    ("not_equals", "NotEquals"),
    ("not_starts_with", "NotStartsWith"),
    ("not_ends_with", "NotEndsWith"),
)


@dataclass(frozen=True, slots=True)
class Verdict:
    reach: Reach
    reason: str  # why not `all` (empty when all)


def _record(event_name: str) -> dict[str, str]:
    """The fields of a Support Recommendations record that selectors can filter on."""
    return {
        "eventCategory": "Management",
        "readOnly": "true",
        "eventSource": SOURCE,
        "eventName": event_name,
        "eventType": "AwsApiCall",
    }


def _holds(condition: FieldSelector, value: str | None) -> bool | None:
    """Whether the condition holds for `value` (None: the value, so the answer, is not known)."""
    positive = (
        [value == v for v in condition.equals]
        + [value.startswith(v) for v in condition.starts_with if value is not None]
        + [value.endswith(v) for v in condition.ends_with if value is not None]
    )
    has_positive = bool(condition.equals or condition.starts_with or condition.ends_with)
    if value is None:
        negative = bool(condition.not_equals or condition.not_starts_with or condition.not_ends_with)
        return None if has_positive or negative else True
    excluded = (
        value in condition.not_equals
        or any(value.startswith(v) for v in condition.not_starts_with)
        or any(value.endswith(v) for v in condition.not_ends_with)
    )
    return (any(positive) or not has_positive) and not excluded


def _matches(selector: AdvancedSelector, record: dict[str, str]) -> bool | None:
    results = [_holds(condition, record.get(condition.field)) for condition in selector.fields]
    if False in results:
        return False
    return None if None in results else True


def _describe(condition: FieldSelector) -> str:
    parts = [
        f"{condition.field} {title} {','.join(values)}"
        for attribute, title in _OPERATORS
        if (values := getattr(condition, attribute))
    ]
    return " and ".join(parts)


def _advanced(selectors: Sequence[AdvancedSelector]) -> Verdict:
    outcomes = []
    for name in EVENT_NAMES:
        record = _record(name)
        found = [_matches(selector, record) for selector in selectors]
        outcomes.append(True if True in found else None if None in found else False)
    if all(outcome is True for outcome in outcomes):
        return Verdict("all", "")
    management = [s for s in selectors if _holds(_field(s, "eventCategory"), "Management") is not False]
    if not management:
        return Verdict("none", "no advanced selector selects management events (eventCategory Equals Management)")
    blocking = [
        f'"{selector.name or "unnamed"}": {_describe(condition)}'
        for selector in management
        for condition in selector.fields
        if not _always(condition)
    ]
    reach: Reach = "none" if all(outcome is False for outcome in outcomes) else "some"
    verb = "excludes them" if reach == "none" else "may drop some"
    return Verdict(reach, f"advanced selector {'; '.join(blocking[:2])} {verb}")


def _field(selector: AdvancedSelector, name: str) -> FieldSelector:
    """The selector's condition on `name` (no condition: everything holds)."""
    return next((c for c in selector.fields if c.field == name), FieldSelector(name))


def _basic(selectors: Sequence[BasicSelector]) -> Verdict:
    if not selectors:
        return Verdict("none", "the trail has no event selectors")
    management = [s for s in selectors if s.management]
    if not management:
        return Verdict("none", "management events are off (IncludeManagementEvents false)")
    reads = [s for s in management if s.read_write in ("All", "ReadOnly")]
    if not reads:
        return Verdict("none", "only Write management events are logged (ReadWriteType WriteOnly)")
    if all(SOURCE in s.excluded_sources for s in reads):
        return Verdict("none", f"ExcludeManagementEventSources lists {SOURCE}")
    return Verdict("all", "")


def verdict(selectors: Selectors) -> Verdict:
    """Whether a trail with these selectors logs all, some or none of the Support Recommendations calls."""
    return _advanced(selectors.advanced) if selectors.advanced else _basic(selectors.basic)


def fixed(selectors: Selectors) -> tuple[str, str]:
    """The trail's selectors changed as little as needed to log the calls: (CLI option, JSON)."""
    if selectors.advanced:
        return "--advanced-event-selectors", json.dumps(_fixed_advanced(selectors.advanced), separators=(",", ":"))
    return "--event-selectors", json.dumps(_fixed_basic(selectors.basic), separators=(",", ":"))


def _fixed_basic(selectors: Sequence[BasicSelector]) -> list[dict[str, object]]:
    documents = [dict(selector.raw) for selector in selectors]
    target = next((d for d in documents if d.get("IncludeManagementEvents", True)), None)
    if target is None:
        if not documents:
            return [{"ReadWriteType": "All", "IncludeManagementEvents": True}]
        target = documents[0]
        target["IncludeManagementEvents"] = True
    if target.get("ReadWriteType", "All") == "WriteOnly":
        target["ReadWriteType"] = "All"
    excluded = [source for source in target.get("ExcludeManagementEventSources", []) if source != SOURCE]
    if "ExcludeManagementEventSources" in target:
        target["ExcludeManagementEventSources"] = excluded
    return documents


def _fixed_advanced(selectors: Sequence[AdvancedSelector]) -> list[dict[str, object]]:
    """The first management selector without what drops the calls (or a new one): the values of negative
    operators that match them, else the whole condition."""
    documents: list[dict[str, object]] = []
    repaired = False
    for selector in selectors:
        fields = list(selector.fields)
        if not repaired and _holds(_field(selector, "eventCategory"), "Management") is True:
            fields = [c for c in map(_without_exclusions, fields) if _always(c)]
            repaired = True
        documents.append(_document(AdvancedSelector(selector.name, tuple(fields))))
    if not repaired:
        new = AdvancedSelector(
            "Read management events (supportwatch)",
            (FieldSelector("eventCategory", equals=("Management",)), FieldSelector("readOnly", equals=("true",))),
        )
        documents.append(_document(new))
    return documents


def _always(condition: FieldSelector) -> bool:
    return all(_holds(condition, _record(name).get(condition.field)) for name in EVENT_NAMES)


def _without_exclusions(condition: FieldSelector) -> FieldSelector:
    """The condition without the negative values that exclude a call."""
    values = [_record(name).get(condition.field) for name in EVENT_NAMES]
    if None in values:
        return condition
    known = [value for value in values if value is not None]
    return replace(
        condition,
        not_equals=tuple(v for v in condition.not_equals if v not in known),
        not_starts_with=tuple(v for v in condition.not_starts_with if not any(k.startswith(v) for k in known)),
        not_ends_with=tuple(v for v in condition.not_ends_with if not any(k.endswith(v) for k in known)),
    )


def _document(selector: AdvancedSelector) -> dict[str, object]:
    """A selector as CloudTrail's API spells it."""
    fields = []
    for condition in selector.fields:
        entry: dict[str, object] = {"Field": condition.field}
        for attribute, title in _OPERATORS:
            if values := getattr(condition, attribute):
                entry[title] = list(values)
        fields.append(entry)
    document: dict[str, object] = {"FieldSelectors": fields}
    if selector.name:
        document = {"Name": selector.name, **document}
    return document
