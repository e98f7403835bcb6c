"""Which files of the command line's paths are read, and under which key."""

from __future__ import annotations

import pytest

from supportwatch.cli.inputs import InputError, discover


def touch(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"[]")
    return path


def test_folder_is_walked_recursively_with_relative_keys(tmp_path):
    root = tmp_path / "trail"
    for name in ["AWSLogs/1/CloudTrail/us-east-1/2023/09/11/a.json.gz", "b.json", "deep/c.jsonl", "d.gz"]:
        touch(root / name)
    ignored = [touch(root / "README.md"), touch(root / "deep/notes.txt")]
    found = discover([root])
    assert [file.relative for file in found.files] == [
        "AWSLogs/1/CloudTrail/us-east-1/2023/09/11/a.json.gz",
        "b.json",
        "d.gz",
        "deep/c.jsonl",
    ]
    assert all(path == root / key and number == 1 for path, key, number in found.files)
    assert sorted(found.ignored) == sorted(ignored)


def test_explicit_file_is_always_read(tmp_path):
    named = touch(tmp_path / "sub" / "export.txt")
    found = discover([named, touch(tmp_path / "x.json")])
    assert found.files == [(named, "export.txt", 1), (tmp_path / "x.json", "x.json", 2)]
    assert found.ignored == []


def test_missing_path_raises(tmp_path):
    with pytest.raises(InputError, match="no such file or folder"):
        discover([tmp_path / "absent"])


def test_files_sharing_a_path_get_keys_of_their_own(tmp_path):
    """Issue 20 item 2: two trees with the same paths (and a third path giving one of them again) all
    reach the bucket; a key taken by an earlier path goes under `input-N/`, before the notified prefix
    is added, so a CloudTrail key keeps its shape."""
    log = "AWSLogs/1/CloudTrail/us-east-1/2023/09/11/a.json.gz"
    first, second = tmp_path / "a", tmp_path / "b"
    for root in (first, second):
        touch(root / log)
        touch(root / "x.json")
    found = discover([first, second, first / log, first])

    def place(relative):
        return relative if relative.startswith("AWSLogs/") else "AWSLogs/" + relative

    assert found.keyed(place) == [
        (first / log, log),
        (first / "x.json", "AWSLogs/x.json"),
        (second / log, f"AWSLogs/input-2/{log}"),
        (second / "x.json", "AWSLogs/input-2/x.json"),
        (first / log, "AWSLogs/a.json.gz"),
        (first / log, f"AWSLogs/input-4/{log}"),
        (first / "x.json", "AWSLogs/input-4/x.json"),
    ]
