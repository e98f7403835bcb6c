"""The one way identities are shortened, for a whole list at once.

An identity key has up to four forms, each shorter than the one before (level 0 to 3):
`arn:aws:sts::111122223333:assumed-role/Oncall/alice`, `111122223333:assumed-role/Oncall/alice`,
`111122223333:Oncall/alice`, `111122223333:…/alice` (`111122223333:user/Admin` stays so: eliding one
short element is not worth its meaning). A list (a table's column, the alerts, a report)
shows every identity at the same level: the lowest at which all of them fit; what does not fit even
at the last level is cut in the middle, a third kept before the cut.
"""

from __future__ import annotations

from collections.abc import Sequence

ELLIPSIS = "…"
LEVELS = 4


def forms(identity: str, ellipsis: str = ELLIPSIS) -> tuple[str, ...]:
    """The identity's form at each level (a level that shortens nothing repeats the one before)."""
    parts = identity.split(":", 5)
    if identity.startswith("arn:") and len(parts) == 6:
        account, resource = parts[4], parts[5]
        lead = f"{account or parts[2]}:"
        path = resource.split("/")
        second = lead + resource
        third = lead + "/".join(path[1:]) if len(path) > 2 else second
        last = lead + ellipsis + "/" + path[-1] if len(path) > 2 else third  # user/Admin: nothing worth eliding
        return identity, second, third, last
    if "/" in identity:  # identitycenter:arn:...:identitystore/d-1234567890/USER
        return (
            identity,
            identity,
            identity,
            identity.split(":", 1)[0] + ":" + ellipsis + "/" + identity.rsplit("/", 1)[1],
        )
    return (identity,) * LEVELS


def cut_middle(text: str, width: int, ellipsis: str = ELLIPSIS) -> str:
    """`text` in `width` characters: a third kept before the cut, the rest after it."""
    if len(text) <= width:
        return text
    head = max((width - len(ellipsis)) // 3, 0)
    return text[:head] + ellipsis + text[len(text) - max(width - len(ellipsis) - head, 0) :]


def written(text: str, identity: str) -> str:
    """The form of `identity` that `text` holds (an alert title may hold a shortened one), or ''."""
    return next((form for form in (identity, *forms(identity), *forms(identity, "...")) if form in text), "")


def shorten_texts(
    texts: Sequence[str], identities: Sequence[str | None], width: int, ellipsis: str = ELLIPSIS
) -> list[str]:
    """Each text in at most `width` characters, the identity it names (`identities[i]`, a form of it
    in the text) written at one level for all: the lowest level at which every text fits."""
    named = [written(text, identity) if identity else "" for text, identity in zip(texts, identities, strict=True)]

    def at(level: int) -> list[str]:
        return [
            text.replace(form, forms(identity or "", ellipsis)[level], 1) if form else text
            for text, identity, form in zip(texts, identities, named, strict=True)
        ]

    for level in range(LEVELS):
        shown = at(level)
        if all(len(text) <= width for text in shown):
            return shown
    return [
        _cut(text, forms(identity or "", ellipsis)[-1] if form else "", width, ellipsis)
        for text, identity, form in zip(shown, identities, named, strict=True)
    ]


def _cut(text: str, form: str, width: int, ellipsis: str) -> str:
    """`text` cut to `width`: in the identity's `form` it holds when that leaves the form 16 characters
    or more, else in the middle of the whole text."""
    room = width - (len(text) - len(form))
    if form and len(text) > width and room >= 16:
        return text.replace(form, cut_middle(form, room, ellipsis), 1)
    return cut_middle(text, width, ellipsis)


def shorten_identities(identities: Sequence[str], width: int, ellipsis: str = ELLIPSIS) -> list[str]:
    """Identities in at most `width` characters each, all at the same level (see the module's docstring)."""
    return shorten_texts(identities, identities, width, ellipsis)


def shorten_identity(identity: str, width: int, ellipsis: str = ELLIPSIS) -> str:
    """One identity in at most `width` characters (a list of one)."""
    return shorten_identities([identity], width, ellipsis)[0]
