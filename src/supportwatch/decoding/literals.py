"""Every position of the watched services' names in bytes: the fast path's search for them.

One pass finds every name at once, with the other literals a piece is searched for (a `\\u00` escape, a
reveal's context key): an Aho-Corasick automaton of the `ahocorasick-rs` wheel (Rust's `aho-corasick`).
Its SIMD searcher (Teddy) scans CloudTrail text for them in about a third of the time `bytes.find` takes
for support's name alone (bench/README.md, issues 24 and 25), but the crate only picks it for leftmost
matches of literals starting with more than three distinct bytes: with fewer (support, Amazon Q, Bedrock
and an escape begin with `s`, `q`, `b`, `\\`) it runs a `memchr` of their first or rarest bytes, which
CloudTrail text is full of, at half its speed. So the automaton also holds DECOYS, three literals that
begin with other bytes and cannot occur in JSON (raw control characters), whose matches are dropped.
"""

from __future__ import annotations

from collections.abc import Callable

Search = Callable[[bytes], list[int]]
DECOYS = (b"\x00\x01\x02", b"\x03\x04\x05", b"\x06\x07\x08")  # JSON never holds these bytes raw, nor does a name


def may_overlap(needles: list[bytes]) -> bool:
    """Whether two occurrences of `needles` (of one or of two) can share a byte: then a search that steps past
    each match would miss the other. The services' names cannot (tests/unit/test_literals.py)."""
    return any(
        first[shift : shift + len(second)] == second[: len(first) - shift]
        for i, first in enumerate(needles)
        for j, second in enumerate(needles)
        for shift in range(1 if i == j else 0, len(first))
    )


def searcher(needles: list[bytes]) -> Search:
    """Every position of any of `needles` in a text, in order, overlapping ones too: one pass of an automaton
    (stepping past each match where no two can overlap). The wheel is imported at the first search built,
    never by importing the handler."""
    from ahocorasick_rs import BytesAhoCorasick, MatchKind

    if may_overlap([*needles, *DECOYS]):  # every match, at the automaton's own pace (no SIMD searcher for these)
        every = BytesAhoCorasick(needles, matchkind=MatchKind.Standard)
        return lambda text: sorted(start for _, start, _ in every.find_matches_as_indexes(text, overlapping=True))
    automaton, names = BytesAhoCorasick([*needles, *DECOYS], matchkind=MatchKind.LeftmostFirst), len(needles)

    def find_any(text: bytes) -> list[int]:
        return [start for name, start, _ in automaton.find_matches_as_indexes(text) if name < names]

    return find_any
