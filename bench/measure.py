"""One measurement in a fresh process: `python bench/measure.py MODE REPEATS [--services LIST] FILE...` prints JSON.

MODE is `baseline` (the tutorial: gzip.decompress + json.loads + a dict loop), `floor` (python-isal
decompression alone, streamed in 1 MiB pieces), `validated` (the floor plus the fastest validator, every
byte checked and nothing else done), `ours` (supportwatch.decoding.read_events, one process: `--jobs 1`),
`cores` (the same objects decoded by `supportwatch scan`'s pool, one worker per core: the default `--jobs`),
`pseudonymous` (`ours` as a pseudonymous deployment reads: the reveals of sealed identities looked for too) or
`lambda` (the same with the exact decoder's budget of a 512 MB function). `--services` (issue 24): the
services `ours`, `cores` and `pseudonymous` watch (default `support`). An unreadable file counts
as 0 events, 0 entries.
Wall time is the best of REPEATS passes over all FILES (their compressed bytes read beforehand);
peak RSS is this process's VmHWM at the end (not ru_maxrss, which Linux carries over from the
parent across fork and exec).
"""

from __future__ import annotations

import gzip
import io
import json
import re
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

SUPPORT_SOURCE = "supportrecommendations.amazonaws.com"
CAP = 2 << 30


def baseline(data: bytes) -> tuple[int, int]:
    document = json.loads(gzip.decompress(data))
    found = [record for record in document["Records"] if record.get("eventSource") == SUPPORT_SOURCE]
    return len(found), len(document["Records"])


def floor(data: bytes) -> tuple[int, int]:
    from isal import igzip

    size = 0
    with igzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
        while piece := stream.read(1 << 20):
            size += len(piece)
    return 0, size


def validated(data: bytes) -> tuple[int, int]:
    """The floor plus the fastest validator measured here (pysimdjson's parse, faster than msgspec and yyjson)
    on record-aligned pieces of the decoder's own size, cut where it cuts, counting entries and nothing else:
    what any path that checks every byte costs at least. For the generated sets only (compact
    `{"Records":[...]}`)."""
    import simdjson
    from isal import igzip

    from supportwatch.decoding.fastpath import COMPACT_CUT, PIECE

    parser, entries, rest = simdjson.Parser(), 0, b""
    with igzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
        while piece := stream.read(1 << 20):
            text, start = rest + piece if rest else piece.removeprefix(b'{"Records":['), 0
            while (cut := text.rfind(COMPACT_CUT, start, start + PIECE)) > start:
                entries += len(parser.parse(b"".join((b"[", text[start : cut + 1], b"]"))))
                start = cut + 2
            rest = text[start:]
    return 0, entries + len(parser.parse(b"[" + rest.removesuffix(b"]}") + b"]"))


def ours(
    data: bytes, exact_max_bytes: int | None = None, reveals: bool = False, services: tuple[str, ...] = ("support",)
) -> tuple[int, int]:
    from supportwatch.decoding import UnreadableLog, read_events

    try:
        found = read_events(data, CAP, exact_max_bytes, reveals=reveals, services=services)
    except UnreadableLog:
        return 0, 0
    return len(found.events), found.entries


def pseudonymous(data: bytes, services: tuple[str, ...] = ("support",)) -> tuple[int, int]:
    return ours(data, reveals=True, services=services)


def offline(data: bytes) -> tuple[int, int]:
    from supportwatch.config import DEFAULT_EXACT_MAX_BYTES

    return ours(data, DEFAULT_EXACT_MAX_BYTES)


def in_lambda(data: bytes) -> tuple[int, int]:
    from supportwatch.config import exact_budget

    return ours(data, exact_budget({"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512"}))


MODES: dict[str, Callable[[bytes], tuple[int, int]]] = {
    "baseline": baseline,
    "floor": floor,
    "validated": validated,
    "ours": ours,
    "pseudonymous": pseudonymous,
    "offline": offline,
    "lambda": in_lambda,
}


def on_every_core(paths: list[str], services: tuple[str, ...]) -> tuple[float, int, int]:
    """Every file decoded by `--jobs`' pool (default: one worker per core), as `scan` submits them: seconds,
    events, entries. Its workers are started outside the timing, as `ours` has imported its decoder; on
    one file too (where `scan` starts none), so that `run.py`'s set-minus-one-record cancels their start."""
    from supportwatch.cli.jobs import decoder
    from supportwatch.cli.options import default_jobs
    from supportwatch.pipeline import Limits

    limits = Limits(CAP, services=services)
    with decoder(default_jobs()) as decode, ThreadPoolExecutor(2 * default_jobs()) as threads:
        empty = gzip.compress(b'{"Records":[]}')
        list(threads.map(lambda _: decode("warm.json.gz", empty, limits, False), range(default_jobs())))
        contents = [Path(path).read_bytes() for path in paths]
        start = time.perf_counter()
        reads = list(threads.map(lambda data: decode("log.json.gz", data, limits, False), contents))
        seconds = time.perf_counter() - start
    found = [read.extraction for read in reads if read.extraction is not None]
    return seconds, sum(len(one.events) for one in found), sum(one.entries for one in found)


def main(mode: str, repeats: int, paths: list[str], services: tuple[str, ...] = ("support",)) -> dict[str, float | int]:
    if mode == "cores":
        best, events, entries = min(on_every_core(paths, services) for _ in range(repeats))
        return {"seconds": best, "events": events, "entries": entries, "rss": _peak_rss()}
    run = partial(MODES[mode], services=services) if mode in ("ours", "pseudonymous") else MODES[mode]
    run(gzip.compress(b'{"Records":[]}'))  # imports and first-call costs outside the timing
    best = float("inf")
    events = entries = 0
    for _ in range(repeats):
        events = entries = 0
        seconds = 0.0
        for path in paths:
            data = Path(path).read_bytes()
            start = time.perf_counter()
            found, count = run(data)
            seconds += time.perf_counter() - start
            events, entries = events + found, entries + count
            del data
        best = min(best, seconds)
    return {"seconds": best, "events": events, "entries": entries, "rss": _peak_rss()}


def _peak_rss() -> int:
    """This process's high-water mark (for `cores`, the committing process's, not its workers')."""
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status)[1]) * 1024


if __name__ == "__main__":
    arguments = sys.argv[3:]
    watched = ("support",)
    if arguments[:1] == ["--services"]:
        watched, arguments = tuple(arguments[1].split(",")), arguments[2:]
    print(json.dumps(main(sys.argv[1], int(sys.argv[2]), arguments, watched)))
