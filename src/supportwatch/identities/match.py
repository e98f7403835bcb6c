"""Which identity a person means: the key itself, a shortened form a table printed, or its end.

`query --identity` takes what the tables show (`111122223333:…/dana@example.com`, `dana@example.com`,
`Oncall/alice`): the one identity it names is used; several are listed; none gets the closest
identities as suggestions (difflib).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

from supportwatch.identities.short import ELLIPSIS, forms

ELLIPSES = (ELLIPSIS, "...")
SEPARATORS = ("/", ":")
SUGGESTIONS = 3


@dataclass(frozen=True, slots=True)
class Match:
    """The identity meant (None unless exactly one matches), every one that matched, the closest ones."""

    identity: str | None
    matches: tuple[str, ...] = ()
    suggestions: tuple[str, ...] = ()


def _written(identity: str) -> set[str]:
    """Every way a list may have written the identity."""
    return {identity, *forms(identity), *forms(identity, "...")}


def _cut_matches(text: str, identity: str) -> bool:
    """`text` holds an ellipsis and one of the identity's forms starts with what is before it and ends
    with what is after it (a form cut in the middle)."""
    for ellipsis in ELLIPSES:
        if ellipsis in text:
            head, _, tail = text.partition(ellipsis)
            return any(form.startswith(head) and form.endswith(tail) for form in _written(identity))
    return False


def _ends_with(text: str, identity: str) -> bool:
    """`text` is the end of the identity from a `/` or `:` on (`dana@example.com`, `Oncall/alice`)."""
    if text.startswith(SEPARATORS):
        return identity.endswith(text)
    return any(identity.endswith(separator + text) for separator in SEPARATORS)


def match_identity(text: str, identities: Iterable[str]) -> Match:
    """The identity `text` names among `identities` (see the module's docstring)."""
    known = sorted(set(identities))
    if text in known:
        return Match(text, (text,))
    text = text.strip()
    found = tuple(
        identity
        for identity in known
        if text in _written(identity) or _cut_matches(text, identity) or _ends_with(text, identity)
    )
    if len(found) == 1:
        return Match(found[0], found)
    return Match(None, found, () if found else closest(text, known))


def shortest_name(identity: str, identities: Iterable[str]) -> str:
    """The shortest text that names `identity` alone among `identities` (its end, a shortened form, or
    the key itself): how a message suggests it."""
    known = sorted(set(identities))
    names = sorted({identity.rsplit("/", 1)[-1], *_written(identity)}, key=len)
    return next((name for name in names if match_identity(name, known).identity == identity), identity)


def closest(text: str, identities: Iterable[str]) -> tuple[str, ...]:
    """The identities most like `text` (compared with each form and the last path element, any case)."""
    spellings: dict[str, str] = {}
    for identity in identities:
        for spelling in (*_written(identity), identity.rsplit("/", 1)[-1]):
            spellings.setdefault(spelling.lower(), identity)
    near = difflib.get_close_matches(text.lower(), spellings, n=SUGGESTIONS * 4, cutoff=0.6)
    return tuple(dict.fromkeys(spellings[spelling] for spelling in near))[:SUGGESTIONS]
