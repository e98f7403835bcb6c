"""Whether a trail's event selectors deliver the watched services' calls, and the selectors that would.

Every watched service's calls are management events (contract sections 1 and 12): Support
Recommendations' two calls are Read events of `supportrecommendations.amazonaws.com`; Amazon Q's
`SendMessage` is a Write event (`readOnly` false) beside Read ones, and Bedrock's inference calls are
either, so with `q` or `bedrock` watched a trail must log Read and Write management events. Basic
selectors deliver one kind (Read, Write) of a service's calls when one includes management events with
`ReadWriteType` `All` or that kind and does not list the service's source in
`ExcludeManagementEventSources`. Advanced selectors follow AWS's documented semantics: a trail logs an
event that any selector matches; a selector matches when all its field conditions hold; within a
condition, the values of `Equals`, `StartsWith` and `EndsWith` are alternatives (one must match) while
every value of `NotEquals`, `NotStartsWith` and `NotEndsWith` must not match. A service is missed
(`none`) when every call of one kind is dropped; a condition on a field the calls' records do not fix
(e.g. `userIdentity.arn`, or the name of one of Q's calls) may drop some of them: the verdict is then
`some`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from supportwatch.doctor.models import AdvancedSelector, BasicSelector, FieldSelector, Selectors
from supportwatch.services import BEDROCK, DEFAULT_SERVICES, SERVICES, SUPPORT, Q, extended

SOURCE = SERVICES[SUPPORT].source
EVENT_NAMES = ("StartSupportTroubleshooting", "GetSupportTroubleshootingResponse")
Reach = Literal["all", "some", "none"]
Record = dict[str, str]  # the fields of a call's record that selectors can filter on (absent: not fixed)

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


def _record(source: str, read_only: str, event_name: str = "") -> Record:
    record = {"eventCategory": "Management", "readOnly": read_only, "eventSource": source, "eventType": "AwsApiCall"}
    return record | ({"eventName": event_name} if event_name else {})


@dataclass(frozen=True, slots=True)
class Calls:
    """How one service's calls look to a selector: its source and, per kind that must be logged (`Read`,
    `Write`), the records of its calls."""

    source: str
    kinds: dict[str, tuple[Record, ...]]

    @property
    def records(self) -> tuple[Record, ...]:
        return tuple(record for records in self.kinds.values() for record in records)


_FLAGS = {"Read": "true", "Write": "false"}  # each kind of management event, as readOnly spells it


def _calls(service: str, kinds: dict[str, Sequence[str]]) -> Calls:
    """The calls of `service` named, per kind, as listed ("": the names are not fixed)."""
    source = SERVICES[service].source
    return Calls(
        source, {kind: tuple(_record(source, _FLAGS[kind], name) for name in names) for kind, names in kinds.items()}
    )


_INFERENCE = sorted(SERVICES[BEDROCK].counted_names or ())
CALLS: dict[str, Calls] = {
    SUPPORT: _calls(SUPPORT, {"Read": EVENT_NAMES}),
    # Every name of Q counts: its Read calls have names of their own, which a condition on eventName may drop.
    Q: _calls(Q, {"Read": [""], "Write": ["SendMessage"]}),
    BEDROCK: _calls(BEDROCK, {"Read": _INFERENCE, "Write": _INFERENCE}),  # readOnly varies: each call may be either
}


def _kinds(services: Sequence[str]) -> tuple[str, ...]:
    return tuple(kind for kind in _FLAGS if any(kind in CALLS[service].kinds for service in services))


def logged_kinds(services: Sequence[str] = DEFAULT_SERVICES) -> str:
    """The management events a trail must log for these services: `Read`, or `Read and Write`."""
    return " and ".join(_kinds(services))


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


def _logged(selectors: Sequence[AdvancedSelector], record: Record) -> bool | None:
    found = [_matches(selector, record) for selector in selectors]
    return True if True in found else None if None in found else False


def _reach(outcomes: Sequence[bool | None]) -> Reach:
    if all(outcome is True for outcome in outcomes):
        return "all"
    return "none" if all(outcome is False for outcome in outcomes) else "some"


def _advanced(selectors: Sequence[AdvancedSelector], calls: Calls) -> Verdict:
    reaches = [_reach([_logged(selectors, record) for record in records]) for records in calls.kinds.values()]
    if all(reach == "all" for reach in reaches):
        return Verdict("all", "")
    management = [s for s in selectors if _holds(_field(s, "eventCategory"), "Management") is not False]
    if not management:
        return Verdict("none", "no advanced selector selects management events (eventCategory Equals Management)")
    blocking = [
        f'"{selector.name or "unnamed"}": {_describe(condition)}'
        for selector in management
        for condition in selector.fields
        if not _always(condition, calls.records)
    ]
    reach: Reach = "none" if "none" in reaches else "some"
    verb = "excludes them" if reach == "none" else "may drop some"
    return Verdict(reach, f"advanced selector {'; '.join(blocking[:2])} {verb}")


def _field(selector: AdvancedSelector, name: str) -> FieldSelector:
    """The selector's condition on `name` (no condition: everything holds)."""
    return next((c for c in selector.fields if c.field == name), FieldSelector(name))


