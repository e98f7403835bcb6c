"""The benchmark, in one command: `python bench/run.py` (generates bench/data/ on first use).

Measured in this one run, each in its own fresh process: the tutorial baseline, the python-isal
decompression floor, that floor plus the fastest validator (every byte checked, nothing else done) and
supportwatch's `read_events`, on 8 x 20k-record files at 0 %, 1 % and 20 %
support events (per byte: each command's wall time on the set minus its wall time on a one-record
file) and on single files of 1, 30k, 100k and 300k records (peak RSS); then DynamoDB write
requests per file (SummaryStore.commit on moto), read cost against table size (bench/reads.py) and
the start-up of the handler and of `scan`.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402
import startup  # noqa: E402

PYTHON = sys.executable
FORBIDDEN = ("moto", "yaml", "supportwatch.cli", "aws_xray_sdk", "rich", "matplotlib", "pytest", "hypothesis")
IMPORT = f"""
import sys
import supportwatch.handler
bad = [name for name in sys.modules if name.split(".")[0] in {FORBIDDEN!r} or name.startswith({FORBIDDEN!r})]
print(",".join(sorted(bad)))
"""
ENVIRONMENT = {**startup.ENVIRONMENT, "AWS_REGION": "us-east-1", "TABLE_NAME": "t"}


def child(*arguments: str) -> dict:
    done = subprocess.run([PYTHON, *arguments], capture_output=True, text=True, check=True, env=ENVIRONMENT)
    return json.loads(done.stdout)


def measure(mode: str, repeats: int, paths: list[Path], services: str = "support") -> dict:
    return child(str(HERE / "measure.py"), mode, str(repeats), "--services", services, *map(str, paths))


def timed(mode: str, paths: list[Path], services: str = "support") -> tuple[float, dict]:
    """Wall seconds of the whole command (a fresh process: start-up, imports, reading, decoding) and its result."""
    start = time.perf_counter()
    found = measure(mode, 1, paths, services)
    return time.perf_counter() - start, found


# validated: the floor + the fastest validator, nothing else; ours: one process (--jobs 1); cores: every core;
# pseudonymous: ours as a pseudonymous deployment reads (the reveals of sealed identities looked for too)
SPEED_MODES = ("baseline", "floor", "validated", "ours", "cores", "pseudonymous")


def speed_table(repeats: int) -> None:
    """Per byte, re-based (issue 16): wall time of a command on a set minus that of the same command
    on a one-record file, so start-up and imports cancel; best of `repeats` interleaved rounds."""
    (one,) = generate.files("size-1")
    print(
        f"\n| set | JSON MB | mode | per-byte seconds (set - 1 record, best of {repeats}) | MB/s of JSON | x floor "
        "| x validated | x faster than baseline | peak RSS MB | events |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name in generate.SETS:
        paths = generate.files(name)
        best: dict[str, float] = {}
        rows: dict[str, dict] = {}
        for round_ in range(repeats):
            for mode in SPEED_MODES:
                if mode == "baseline" and round_ >= 2:
                    continue  # 2 s a run, and 12x slower: two rounds tell it
                seconds, rows[mode] = timed(mode, paths)
                base, _ = timed(mode, [one])
                best[mode] = min(best.get(mode, float("inf")), seconds - base)
        megabytes = rows["floor"]["entries"] / 1e6  # the floor reports decompressed bytes
        for mode in SPEED_MODES:
            seconds = best[mode]
            events = rows[mode]["events"] if mode in ("baseline", "ours", "cores", "pseudonymous") else "-"
            print(
                f"| {name} | {megabytes:.0f} | {mode} | {seconds:.3f} | {megabytes / seconds:.0f} "
                f"| {seconds / best['floor']:.2f} | {seconds / best['validated']:.2f} "
                f"| {best['baseline'] / seconds:.1f} | {rows[mode]['rss'] / 2**20:.0f} | {events} |"
            )


def cpu_table(repeats: int) -> None:
    """Issue 25, per core: CPU seconds of `validated`, `ours` and `pseudonymous` on each set's files, all in this
    one process, file by file with the modes interleaved, each file's best of `repeats` rounds summed. Start-up
    is not in it, and a burst of the shared machine's load falls on one file of one round, not on a whole row."""
    import measure

    sets = {name: [path.read_bytes() for path in generate.files(name)] for name in generate.SETS}
    modes = {"validated": measure.validated, "ours": measure.ours, "pseudonymous": measure.pseudonymous}
    for run in modes.values():
        run(gzip.compress(b'{"Records":[]}'))  # imports and first-call costs outside the timing
    best: dict[tuple[str, str, int], float] = {}
    for _ in range(repeats):
        for name, contents in sets.items():
            for index, data in enumerate(contents):
                for mode, run in modes.items():
                    start = time.process_time()
                    run(data)
                    key = (name, mode, index)
                    best[key] = min(best.get(key, float("inf")), time.process_time() - start)
    print(f"\n| set | CPU seconds (best of {repeats} a file): validated | ours | pseudonymous | ours / validated |")
    print("|---|---|---|---|---|")
    for name, contents in sets.items():
        validated, ours, pseudonymous = (sum(best[name, mode, i] for i in range(len(contents))) for mode in modes)
        print(f"| {name} | {validated:.3f} | {ours:.3f} | {pseudonymous:.3f} | {ours / validated:.2f} |")


