"""Start-up cost, as a user pays it: fresh processes timed from outside, interleaved, best of N.

Each round runs, one after the other: a bare interpreter, `import boto3`, `import supportwatch.handler`
(tracing off, as the template's default) and `supportwatch scan` on a one-record file. Interleaving
keeps the machine's load alike for all four; the best of N rounds is each one's cost. The import
cost of a module is its process's time minus the bare interpreter's. supportwatch is measured with
its bytecode compiled, as boto3's is: an installed package has it (pip compiles on install), and
without it every start compiles the package's sources (this machine sets PYTHONDONTWRITEBYTECODE).
"""

from __future__ import annotations

import compileall
import gzip
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PYTHON = sys.executable
ENVIRONMENT = {
    **{key: value for key, value in os.environ.items() if key not in ("LAMBDA_TASK_ROOT", "AWS_SAM_LOCAL")},
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_TRACE_DISABLED": "true",
}
RECORD = {
    "eventVersion": "1.09",
    "eventSource": "supportrecommendations.amazonaws.com",
    "eventName": "StartSupportTroubleshooting",
    "eventTime": "2024-05-01T10:00:00Z",
    "eventID": "0b8f1e6e-0000-4000-8000-000000000001",
    "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/alice", "accountId": "111122223333"},
    "awsRegion": "us-east-1",
    "sourceIPAddress": "192.0.2.1",
}


def commands(log: Path) -> dict[str, list[str]]:
    scan = Path(PYTHON).with_name("supportwatch")
    return {
        "python": [PYTHON, "-c", "pass"],
        "import boto3": [PYTHON, "-c", "import boto3"],
        "import supportwatch.handler": [PYTHON, "-c", "import supportwatch.handler"],
        "supportwatch scan (1 file)": [str(scan), "scan", str(log), "--format", "json"],
    }


def compile_package() -> None:
    """Write supportwatch's bytecode beside its sources (`__pycache__`, ignored by git)."""
    (folder,) = importlib.util.find_spec("supportwatch").submodule_search_locations
    compileall.compile_dir(folder, quiet=1)


def measure(rounds: int) -> dict[str, float]:
    """Best wall seconds of each command over `rounds` interleaved rounds."""
    compile_package()
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "one.json.gz"
        log.write_bytes(gzip.compress(json.dumps({"Records": [RECORD]}).encode()))
        best = dict.fromkeys(commands(log), float("inf"))
        for _ in range(rounds):
            for name, command in commands(log).items():
                start = time.perf_counter()
                subprocess.run(command, check=True, env=ENVIRONMENT, stdout=subprocess.DEVNULL)
                best[name] = min(best[name], time.perf_counter() - start)
    return best


def table(rounds: int) -> None:
    best = measure(rounds)
    bare, boto3 = best["python"], best["import boto3"]
    print(f"\n| process (best of {rounds}, interleaved) | wall ms | import ms (minus bare python) | x `import boto3` |")
    print("|---|---|---|---|")
    for name, seconds in best.items():
        imports = (seconds - bare) / (boto3 - bare)
        ratio = "" if name == "python" else f"{imports:.2f} import, {seconds / boto3:.2f} wall"
        print(f"| {name} | {seconds * 1000:.0f} | {(seconds - bare) * 1000:.0f} | {ratio} |")


if __name__ == "__main__":
    table(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