def _basic(selectors: Sequence[BasicSelector], calls: Calls) -> Verdict:
    if not selectors:
        return Verdict("none", "the trail has no event selectors")
    management = [s for s in selectors if s.management]
    if not management:
        return Verdict("none", "management events are off (IncludeManagementEvents false)")
    for kind in calls.kinds:
        taking = [s for s in management if s.read_write in ("All", f"{kind}Only")]
        if not taking:
            other = next(other for other in _FLAGS if other != kind)
            return Verdict("none", f"only {other} management events are logged (ReadWriteType {other}Only)")
        if all(calls.source in s.excluded_sources for s in taking):
            return Verdict("none", f"ExcludeManagementEventSources lists {calls.source}")
    return Verdict("all", "")


def _service(selectors: Selectors, calls: Calls) -> Verdict:
    return _advanced(selectors.advanced, calls) if selectors.advanced else _basic(selectors.basic, calls)


def verdict(selectors: Selectors, services: Sequence[str] = DEFAULT_SERVICES) -> Verdict:
    """Whether a trail with these selectors logs all, some or none of the watched services' calls (`none`
    when it misses a service; the reason names the services it misses when more than support is watched)."""
    found = {service: _service(selectors, CALLS[service]) for service in services}
    if not extended(tuple(services)):
        return found[SUPPORT]
    short = {service: result for service, result in found.items() if result.reach != "all"}
    if not short:
        return Verdict("all", "")
    labels: dict[str, list[str]] = {}
    for service, result in short.items():
        labels.setdefault(result.reason, []).append(SERVICES[service].label)
    reach: Reach = "none" if any(result.reach == "none" for result in short.values()) else "some"
    return Verdict(reach, "; ".join(f"{' and '.join(names)}: {reason}" for reason, names in labels.items()))


def fixed(selectors: Selectors, services: Sequence[str] = DEFAULT_SERVICES) -> tuple[str, str]:
    """The trail's selectors changed as little as needed to log the watched services' calls: (CLI option,
    JSON)."""
    calls = [CALLS[service] for service in services]
    if selectors.advanced:
        records = tuple(record for found in calls for record in found.records)
        document = _fixed_advanced(selectors.advanced, records, _kinds(services))
        return "--advanced-event-selectors", json.dumps(document, separators=(",", ":"))
    document = _fixed_basic(selectors.basic, [found.source for found in calls], _kinds(services))
    return "--event-selectors", json.dumps(document, separators=(",", ":"))


def _fixed_basic(
    selectors: Sequence[BasicSelector], sources: Sequence[str], kinds: Sequence[str]
) -> list[dict[str, object]]:
    documents = [dict(selector.raw) for selector in selectors]
    target = next((d for d in documents if d.get("IncludeManagementEvents", True)), None)
    if target is None:
        if not documents:
            return [{"ReadWriteType": "All", "IncludeManagementEvents": True}]
        target = documents[0]
        target["IncludeManagementEvents"] = True
    keeps = ("All", f"{kinds[0]}Only") if len(kinds) == 1 else ("All",)
    if target.get("ReadWriteType", "All") not in keeps:
        target["ReadWriteType"] = "All"
    excluded = [source for source in target.get("ExcludeManagementEventSources", []) if source not in sources]
    if "ExcludeManagementEventSources" in target:
        target["ExcludeManagementEventSources"] = excluded
    return documents


def _fixed_advanced(
    selectors: Sequence[AdvancedSelector], records: Sequence[Record], kinds: Sequence[str]
) -> list[dict[str, object]]:
    """The first management selector without what drops the calls (or a new one): the values of negative
    operators that match them, else the whole condition."""
    documents: list[dict[str, object]] = []
    repaired = False
    for selector in selectors:
        fields = list(selector.fields)
        if not repaired and _holds(_field(selector, "eventCategory"), "Management") is True:
            fields = [c for c in (_without_exclusions(c, records) for c in fields) if _always(c, records)]
            repaired = True
        documents.append(_document(AdvancedSelector(selector.name, tuple(fields))))
    if not repaired:
        management = FieldSelector("eventCategory", equals=("Management",))
        if tuple(kinds) == ("Read",):
            new = AdvancedSelector(
                "Read management events (supportwatch)", (management, FieldSelector("readOnly", equals=("true",)))
            )
        else:
            new = AdvancedSelector("Management events (supportwatch)", (management,))
        documents.append(_document(new))
    return documents


def _always(condition: FieldSelector, records: Sequence[Record]) -> bool:
    return all(_holds(condition, record.get(condition.field)) for record in records)


def _without_exclusions(condition: FieldSelector, records: Sequence[Record]) -> FieldSelector:
    """The condition without the negative values that exclude a call."""
    values = [record.get(condition.field) for record in records]
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
