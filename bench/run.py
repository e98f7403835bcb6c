"""The benchmark, in one command: `python bench/run.py` (generates bench/data/ on first use).

Measured in this one run, each in its own fresh process: the tutorial baseline, the python-isal
decompression floor and supportwatch's `read_events`, on 8 x 20k-record files at 0 %, 1 % and 20 %
support events and on single files of 1, 30k, 100k and 300k records (peak RSS); then DynamoDB
write requests per file (SummaryStore.commit on moto) and the cold import of the handler module.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402

PYTHON = sys.executable
FORBIDDEN = ("moto", "yaml", "supportwatch.cli", "pytest", "hypothesis")
IMPORT = f"""
import sys, time
start = time.perf_counter()
import supportwatch.handler
seconds = time.perf_counter() - start
bad = sorted(name for name in sys.modules if name.split(".")[0] in {FORBIDDEN!r} or name.startswith({FORBIDDEN!r}))
print(seconds, ",".join(bad))
"""
ENVIRONMENT = {**os.environ, "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1", "TABLE_NAME": "t"}


def child(*arguments: str) -> dict:
    done = subprocess.run([PYTHON, *arguments], capture_output=True, text=True, check=True, env=ENVIRONMENT)
    return json.loads(done.stdout)


def measure(mode: str, repeats: int, paths: list[Path]) -> dict:
    return child(str(HERE / "measure.py"), mode, str(repeats), *map(str, paths))


def speed_table(repeats: int) -> None:
    print("| set | JSON MB | mode | seconds | MB/s of JSON | x baseline | x floor | peak RSS MB | events |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name in generate.SETS:
        paths = generate.files(name)
        found = {mode: measure(mode, 1 if mode == "baseline" else repeats, paths) for mode in ("baseline", "floor")}
        found["ours"] = measure("ours", repeats, paths)
        megabytes = found["floor"]["entries"] / 1e6  # the floor reports decompressed bytes
        for mode, row in found.items():
            seconds = row["seconds"]
            print(
                f"| {name} | {megabytes:.0f} | {mode} | {seconds:.3f} | {megabytes / seconds:.0f} "
                f"| {found['baseline']['seconds'] / seconds:.1f} | {seconds / found['floor']['seconds']:.2f} "
                f"| {row['rss'] / 2**20:.0f} | {row['events'] if mode != 'floor' else '-'} |"
            )


def memory_table() -> None:
    print("\n| file | records | gzip MB | JSON MB | mode | seconds | peak RSS MB | RSS above 1-record file MB |")
    print("|---|---|---|---|---|---|---|---|")
    rows = {}
    for name, count in generate.SIZES.items():
        (path,) = generate.files(name)
        floor = measure("floor", 1, [path])
        for mode in ("baseline", "floor", "ours"):
            row = floor if mode == "floor" else measure(mode, 1, [path])
            rows[name, mode] = row
            above = (row["rss"] - rows["size-1", mode]["rss"]) / 2**20
            print(
                f"| {name} | {count} | {path.stat().st_size / 1e6:.1f} | {floor['entries'] / 1e6:.1f} | {mode} "
                f"| {row['seconds']:.3f} | {row['rss'] / 2**20:.0f} | {above:.0f} |"
            )


def writes_table() -> None:
    paths = generate.files("support-0")[:1] + generate.files("support-1")[:2]  # moto is slow: a sample
    print("\n| file | support events | DynamoDB write requests |")
    print("|---|---|---|")
    for row in child(str(HERE / "writes.py"), *map(str, paths)):
        print(f"| {row['file']} | {row['events']} | {row['writes']} |")


def bomb_table() -> None:
    """A decompression bomb the fast path cannot stream: 4 GiB of zeros in a few MB of gzip."""
    path = generate.DATA / "bomb-4gib-zeros.json.gz"
    if not path.exists():
        from isal import igzip

        with igzip.open(path, "wb", compresslevel=1) as stream:
            for _ in range(256):
                stream.write(bytes(16 << 20))
    print("\n| 4 GiB-of-zeros bomb | gzip MB | seconds | peak RSS MB |")
    print("|---|---|---|---|")
    for mode, label in (
        ("floor", "floor (inflates it all)"),
        ("ours", "ours offline (2 GiB cap)"),
        ("lambda", "ours in a 512 MB function"),
    ):
        row = measure(mode, 1, [path])
        print(f"| {label} | {path.stat().st_size / 1e6:.1f} | {row['seconds']:.2f} | {row['rss'] / 2**20:.0f} |")


def import_time() -> None:
    runs = []
    for _ in range(3):
        done = subprocess.run([PYTHON, "-c", IMPORT], capture_output=True, text=True, check=True, env=ENVIRONMENT)
        seconds, _, bad = done.stdout.strip().partition(" ")
        runs.append(float(seconds))
    print(f"\nhandler cold import: {min(runs) * 1000:.0f} ms (best of 3 fresh processes; {max(runs) * 1000:.0f} worst)")
    print(f"moto/yaml/cli/test modules imported: {bad or 'none'}")
    done = subprocess.run(
        [PYTHON, "-X", "importtime", "-c", "import supportwatch.handler"],
        capture_output=True,
        text=True,
        env=ENVIRONMENT,
    )
    rows = [line.split("|") for line in done.stderr.splitlines()[1:] if line.startswith("import time:")]
    shallow = [(int(row[1]), row[2].strip()) for row in rows if len(row[2]) - len(row[2].lstrip()) <= 3]
    top = sorted(shallow, reverse=True)[:8]
    print("largest imports, cumulative ms:", "; ".join(f"{name} {micros / 1000:.0f}" for micros, name in top))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="passes per measurement, the best counts")
    parser.add_argument("--only", choices=["speed", "memory", "writes", "bomb", "import"], action="append")
    chosen = parser.parse_args()
    generate.generate()
    cpu = platform.processor() or platform.platform()
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, {cpu}, Python {platform.python_version()}")
    steps = {
        "speed": lambda: speed_table(chosen.repeats),
        "memory": memory_table,
        "writes": writes_table,
        "bomb": bomb_table,
        "import": import_time,
    }
    for name, step in steps.items():
        if not chosen.only or name in chosen.only:
            step()


if __name__ == "__main__":
    main()
