"""Which services can be watched, the eventSource of each, and which of their event names count."""

from __future__ import annotations

from dataclasses import dataclass

from supportwatch import SUPPORT_EVENT_SOURCE

SUPPORT, Q, BEDROCK = "support", "q", "bedrock"


@dataclass(frozen=True, slots=True)
class Service:
    """One watchable service: its name in `--services`, the eventSource of its records, how people call it,
    and the event names that count (None: every name)."""

    name: str
    source: str
    label: str
    counted_names: frozenset[str] | None = None

    def counts_name(self, event_name: str) -> bool:
        return self.counted_names is None or event_name in self.counted_names


SERVICES: dict[str, Service] = {  # in the order they are listed everywhere
    SUPPORT: Service(SUPPORT, SUPPORT_EVENT_SOURCE, "AWS Support Recommendations"),
    Q: Service(Q, "q.amazonaws.com", "Amazon Q"),
    BEDROCK: Service(
        BEDROCK,
        "bedrock.amazonaws.com",
        "Amazon Bedrock",
        frozenset({"InvokeModel", "InvokeModelWithResponseStream", "Converse", "ConverseStream"}),
    ),
}
DEFAULT_SERVICES: tuple[str, ...] = (SUPPORT,)


def parse_services(raw: str) -> tuple[str, ...]:
    """The watched services of a comma-separated list (`--services`, `WatchedServices`), in SERVICES' order;
    ValueError naming what is wrong. An empty list is the default."""
    names = {part.strip().lower() for part in raw.split(",") if part.strip()}
    if unknown := sorted(names - SERVICES.keys()):
        raise ValueError(f"unknown service {', '.join(unknown)}; known: {', '.join(SERVICES)}")
    return tuple(name for name in SERVICES if name in names) or DEFAULT_SERVICES


def extended(watched: tuple[str, ...]) -> bool:
    """Whether outputs carry the per-service fields: only when more than `support` is watched (with
    `support` alone every output is as it always was)."""
    return watched != DEFAULT_SERVICES


def call_key(service: str, event_name: str) -> str:
    """The key of an event in a summary's `calls`: the name for `support`, `<service>:<name>` for the others."""
    return event_name if service == SUPPORT else f"{service}:{event_name}"
