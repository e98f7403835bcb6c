"""The fast path's literal search finds every position bytes.find finds, through libc's memmem too (issue 24)."""

from __future__ import annotations

import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from supportwatch.decoding.literals import find_all, searcher

LETTERS = b"q.amzonws\\u0bc\x00"
ALPHABET = st.binary(max_size=200).map(lambda raw: bytes(LETTERS[byte % len(LETTERS)] for byte in raw))
NEEDLES = st.sampled_from([b"q.amazonaws.com", b"q.a", b"aa", b"z", b"bedrock.amazonaws.com"])


@given(text=ALPHABET, needle=NEEDLES, prefix=st.integers(0, 3))
def test_the_search_finds_every_position_overlapping_ones_too(text, needle, prefix):
    text = needle[:prefix] + text + needle  # the needle at its end, maybe overlapping what precedes it
    expected = [at for at in range(len(text)) if text.startswith(needle, at)]
    assert find_all(text, needle) == expected
    assert searcher()(text, needle) == expected


def test_nothing_is_found_in_nothing():
    assert searcher()(b"", b"q.amazonaws.com") == find_all(b"", b"q.amazonaws.com") == []


@pytest.mark.skipif(sys.platform != "linux", reason="the C library of Linux (glibc, musl) has memmem")
def test_linux_searches_with_the_c_library():
    assert searcher() is not find_all
