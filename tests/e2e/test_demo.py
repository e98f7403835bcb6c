"""`make demo` as the README runs it: the Makefile's own demo target, really run (not `make -n`), with
this environment's supportwatch standing in for the `.venv` the target would create on a fresh clone."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

from tests.helpers import REPO, run_process

CANARY = "CANARY-SW-7f3a"  # in one demo message: never printed (demo/EXPECTED.md)


def installed_venv(root: Path) -> Path:
    """A venv folder as `make install` leaves it: bin/supportwatch, and `.installed` newer than pyproject.toml."""
    (root / "bin").mkdir(parents=True)
    script = root / "bin" / "supportwatch"
    script.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m supportwatch.cli.main "$@"\n')
    script.chmod(0o755)
    (root / ".installed").touch()
    return root


def test_make_demo_prints_the_expected_summaries_and_alerts_then_what_next(tmp_path):
    venv = installed_venv(tmp_path / "venv")
    done = run_process(["make", "--no-print-directory", "demo", f"VENV={venv}"], timeout=600, COLUMNS="80")
    assert done.returncode == 0, done.stderr
    command, *lines = done.stdout.splitlines()
    assert command == f"{venv}/bin/supportwatch local demo/trails"  # nothing was installed: the demo itself ran
    table, _, rest = "\n".join(lines).partition("\n\n")
    assert all(len(line) <= 80 for line in table.splitlines())
    rows = {row.split()[0]: row.split()[1:3] for row in table.splitlines()[1:]}
    expected = json.loads((REPO / "demo" / "EXPECTED.json").read_text())["summaries"]
    for identity, summary in expected.items():
        tail = identity.rsplit("/", 1)[-1].rsplit(":", 1)[-1]  # the ARN rule keeps the tail
        (shown,) = [row for row in rows if row.endswith(tail)]
        assert rows[shown] == [str(summary["totalCalls"]), str(summary["errorCalls"])], identity
    calls = sum(summary["totalCalls"] for summary in expected.values())
    assert rest.startswith(f"{len(expected)} identities, {calls} calls\n")
    assert "CRITICAL  Root user of 123837392027 used Support Recommendations" in rest
    _, _, what_next = rest.partition("\nWhat next:\n")
    assert what_next, "make demo ends with what next"
    as_made = what_next.replace(str(venv), ".venv")  # the VENV a clean clone has
    assert max(map(len, as_made.splitlines())) <= 80, "what next fits an 80-column terminal"
    assert CANARY not in done.stdout + done.stderr
    assert not any(line.startswith("{") for line in done.stderr.splitlines())  # quiet: no function log lines
    offline = shlex.split(what_next.splitlines()[0], comments=True)
    assert offline == [f"{venv}/bin/supportwatch", "scan", "demo/trails", "--format", "json"]
    scanned = run_process(offline)
    assert json.loads(scanned.stdout)["summaries"] == expected  # the first suggestion works as said
    assert "  docs/README.md " in what_next and (REPO / "docs" / "README.md").is_file()