def services_table(repeats: int, services: str) -> None:
    """Issue 24: the decoder watching `services` against watching support alone, per byte (re-based as
    `speed_table`), at 0 % (support-0: no AI call) and 1 % (services-1: a third each of the services)."""
    (one,) = generate.files("size-1")
    runs = [("validated", "support"), ("ours", "support"), ("ours", services)]
    print(
        f"\n| set | JSON MB | mode | services | per-byte seconds (set - 1 record, best of {repeats}) | MB/s of JSON "
        "| x validated | x ours with support alone | events |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name in ("support-0", *generate.SERVICE_SETS):
        paths = generate.files(name)
        best: dict[tuple[str, str], float] = {}
        rows: dict[tuple[str, str], dict] = {}
        for _ in range(repeats):
            for run in runs:
                seconds, rows[run] = timed(run[0], paths, run[1])
                base, _ = timed(run[0], [one], run[1])
                best[run] = min(best.get(run, float("inf")), seconds - base)
        megabytes = timed("floor", paths)[1]["entries"] / 1e6  # the floor reports decompressed bytes
        for run in runs:
            seconds = best[run]
            events = rows[run]["events"] if run[0] == "ours" else "-"
            print(
                f"| {name} | {megabytes:.0f} | {run[0]} | {run[1]} | {seconds:.3f} | {megabytes / seconds:.0f} "
                f"| {seconds / best[runs[0]]:.2f} | {seconds / best[runs[1]]:.2f} | {events} |"
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
    paths = generate.files("support-0")[:1] + generate.files("support-1")[:1]  # moto is slow: a sample
    print("\n| file | when | support events | identity-days | TransactWriteItems | UpdateItem | other | requests |")
    print("|---|---|---|---|---|---|---|---|")
    for row in child(str(HERE / "writes.py"), *map(str, paths)):
        counts = {k: v for k, v in row.items() if k not in ("case", "when", "events", "identity_days")}
        transactions, updates = counts.pop("transact_write_items", 0), counts.pop("update_item", 0)
        other = ", ".join(f"{name} {count}" for name, count in counts.items()) or "0"
        total = transactions + updates + sum(counts.values())
        print(
            f"| {row['case']} | {row['when']} | {row['events']} | {row['identity_days']} | {transactions} "
            f"| {updates} | {other} | {total} |"
        )


def routes_table() -> None:
    """Requests and time the routes of issue 23 add to an invocation raising 25 alerts (bench/routes.py)."""
    found = child(str(HERE / "routes.py"), "25")
    print(
        "\n| routes on | alerts | requests (all) | Security Hub | EventBridge | chat topic "
        "| route requests per alert | route ms on moto per alert |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for row in found["invocations"]:
        requests = row["requests"]
        routed = {
            name: sum(count for call, count in requests.items() if call.startswith(prefix))
            for name, prefix in (("securityhub", "securityhub:"), ("events", "events:"), ("chat", "chat sns:"))
        }
        route_ms = sum(ms for name, ms in row["sending_ms"].items() if name != "topic")
        print(
            f"| {row['routes']} | {row['alerts']} | {sum(requests.values())} | {routed['securityhub']} "
            f"| {routed['events']} | {routed['chat']} | {sum(routed.values()) / row['alerts']:.2f} "
            f"| {route_ms / row['alerts']:.2f} |"
        )
    built = ", ".join(f"{name} {micros:.0f} µs" for name, micros in found["build"].items())
    print(f"pure work per alert (no AWS): {built}")


def reads_table(sizes: list[int]) -> None:
    """Read cost against table size (bench/reads.py): each size in its own process and moto table."""
    print("\n| markers | read | requests | items read | printed | seconds (moto) |")
    print("|---|---|---|---|---|---|")
    for size in sizes:
        for row in child(str(HERE / "reads.py"), str(size)):
            requests = ", ".join(f"{name} {count}" for name, count in row["requests"].items())
            print(
                f"| {row['markers']:,} | {row['read']} | {requests} | {row['itemsRead']} | {row['printed']} "
                f"| {row['seconds']:.2f} |"
            )


def bomb_table() -> None:
    """Decompression bombs the fast path cannot stream: 4 GiB of zeros (cannot be JSON: refused at its
    first piece) and of spaces (could begin JSON: the exact decoder inflates it up to its budget)."""
    print("\n| 4 GiB bomb | gzip MB | seconds | peak RSS MB |")
    print("|---|---|---|---|")
    for name, byte in (("zeros", b"\0"), ("spaces", b" ")):
        path = generate.DATA / f"bomb-4gib-{name}.json.gz"
        if not path.exists():
            from isal import igzip

            with igzip.open(path, "wb", compresslevel=1) as stream:
                for _ in range(256):
                    stream.write(byte * (16 << 20))
        for mode, label in (
            ("floor", "floor (inflates it all)"),
            ("ours", "ours, exact path up to the 2 GiB cap"),
            ("offline", "ours offline (--exact-max-bytes 256 MiB)"),
            ("lambda", "ours in a 512 MB function"),
        ):
            row = measure(mode, 1, [path])
            size = path.stat().st_size / 1e6
            print(f"| {name}: {label} | {size:.1f} | {row['seconds']:.2f} | {row['rss'] / 2**20:.0f} |")


def import_time(repeats: int) -> None:
    startup.table(max(repeats, 5))
    done = subprocess.run([PYTHON, "-c", IMPORT], capture_output=True, text=True, check=True, env=ENVIRONMENT)
    print(
        "\nmodules of moto, yaml, the CLI, the X-Ray SDK, rich or test tooling imported by the handler: "
        f"{done.stdout.strip() or 'none'}"
    )
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
    steps = ["speed", "cpu", "memory", "writes", "reads", "bomb", "import", "routes"]
    parser.add_argument("--only", choices=steps, action="append")
    parser.add_argument(
        "--markers", type=int, nargs="+", default=[1000, 10000, 100000], help="table sizes of the reads bench"
    )
    parser.add_argument(
        "--services",
        default="support",
        help="the speed step measures the decoder watching these services (e.g. support,q,bedrock) against "
        "support alone, at 0 %% and 1 %% (issue 24)",
    )
    chosen = parser.parse_args()
    extended = chosen.services != "support"
    if not chosen.only or set(chosen.only) - {"reads", "routes"}:
        generate.generate(services=extended)
    cpu = platform.processor() or platform.platform()
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, {cpu}, Python {platform.python_version()}")
    print("load average at start: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))
    steps = {
        "speed": lambda: services_table(chosen.repeats, chosen.services) if extended else speed_table(chosen.repeats),
        "cpu": lambda: cpu_table(chosen.repeats),
        "memory": memory_table,
        "writes": writes_table,
        "reads": lambda: reads_table(chosen.markers),
        "bomb": bomb_table,
        "import": lambda: import_time(chosen.repeats),
        "routes": routes_table,
    }
    for name, step in steps.items():
        if not chosen.only or name in chosen.only:
            step()
    print("\nload average at end: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
