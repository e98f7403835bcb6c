"""The AI services one ledger can watch (contract section 12 in docs/services.md): pure, no AWS."""

from supportwatch.services.catalog import (
    BEDROCK,
    DEFAULT_SERVICES,
    SERVICES,
    SUPPORT,
    Q,
    Service,
    call_key,
    extended,
    parse_services,
)

__all__ = [
    "BEDROCK",
    "DEFAULT_SERVICES",
    "SERVICES",
    "SUPPORT",
    "Q",
    "Service",
    "call_key",
    "extended",
    "parse_services",
]
