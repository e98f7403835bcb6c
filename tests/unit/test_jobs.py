"""Decoding on every core (`--jobs`): the pool decodes exactly what one process decodes, in the inputs' order."""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections import Counter

import pytest

from supportwatch import SUPPORT_EVENT_SOURCE
from supportwatch.cli.jobs import decoder, encoded_read, in_order, read_ahead, read_of
from supportwatch.models import ObjectRef, Reveal, SupportEvent
from supportwatch.pipeline import Limits, decode_log
from tests.helpers import bedrock_record, q_record, reveal_record, support_record

LIMITS = Limits(1 << 20)


def test_in_order_yields_in_the_items_order_whatever_finishes_first() -> None:
    def slow_first(number: int) -> int:
        time.sleep(0.05 if number % 3 == 0 else 0)
        return number * 10

    results = [(item, future.result()) for item, future in in_order(slow_first, range(20), ahead=4)]
    assert results == [(number, number * 10) for number in range(20)]


def test_in_order_keeps_at_most_ahead_results_waiting() -> None:
    started: list[int] = []
    lock = threading.Lock()

    def record(number: int) -> int:
        with lock:
            started.append(number)
        return number

    for taken, (item, future) in enumerate(in_order(record, range(50), ahead=3), start=1):
        future.result()
        assert len(started) <= taken + 3, f"{len(started)} started for {taken} taken (item {item})"


def test_read_ahead_with_one_job_reads_nothing_itself() -> None:
    refs = [ObjectRef("", f"f{number}") for number in range(3)]
    assert list(read_ahead(lambda ref: pytest.fail("read"), refs, 1)) == [(ref, None) for ref in refs]


def test_the_pool_decodes_as_this_process_does() -> None:
    records = [support_record(arn=f"arn:aws:iam::111122223333:user/u{n % 3}", event_id=f"id-{n}") for n in range(30)]
    documents = {
        "good.json.gz": gzip.compress(json.dumps({"Records": records}).encode()),
        "broken.json.gz": b"\x1f\x8b\x08\x00 not really gzip",
        "plain.json": json.dumps({"Records": records[:5]}).encode(),
    }
    with decoder(2) as pooled:
        for key, data in documents.items():
            for hashed in (False, True):
                assert pooled(key, data, LIMITS, hashed) == decode_log(key, data, LIMITS, hashed), key


def test_one_job_is_this_process() -> None:
    with decoder(1) as decode:
        assert decode is decode_log


def test_the_pool_reads_the_services_its_limits_watch() -> None:
    records = [support_record(event_id="s"), q_record(event_id="q"), bedrock_record(event_id="b")]
    data = gzip.compress(json.dumps({"Records": records}).encode())
    watching = Limits(1 << 20, services=("support", "q", "bedrock"))
    with decoder(2) as pooled:
        read = pooled("mixed.json.gz", data, watching, False)
        assert read == decode_log("mixed.json.gz", data, watching, False)
        assert [(event.event_id, event.service) for event in read.extraction.events] == [
            ("s", "support"),
            ("q", "q"),
            ("b", "bedrock"),
        ]
        assert [event.event_id for event in pooled("mixed.json.gz", data, LIMITS, False).extraction.events] == ["s"]


def test_a_read_of_every_kind_comes_back_from_a_worker_as_it_was_decoded() -> None:
    """What a worker sends (`encoded_read`) and this process reads back (`read_of`): events of every service
    with model ids, reveals, skipped entries by reason, the content's hash; an unreadable object."""
    records = [
        support_record(event_id="s", error="AccessDenied", issuer="arn:aws:iam::111122223333:role/Admin"),
        q_record(event_id="q"),
        bedrock_record(event_id="b"),
        bedrock_record(event_id="b-none", model_id=None),
        reveal_record("pseudonym-1", event_id="r"),
        {"eventSource": SUPPORT_EVENT_SOURCE, "eventName": ""},
        {"eventSource": SUPPORT_EVENT_SOURCE, "eventName": "X", "eventTime": "yesterday"},
        [SUPPORT_EVENT_SOURCE],
    ]
    every = Limits(1 << 20, reveals=True, services=("support", "q", "bedrock"))
    objects = [
        ("all.json.gz", gzip.compress(json.dumps({"Records": records}).encode()), every, True),
        ("all.json.gz", gzip.compress(json.dumps({"Records": records}).encode()), LIMITS, False),
        ("broken.json.gz", b"\x1f\x8b\x08\x00 not really gzip", LIMITS, True),
        ("text.json.gz", b"not gzip", every, True),
    ]
    reads = [decode_log(*found) for found in objects]
    found = reads[0].extraction
    assert [(event.service, event.model_id) for event in found.events] == [
        ("support", None),
        ("q", None),
        ("bedrock", "anthropic.claude-3-5-sonnet-20240620-v1:0"),
        ("bedrock", "unknown"),
    ]
    assert [reveal.pseudonym for reveal in found.reveals] == ["pseudonym-1"]
    assert len(found.reasons) == 3 and found.skipped == 3 and found.entries == len(records)
    assert reads[0].sha256 and reads[0].size and not reads[1].sha256
    assert reads[2].unreadable and reads[3].unreadable and reads[2].extraction is None
    for read, found in zip(reads, objects, strict=True):
        back = read_of(encoded_read(*found))
        assert back == read
        if back.extraction is not None:
            assert type(back.extraction.reasons) is Counter
            assert {type(event) for event in back.extraction.events} == {SupportEvent}
            assert {type(reveal) for reveal in back.extraction.reveals} <= {Reveal}
