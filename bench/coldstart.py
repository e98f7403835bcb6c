"""The function's import with and without bytecode: `python bench/coldstart.py [ROUNDS]` prints one table.

The Lambda package is what src/Makefile builds for `sam build`: requirements.txt and supportwatch in one
folder, compiled to hash-based `.pyc` files. Lambda cannot run this machine's arm64 wheels here, so this
builds the same package for this machine's Python (pip needs the package index) and imports the handler
from it in fresh processes, with bytecode writing off as in Lambda's read-only code directory: once as
SAM's own pip workflow would leave it (no `.pyc` anywhere) and once as src/Makefile builds it.
"""

from __future__ import annotations

import compileall
import os
import py_compile
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENVIRONMENT = {
    "PATH": os.environ.get("PATH", ""),
    "PYTHONDONTWRITEBYTECODE": "1",  # Lambda's code directory is read-only: nothing compiled is kept
    "POWERTOOLS_TRACE_DISABLED": "true",
    "AWS_DEFAULT_REGION": "us-east-1",
}
IMPORTS = {"import boto3": "import boto3", "import supportwatch.handler": "import supportwatch.handler"}


def package(folder: Path) -> None:
    """requirements.txt and supportwatch in `folder`, without any bytecode."""
    requirements = str(ROOT / "src" / "requirements.txt")
    pip = [sys.executable, "-m", "pip", "install", "-q", "--no-compile", "--target", str(folder), "-r", requirements]
    subprocess.run(pip, check=True)
    shutil.copytree(
        ROOT / "src" / "supportwatch", folder / "supportwatch", ignore=shutil.ignore_patterns("__pycache__")
    )


def best(folder: Path, code: str, rounds: int) -> float:
    """Best wall seconds of a fresh interpreter (no site-packages) running `code` against `folder`."""
    command = [sys.executable, "-S", "-c", f"import sys; sys.path.insert(0, {str(folder)!r}); {code}"]
    found = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        subprocess.run(command, check=True, env=ENVIRONMENT)
        found = min(found, time.perf_counter() - start)
    return found


def main(rounds: int) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        package(folder)
        rows = {"no bytecode (SAM's pip workflow)": {code: best(folder, code, rounds) for code in IMPORTS.values()}}
        compileall.compile_dir(
            folder, quiet=1, workers=0, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH
        )
        rows["hash-based bytecode (src/Makefile)"] = {code: best(folder, code, rounds) for code in IMPORTS.values()}
    print(f"\n| package (best of {rounds}) | {' | '.join(f'`{name}` ms' for name in IMPORTS)} |")
    print("|---|" + "---|" * len(IMPORTS))
    for label, times in rows.items():
        print(f"| {label} | {' | '.join(f'{seconds * 1000:.0f}' for seconds in times.values())} |")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
