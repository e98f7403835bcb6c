"""`supportwatch scan` on decompression bombs stays within its memory budget (issue 11 item 7): peak RSS
measured in a fresh interpreter, not timed.

The peak is VmHWM (Linux: the high-water mark of the process's own memory since its exec), not
ru_maxrss: Linux carries a parent's peak into ru_maxrss across fork and exec, so under the full
suite's pytest process (500 MiB and more by then) the scan "peaked" at pytest's size."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

from supportwatch.cli.main import main
from tests.helpers import random_support_records

MiB = 1 << 20
MEASURED = (
    "import re, sys\n"
    "from supportwatch.cli.main import main\n"
    "code = main(sys.argv[1:])\n"
    "status = open('/proc/self/status').read()\n"
    "print(code, int(re.search(r'VmHWM:\\s+(\\d+) kB', status)[1]) // 1024)\n"
)


def bomb(path: Path, byte: bytes, gib: int) -> Path:
    """A multi-member gzip of `gib` GiB of `byte`, written in a moment (one 64 MiB member, repeated)."""
    member = gzip.compress(byte * (64 * MiB), compresslevel=9, mtime=0)
    with path.open("wb") as stream:
        for _ in range(gib * 16):
            stream.write(member)
    return path


def scan_peak(*args: str) -> tuple[int, int, str]:
    done = subprocess.run([sys.executable, "-c", MEASURED, "scan", *args], capture_output=True, text=True, check=False)
    code, peak_mib = map(int, done.stdout.split()[-2:])
    return code, peak_mib, done.stderr


def test_the_peak_is_the_scan_s_own_not_its_parent_s(tmp_path):
    path = tmp_path / "one.json.gz"
    path.write_bytes(gzip.compress(json.dumps({"Records": random_support_records(1, seed=8)}).encode()))
    ballast = b"\1" * (400 * MiB)  # written, so resident in this (the parent) process
    code, peak_mib, err = scan_peak(str(path))
    assert code == 0 and len(ballast) == 400 * MiB, err
    assert peak_mib < 200, peak_mib  # ru_maxrss would report the parent's 400 MiB and more


def test_four_gib_of_zeros_is_unreadable_in_under_300_mib(tmp_path):
    path = bomb(tmp_path / "zeros.json.gz", b"\0", 4)
    assert path.stat().st_size < 8 * MiB
    code, peak_mib, err = scan_peak(str(path))
    assert code == 2 and "unreadable: not JSON" in err
    assert peak_mib < 300, peak_mib


def test_a_bomb_only_json_could_read_is_refused_at_the_budget(tmp_path):
    # Spaces may start a JSON document: the exact decoder inflates them up to its budget, no further
    # (the default 256 MiB budget peaks at about 285 MiB: bench/README.md).
    path = bomb(tmp_path / "spaces.json.gz", b" ", 1)
    code, peak_mib, err = scan_peak(str(path), "--exact-max-bytes", str(64 * MiB))
    assert code == 2 and f"larger than the {64 * MiB} bytes the exact decoder may hold" in err
    assert peak_mib < 64 + 100, peak_mib  # the budget plus the interpreter and the CLI's imports


def test_a_large_cloudtrail_file_still_counts_beyond_the_budget(tmp_path, capsys):
    records = random_support_records(3000, seed=8)
    path = tmp_path / "large.json.gz"
    path.write_bytes(gzip.compress(json.dumps({"Records": records}).encode()))
    assert len(json.dumps({"Records": records})) > 2 * MiB
    assert main(["scan", str(path), "--exact-max-bytes", str(MiB), "--format", "json"]) == 0  # streamed
    summaries = json.loads(capsys.readouterr().out)["summaries"]
    assert sum(summary["totalCalls"] for summary in summaries.values()) == 3000
    path.write_text("\n".join(json.dumps(record) for record in records))  # JSON Lines: exact path only
    assert main(["scan", str(path), "--exact-max-bytes", str(MiB)]) == 2
    assert "--exact-max-bytes offline" in capsys.readouterr().err
    assert main(["scan", str(path), "--exact-max-bytes", str(64 * MiB), "--format", "json"]) == 0
