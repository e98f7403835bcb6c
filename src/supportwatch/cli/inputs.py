"""Which files of the paths given on the command line are logs to read."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

LOG_SUFFIXES = (".json.gz", ".json", ".jsonl", ".gz")


class InputError(ValueError):
    """A path on the command line that does not exist."""


@dataclass(slots=True)
class Inputs:
    """Files to read, each with the key it has relative to the folder it was found in."""

    files: list[tuple[Path, str]] = field(default_factory=list)
    ignored: list[Path] = field(default_factory=list)


def discover(paths: list[Path]) -> Inputs:
    """Walk folders recursively for log files; a file named explicitly is always read."""
    found = Inputs()
    for path in paths:
        if path.is_file():
            found.files.append((path, path.name))
        elif path.is_dir():
            for candidate in sorted(path.rglob("*")):
                if not candidate.is_file():
                    continue
                if candidate.name.endswith(LOG_SUFFIXES):
                    found.files.append((candidate, candidate.relative_to(path).as_posix()))
                else:
                    found.ignored.append(candidate)
        else:
            raise InputError(f"{path}: no such file or folder")
    return found
