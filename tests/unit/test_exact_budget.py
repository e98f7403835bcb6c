"""The exact decoder's memory budget inside Lambda: a bomb the fast path cannot stream stays small."""

from __future__ import annotations

import gzip
import json
import re

import pytest

from supportwatch.config import exact_budget
from supportwatch.decoding import UnreadableLog, read_events, reader
from supportwatch.decoding.inflate import pieces
from tests.helpers import random_support_records

MiB = 1 << 20


def test_budget_is_an_eighth_of_the_functions_memory_and_256_mib_elsewhere():
    assert exact_budget({"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512"}) == 64 * MiB
    assert exact_budget({}) == 256 * MiB


def test_a_bomb_the_fast_path_cannot_stream_is_unreadable_within_the_budget():
    bomb = gzip.compress(b" " * (16 * MiB))  # 16 KiB that inflates to 16 MiB of spaces
    with pytest.raises(UnreadableLog, match="larger than the 1048576 bytes the exact decoder may hold"):
        read_events(bomb, 2 << 30, exact_max_bytes=MiB)
    with pytest.raises(UnreadableLog, match="empty object"):  # within the budget, it is unreadable all the same
        read_events(bomb, 2 << 30, exact_max_bytes=32 * MiB)


def test_a_document_that_cannot_be_json_is_refused_at_its_first_piece(monkeypatch):
    inflated = []
    monkeypatch.setattr(reader, "pieces", lambda *args: (inflated.append(piece) or piece for piece in pieces(*args)))
    zeros = gzip.compress(bytes(16 * MiB))
    with pytest.raises(UnreadableLog, match=re.escape("not JSON: the document begins with '\\x00'")):
        read_events(zeros, 2 << 30, exact_max_bytes=2 << 30)
    assert len(inflated) == 1  # one piece of 1 MiB, not 16
    for opening in (b"\xef\xbb\xbf[]", b"  \n[]", "[]".encode("utf-16"), b"7\n{}"):  # BOM, space, UTF-16, JSON Lines
        read_events(gzip.compress(opening), 1 << 20)


def test_exact_path_forms_are_read_within_the_budget_and_refused_beyond_it():
    records = random_support_records(400, seed=3)
    lines = gzip.compress("\n".join(json.dumps(record) for record in records).encode())  # JSON Lines: exact path
    assert len(read_events(lines, 2 << 30, exact_max_bytes=8 * MiB).events) == 400
    with pytest.raises(UnreadableLog, match="exact decoder"):
        read_events(lines, 2 << 30, exact_max_bytes=64 * 1024)


def test_the_fast_path_is_not_bound_by_the_exact_budget():
    document = gzip.compress(json.dumps({"Records": random_support_records(400, seed=4)}).encode())
    assert len(read_events(document, 2 << 30, exact_max_bytes=64 * 1024).events) == 400
