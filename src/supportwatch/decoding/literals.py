"""Every position of the watched services' names in bytes: the fast path's search for them.

With `support` alone, `bytes.find` of its name (as before more services could be watched). With more,
one pass finds every name at once: an Aho-Corasick automaton of the `ahocorasick-rs` wheel (Rust's
`aho-corasick`). Its SIMD searcher (Teddy) scans CloudTrail text for three names about three times as
fast as `bytes.find` scans it for one (bench/README.md, issue 24), but the crate only picks it for
leftmost matches of names starting with more than three distinct bytes: with fewer (Amazon Q, Bedrock
and support begin with `q`, `b`, `s`) it runs a `memchr` of their first or rarest bytes, which CloudTrail
text is full of, at half its speed. So the automaton also holds DECOYS, two names that begin with other
bytes and cannot occur in JSON (raw control characters), whose matches are dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

Search = Callable[[bytes], list[int]]
DECOYS = (b"\x00\x01\x02", b"\x03\x04\x05")  # JSON never holds these bytes raw, and no name holds them


def find_all(text: bytes, needle: bytes) -> list[int]:
    """Every position of `needle` in `text`, overlapping ones too."""
    found, position = [], text.find(needle)
    while position >= 0:
        found.append(position)
        position = text.find(needle, position + 1)
    return found


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
    """Every position of any of `needles` in a text, in order, overlapping ones too: `find_all` of a single
    needle, else one pass of an automaton (stepping past each match where no two can overlap)."""
    if len(needles) == 1:
        return partial(find_all, needle=needles[0])
    from ahocorasick_rs import BytesAhoCorasick, MatchKind  # only a deployment watching more pays its import

    if may_overlap([*needles, *DECOYS]):  # every match, at the automaton's own pace (no SIMD searcher for these)
        every = BytesAhoCorasick(needles, matchkind=MatchKind.Standard)
        return lambda text: sorted(start for _, start, _ in every.find_matches_as_indexes(text, overlapping=True))
    automaton, names = BytesAhoCorasick([*needles, *DECOYS], matchkind=MatchKind.LeftmostFirst), len(needles)

    def find_any(text: bytes) -> list[int]:
        return [start for name, start, _ in automaton.find_matches_as_indexes(text) if name < names]

    return find_any
