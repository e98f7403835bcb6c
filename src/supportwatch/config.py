"""Function settings from environment variables, validated once."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from supportwatch.services import DEFAULT_SERVICES, parse_services

DEFAULT_MAX_DECOMPRESSED_BYTES = 2 * 1024**3
DEFAULT_EXACT_MAX_BYTES = 256 * 1024**2  # outside Lambda: what the exact decoder may inflate
DEFAULT_MARKER_TTL_DAYS = 400
DEFAULT_DIGEST_GRACE_MINUTES = 120


class ConfigError(ValueError):
    """A missing or invalid setting, named."""


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{name} must be positive, got {value}")
    return value


def _days(env: Mapping[str, str], name: str) -> int:
    """A number of days, 0 (the default) meaning none."""
    raw = env.get(name, "").strip() or "0"
    if not raw.isdigit():
        raise ConfigError(f"{name} must be a whole number of days (0: keep forever), got {raw!r}")
    return int(raw)


def _switch(env: Mapping[str, str], name: str, default: str = "true") -> bool:
    raw = env.get(name, default).strip().lower() or default
    if raw not in ("true", "false"):
        raise ConfigError(f"{name} must be true or false, got {raw!r}")
    return raw == "true"


RULES = (
    "new-identity",
    "root-usage",
    "access-denied",
    "volume",
    "not-allowlisted",
    "new-event-name",
    "unreadable-log",
    "tampered-log",
    "missing-log",
    "unlisted-log",
    "digest-invalid",
    "digest-missing",
    "unavailable-log",
    "identity-revealed",  # contract section 10 (pseudonymous mode)
)
SEVERITIES = ("low", "medium", "high", "critical")


def _names(raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.split(",") if part.strip())


@dataclass(frozen=True, slots=True)
class AlertSettings:
    """Which rules are on, their thresholds, and the least severity that is published."""

    rules: frozenset[str] = frozenset(RULES)
    volume_threshold: int = 100
    allowlist: tuple[str, ...] = ()
    min_severity: str = "low"

    def __post_init__(self) -> None:
        if unknown := sorted(self.rules - set(RULES)):
            raise ConfigError(f"unknown alert rules {', '.join(unknown)}; known: {', '.join(RULES)}")
        if self.min_severity not in SEVERITIES:
            raise ConfigError(f"minimum severity must be one of {', '.join(SEVERITIES)}, got {self.min_severity!r}")

    def publishes(self, rule: str, severity: str) -> bool:
        return rule in self.rules and SEVERITIES.index(severity) >= SEVERITIES.index(self.min_severity)

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> AlertSettings:
        rules = _names(env.get("ALERT_RULES", ",".join(RULES)))
        return cls(
            rules=frozenset(RULES if rules == ("all",) else rules),
            volume_threshold=_positive_int(env, "VOLUME_THRESHOLD", 100),
            allowlist=_names(env.get("ALLOWLIST", "")),
            min_severity=env.get("MIN_SEVERITY", "low").strip() or "low",
        )


def _services(env: Mapping[str, str]) -> tuple[str, ...]:
    try:
        return parse_services(env.get("WATCHED_SERVICES", ""))
    except ValueError as error:
        raise ConfigError(f"WATCHED_SERVICES: {error}") from None


def exact_budget(env: Mapping[str, str]) -> int:
    """What the exact decoder may inflate: inside Lambda an eighth of the function's memory (json's
    objects take several times the document's size), elsewhere (`local`) DEFAULT_EXACT_MAX_BYTES."""
    memory_mb = env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "").strip()
    return int(memory_mb) << 17 if memory_mb.isdigit() else DEFAULT_EXACT_MAX_BYTES


@dataclass(frozen=True, slots=True)
class Settings:
    table_name: str
    topic_arn: str
    alerts: AlertSettings = AlertSettings()
    marker_ttl_days: int = DEFAULT_MARKER_TTL_DAYS
    max_decompressed_bytes: int = DEFAULT_MAX_DECOMPRESSED_BYTES
    exact_max_bytes: int = DEFAULT_EXACT_MAX_BYTES
    verify_digests: bool = True
    digest_grace_minutes: int = DEFAULT_DIGEST_GRACE_MINUTES
    digest_public_keys: str = ""  # "": CloudTrail's ListPublicKeys; "none": not verifiable; else a keys file
    stack_name: str = ""  # named in the fixes alerts suggest
    retention_days: int = 0  # days summaries are kept after their day / last seen; 0: forever
    security_hub_product_arn: str = ""  # "": no findings imported (contract section 11)
    eventbridge_alerts: bool = False
    chat_topic_arn: str = ""  # "": no chat notifications
    pseudonym_key_secret: str = ""  # contract section 10: the secret holding the pseudonym key; "": plain
    reveal_key_id: str = ""  # pseudonymous mode: the KMS key each identity is sealed under (the function's)
    watched_services: tuple[str, ...] = DEFAULT_SERVICES  # contract section 12

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Settings:
        table_name = env.get("TABLE_NAME", "").strip()
        if not table_name:
            raise ConfigError("TABLE_NAME is not set: the summaries table is required")
        topic_arn = env.get("TOPIC_ARN", "").strip()
        if not topic_arn:
            raise ConfigError("TOPIC_ARN is not set: the alert topic is required")
        return cls(
            table_name=table_name,
            topic_arn=topic_arn,
            alerts=AlertSettings.from_env(env),
            marker_ttl_days=_positive_int(env, "MARKER_TTL_DAYS", DEFAULT_MARKER_TTL_DAYS),
            max_decompressed_bytes=_positive_int(env, "MAX_DECOMPRESSED_BYTES", DEFAULT_MAX_DECOMPRESSED_BYTES),
            exact_max_bytes=exact_budget(env),
            verify_digests=_switch(env, "VERIFY_DIGESTS"),
            digest_grace_minutes=_positive_int(env, "DIGEST_GRACE_MINUTES", DEFAULT_DIGEST_GRACE_MINUTES),
            digest_public_keys=env.get("DIGEST_PUBLIC_KEYS", "").strip(),
            stack_name=env.get("STACK_NAME", "").strip(),
            retention_days=_days(env, "RETENTION_DAYS"),
            security_hub_product_arn=env.get("SECURITY_HUB_PRODUCT_ARN", "").strip(),
            eventbridge_alerts=_switch(env, "EVENTBRIDGE_ALERTS", "false"),
            chat_topic_arn=env.get("CHAT_TOPIC_ARN", "").strip(),
            pseudonym_key_secret=env.get("PSEUDONYM_KEY_SECRET", "").strip(),
            reveal_key_id=env.get("REVEAL_KEY_ID", "").strip(),
            watched_services=_services(env),
        )
