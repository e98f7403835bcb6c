"""Every position of a literal in bytes: the fast path's search for the names of the watched services.

`bytes.find` (CPython's two-way search) steps by a table lookup on the byte it has just read, so each
step waits for that load. glibc's `memmem` skips by pairs of bytes on a stride that does not wait, and
finds Amazon Q's and Bedrock's names in CloudTrail text in about half the time (bench/README.md, issue
24). The fast path keeps `bytes.find` with `support` alone (as before) and asks `searcher()` when more
is watched: `memmem` through ctypes where the C library has it, `bytes.find` elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

Search = Callable[[bytes, bytes], list[int]]


def find_all(text: bytes, needle: bytes) -> list[int]:
    """Every position of `needle` in `text`, overlapping ones too."""
    found, position = [], text.find(needle)
    while position >= 0:
        found.append(position)
        position = text.find(needle, position + 1)
    return found


@cache
def searcher() -> Search:
    """`find_all` by libc's memmem where the C library has one (the same positions), else `find_all` itself."""
    import ctypes  # here: only a deployment that watches more than support pays for its import

    try:
        library = ctypes.CDLL(None)
        # two prototypes of it: from a bytes object's start (its own buffer, not a copy), and from an address in it
        first, then = library["memmem"], library["memmem"]
    except (OSError, AttributeError, TypeError):  # no C library to load, or one without memmem
        return find_all
    first.argtypes = (ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t)
    then.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t)
    first.restype = then.restype = ctypes.c_void_p

    def find_all_in_c(text: bytes, needle: bytes) -> list[int]:
        size, length = len(text), len(needle)
        if (at := first(text, size, needle, length)) is None:
            return []  # the common case: no address to work out
        base = ctypes.cast(ctypes.c_char_p(text), ctypes.c_void_p).value or 0
        found = [at - base]
        while (at := then(at + 1, size - found[-1] - 1, needle, length)) is not None:
            found.append(at - base)
        return found

    return find_all_in_c
