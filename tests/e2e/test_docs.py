"""The README and docs/ stay true: every relative link and anchor resolves, every shell block runs.

Convention (docs/README.md): a ```sh block is run from the repository root: `supportwatch ...` must exit 0,
`make ...` is dry-run (`make -n`). A block marked ```sh needs-aws is not run; neither are ```text synopses.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest

from supportwatch.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(.*)$")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def blocks(page: Path) -> list[tuple[str, list[str]]]:
    """(info string, lines) of each fenced code block."""
    found: list[tuple[str, list[str]]] = []
    info, lines = None, []
    for line in page.read_text().splitlines():
        match = FENCE.match(line)
        if match and info is None:
            info, lines = match.group(1).strip(), []
        elif match:
            found.append((info, lines))
            info = None
        elif info is not None:
            lines.append(line)
    return found


def prose(page: Path) -> str:
    """The page without its code blocks and inline code (links there are not links)."""
    text = re.sub(r"^```.*?^```", "", page.read_text(), flags=re.M | re.S)
    return re.sub(r"`[^`\n]*`", "", text)


def anchors(page: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"^```.*?^```", "", page.read_text(), flags=re.M | re.S)
    slugs = set()
    for heading in re.findall(r"^#+ (.+)$", text, flags=re.M):
        slugs.add(re.sub(r"[^\w\- ]", "", heading.replace("`", "").lower()).replace(" ", "-"))
    return slugs


def commands(page: Path) -> list[list[str]]:
    """The shell commands of the page's runnable blocks, continuation lines joined, comments dropped."""
    found = []
    for info, lines in blocks(page):
        words = info.split()
        if not words or words[0] not in ("sh", "bash", "shell", "console") or "needs-aws" in words[1:]:
            continue
        for line in "\n".join(lines).replace("\\\n", " ").splitlines():
            argv = shlex.split(line, comments=True)
            if argv:
                found.append(argv)
    return found


def test_every_page_is_checked_and_listed_in_the_table_of_contents():
    contents = (ROOT / "docs" / "README.md").read_text()
    for page in PAGES[2:]:
        assert page.name == "README.md" or f"]({page.name}" in contents, f"{page.name} is not in docs/README.md"


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.relative_to(ROOT).as_posix())
def test_relative_links_and_anchors_resolve(page: Path):
    for target in LINK.findall(prose(page)):
        if re.match(r"[a-z]+:", target):
            continue  # https:, mailto:
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        assert linked.exists(), f"{page.name}: broken link {target}"
        if anchor:
            assert anchor in anchors(linked), f"{page.name}: no heading for #{anchor} in {linked.name}"


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.relative_to(ROOT).as_posix())
def test_no_page_sends_readers_outside_the_repository(page: Path):
    """A clone has only the repository: no page points at ../shared (the contract is docs/contract.md)."""
    assert "../shared" not in page.read_text(), f"{page.name} refers to ../shared, which a clone does not have"


RUNNABLE = [(page, argv) for page in PAGES for argv in commands(page)]


@pytest.mark.parametrize(
    ("page", "argv"), RUNNABLE, ids=[f"{page.name}:{' '.join(argv)[:60]}" for page, argv in RUNNABLE]
)
def test_shell_commands_run(page: Path, argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys):
    monkeypatch.chdir(ROOT)
    program = Path(argv[0]).name
    if program == "supportwatch":
        try:
            status = main(argv[1:])
        except SystemExit as exit_:  # --help
            status = exit_.code
        assert status == 0, f"{page.name}: `{shlex.join(argv)}` exited {status}: {capsys.readouterr().err}"
    elif program == "make":
        done = subprocess.run(["make", "-n", *argv[1:]], cwd=ROOT, capture_output=True, text=True, check=False)
        assert done.returncode == 0, f"{page.name}: `{shlex.join(argv)}`: {done.stderr}"
    else:
        pytest.fail(f"{page.name}: `{shlex.join(argv)}` cannot run offline: mark its block ```sh needs-aws")


def test_the_runnable_commands_include_the_tour():
    assert any(argv[:2] == [".venv/bin/supportwatch", "scan"] for _, argv in RUNNABLE)
