"""A table written in clear, rewritten in pseudonymous form (`supportwatch migrate --pseudonymize`).

Pure: contract section 10's replacements applied to what the table holds, where a value that is
already a pseudonym is left as it is, so a migration run again, or after one cut short, rewrites only
what is still in clear (no identity key or address is ever of the form `p-` + 26 base32 characters).
"""

from __future__ import annotations

import re
from typing import Any

from supportwatch.identities.short import written as form_in
from supportwatch.messages import subject_line
from supportwatch.privacy.pseudonyms import LENGTH, PREFIX, Pseudonymizer

PSEUDONYM = re.compile(rf"{PREFIX}[a-z2-7]{{{LENGTH}}}")


def is_pseudonym(value: str) -> bool:
    return PSEUDONYM.fullmatch(value) is not None


def identity_as(privacy: Pseudonymizer, identity: str, identity_type: str) -> str:
    """An identity key as the pseudonymous table writes it."""
    return identity if is_pseudonym(identity) else privacy.identity(identity, identity_type)


def source_ip_as(privacy: Pseudonymizer, value: str) -> str:
    return value if is_pseudonym(value) else privacy.source_ip(value)


def alert_as(privacy: Pseudonymizer, sent: dict[str, Any]) -> dict[str, Any]:
    """A published alert's JSON with the replacements: identity, a principal that is the identity,
    source address, and both in its title and detail (a title that holds a form of the identity it
    cannot find, cut in the middle to fit a Subject, is written anew from its rule)."""
    rewritten = dict(sent)
    identity, address = sent.get("identity"), sent.get("sourceIp")
    if identity:
        written = identity_as(privacy, identity, sent.get("identityType") or "Unknown")
        rewritten["identity"] = written
        if sent.get("principal") == identity:
            rewritten["principal"] = written
        if written != identity:
            rewritten["title"] = _title(sent["title"], identity, written, sent["rule"])
            rewritten["detail"] = str(sent.get("detail") or "").replace(identity, written)
    if address and (written_address := source_ip_as(privacy, address)) != address:
        rewritten["sourceIp"] = written_address
        for field in ("title", "detail"):
            rewritten[field] = str(rewritten.get(field) or "").replace(address, written_address)
    return rewritten


def _title(title: str, identity: str, written: str, rule: str) -> str:
    if form := form_in(title, identity):
        return subject_line(title.replace(form, written), written)
    return subject_line(f"{rule}: {written}")
