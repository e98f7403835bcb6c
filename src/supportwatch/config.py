"""Function settings from environment variables, validated once."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_MAX_DECOMPRESSED_BYTES = 2 * 1024**3
DEFAULT_MARKER_TTL_DAYS = 400


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


@dataclass(frozen=True, slots=True)
class Settings:
    table_name: str
    marker_ttl_days: int = DEFAULT_MARKER_TTL_DAYS
    max_decompressed_bytes: int = DEFAULT_MAX_DECOMPRESSED_BYTES

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Settings:
        table_name = env.get("TABLE_NAME", "").strip()
        if not table_name:
            raise ConfigError("TABLE_NAME is not set: the summaries table is required")
        return cls(
            table_name=table_name,
            marker_ttl_days=_positive_int(env, "MARKER_TTL_DAYS", DEFAULT_MARKER_TTL_DAYS),
            max_decompressed_bytes=_positive_int(env, "MAX_DECOMPRESSED_BYTES", DEFAULT_MAX_DECOMPRESSED_BYTES),
        )
