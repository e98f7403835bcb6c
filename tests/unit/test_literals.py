"""The fast path's literal search finds every position bytes.find finds, of one name or several at once (issue 24)."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from supportwatch.decoding.literals import may_overlap, searcher
from supportwatch.services import SERVICES

LETTERS = b"mq.amzonws\\u0bc\x00\x01\x02"  # with the decoys' bytes: their matches are dropped
ALPHABET = st.binary(max_size=200).map(lambda raw: bytes(LETTERS[byte % len(LETTERS)] for byte in raw))
NEEDLE = st.sampled_from(
    [b"q.amazonaws.com", b"mq.amazonaws.com", b"q.a", b"aa", b"z", b"bedrock.amazonaws.com", b"support.amazonaws.com"]
)
NEEDLES = st.lists(NEEDLE, min_size=1, max_size=4, unique=True)


def every_position(text: bytes, needles: list[bytes]) -> list[int]:
    return sorted(at for needle in needles for at in range(len(text)) if text.startswith(needle, at))


@given(text=ALPHABET, needle=NEEDLE, prefix=st.integers(0, 3))
def test_the_search_finds_every_position_overlapping_ones_too(text, needle, prefix):
    text = needle[:prefix] + text + needle  # the needle at its end, maybe overlapping what precedes it
    assert searcher([needle])(text) == every_position(text, [needle])


@given(text=ALPHABET, needles=NEEDLES, prefix=st.integers(0, 3))
def test_several_needles_are_found_in_one_pass_one_inside_another_too(text, needles, prefix):
    text = needles[0][:prefix] + text + b"".join(needles)  # each needle at least once, maybe inside another
    assert searcher(needles)(text) == every_position(text, needles)


def test_nothing_is_found_in_nothing():
    assert searcher([b"q.amazonaws.com", b"bedrock.amazonaws.com"])(b"") == searcher([b"q.a"])(b"") == []


def test_amazon_q_is_found_inside_amazon_mq_and_at_its_own_records():
    text = b'"eventSource":"mq.amazonaws.com"},{"eventSource":"q.amazonaws.com"'
    names = [b"support.amazonaws.com", b"q.amazonaws.com", b"bedrock.amazonaws.com"]
    assert searcher(names)(text) == [text.index(b"q.amazonaws.com"), text.rindex(b'"q.amazonaws.com') + 1]


def test_the_services_names_cannot_overlap_so_one_pass_steps_past_each_match():
    names = [json.dumps(service.source).encode()[1:-1] for service in SERVICES.values()]
    assert len(names) >= 3 and not may_overlap(names)
    assert may_overlap([b"q.amazonaws.com", b"mq.amazonaws.com"]) and may_overlap([b"z", b"aa"])
    assert not may_overlap([b"q.a", b"z"])
