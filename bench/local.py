"""`supportwatch local` at an organisation's scale: `python bench/local.py [EVENTS...]` prints one row per size.

Each size is a folder of trail files (bench/data/local-N/, generated on first use, 2,000 records a file,
half of them support events, spread over three days and hundreds of identities); each run is a fresh
process running `supportwatch local FOLDER --format json` whole (embedded AWS, deploy, upload,
every invocation, the table read back): wall time and that process's peak RSS.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402

RECORDS_PER_FILE = 2_000
SUPPORT_FRACTION = 0.5
SIZES = (1_000, 10_000, 30_000)


def folder(events: int) -> Path:
    """About `events` support events in files of 1,000 each, under keys a trail writes."""
    root = generate.DATA / f"local-{events}"
    for number in range(max(1, events // int(RECORDS_PER_FILE * SUPPORT_FRACTION))):
        key = (
            f"AWSLogs/111122223333/CloudTrail/us-east-1/2023/09/11/"
            f"111122223333_CloudTrail_us-east-1_20230911T{number // 60:02d}{number % 60:02d}Z_bench{number:04d}.json.gz"
        )
        generate.write(root / key, RECORDS_PER_FILE, SUPPORT_FRACTION, 50_000 + number)
    return root


def measure(root: Path) -> dict[str, float | int]:
    """In this (fresh) process: the whole command, timed; its output's totals and the peak RSS."""
    from supportwatch.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["local", str(root), "--format", "json"])
    seconds = time.perf_counter() - start
    if code != 0:
        raise SystemExit(f"supportwatch local exited {code}: {err.getvalue()[-2000:]}")
    summaries = json.loads(out.getvalue())["summaries"]
    calls = sum(sum(summary["calls"].values()) for summary in summaries.values())
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"seconds": seconds, "calls": calls, "identities": len(summaries), "rss": rss}


def table(sizes: list[int]) -> None:
    print("| support events | files | identities | seconds | events/s | peak RSS MB |")
    print("|---|---|---|---|---|---|")
    for events in sizes:
        root = folder(events)
        done = subprocess.run([sys.executable, __file__, "--child", str(root)], capture_output=True, text=True)
        if done.returncode:
            raise SystemExit(f"{root}: exit {done.returncode}: {done.stderr[-3000:]}")
        row = json.loads(done.stdout)
        files = len(list(root.rglob("*.json.gz")))
        print(
            f"| {row['calls']} | {files} | {row['identities']} | {row['seconds']:.1f} "
            f"| {row['calls'] / row['seconds']:.0f} | {row['rss'] / 2**20:.0f} |"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=list(SIZES), metavar="EVENTS")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    chosen = parser.parse_args()
    if chosen.child:
        print(json.dumps(measure(chosen.child)))
    else:
        table(chosen.sizes)
