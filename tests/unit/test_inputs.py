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
    assert [key for _, key in found.files] == [
        "AWSLogs/1/CloudTrail/us-east-1/2023/09/11/a.json.gz",
        "b.json",
        "d.gz",
        "deep/c.jsonl",
    ]
    assert all(path == root / key for path, key in found.files)
    assert sorted(found.ignored) == sorted(ignored)


def test_explicit_file_is_always_read(tmp_path):
    named = touch(tmp_path / "sub" / "export.txt")
    found = discover([named, touch(tmp_path / "x.json")])
    assert found.files == [(named, "export.txt"), (tmp_path / "x.json", "x.json")]
    assert found.ignored == []


def test_missing_path_raises(tmp_path):
    with pytest.raises(InputError, match="no such file or folder"):
        discover([tmp_path / "absent"])
