"""Identity key, identity type and principal of a record (contract section 2)."""

from __future__ import annotations

from typing import Any, NamedTuple


class Identity(NamedTuple):
    key: str
    identity_type: str
    principal: str


def nonempty_text(value: Any) -> str | None:
    """A non-empty string, or None."""
    return value if isinstance(value, str) and value else None


def identity_key(user_identity: Any) -> str:
    """The identity key of a `userIdentity` value, rule by rule."""
    if not isinstance(user_identity, dict):
        return "Unknown:unknown"
    if arn := nonempty_text(user_identity.get("arn")):
        return arn
    kind = nonempty_text(user_identity.get("type"))
    invoked_by = nonempty_text(user_identity.get("invokedBy"))
    if kind == "AWSService" or (kind is None and invoked_by is not None):
        return f"service:{invoked_by or 'unknown'}"
    if kind == "IdentityCenterUser":
        on_behalf = user_identity.get("onBehalfOf")
        on_behalf = on_behalf if isinstance(on_behalf, dict) else {}
        store = nonempty_text(on_behalf.get("identityStoreArn")) or "unknown"
        return f"identitycenter:{store}/{nonempty_text(on_behalf.get('userId')) or 'unknown'}"
    account = nonempty_text(user_identity.get("accountId"))
    if kind == "AWSAccount":
        return f"account:{account or 'unknown'}"
    return f"{kind or 'Unknown'}:{nonempty_text(user_identity.get('principalId')) or account or 'unknown'}"


def session_issuer_arn(user_identity: Any) -> str | None:
    """`userIdentity.sessionContext.sessionIssuer.arn`, when present."""
    if not isinstance(user_identity, dict):
        return None
    context = user_identity.get("sessionContext")
    issuer = context.get("sessionIssuer") if isinstance(context, dict) else None
    return nonempty_text(issuer.get("arn")) if isinstance(issuer, dict) else None


def identify(user_identity: Any) -> Identity:
    """Key, type (`Unknown` when absent) and role rollup of a `userIdentity` value."""
    key = identity_key(user_identity)
    kind = nonempty_text(user_identity.get("type")) if isinstance(user_identity, dict) else None
    return Identity(key, kind or "Unknown", session_issuer_arn(user_identity) or key)
