"""Which files of the paths given on the command line are logs to read, and under which keys."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

LOG_SUFFIXES = (".json.gz", ".json", ".jsonl", ".gz")


class InputError(ValueError):
    """A path on the command line that does not exist."""


class InputFile(NamedTuple):
    path: Path
    relative: str  # its key relative to the folder it was found in (a file named explicitly: its name)
    root: int  # the position of that folder or file on the command line, from 1


@dataclass(slots=True)
class Inputs:
    """Files to read and files ignored (not named like a log)."""

    files: list[InputFile] = field(default_factory=list)
    ignored: list[Path] = field(default_factory=list)

    def keyed(self, place: Callable[[str], str]) -> list[tuple[Path, str]]:
        """Each file with a bucket key of its own: `place(relative)`, or when an earlier file already
        took that key (two trees sharing a path), `place("input-N/" + relative)` with N its path's
        position, so every file reaches the function and CloudTrail-shaped keys keep their shape."""
        taken: set[str] = set()
        keyed = []
        for path, relative, root in self.files:
            key = place(relative)
            while key in taken:
                relative = f"input-{root}/{relative}"
                key = place(relative)
            taken.add(key)
            keyed.append((path, key))
        return keyed


def discover(paths: list[Path]) -> Inputs:
    """Walk folders recursively for log files; a file named explicitly is always read."""
    found = Inputs()
    for root, path in enumerate(paths, 1):
        if path.is_file():
            found.files.append(InputFile(path, path.name, root))
        elif path.is_dir():
            for candidate in sorted(path.rglob("*")):
                if not candidate.is_file():
                    continue
                if candidate.name.endswith(LOG_SUFFIXES):
                    found.files.append(InputFile(candidate, candidate.relative_to(path).as_posix(), root))
                else:
                    found.ignored.append(candidate)
        else:
            raise InputError(f"{path}: no such file or folder")
    return found
