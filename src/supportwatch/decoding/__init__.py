"""The decoding stage: log object bytes -> support events (contract sections 1, 2 and 6), pure Python.

- `inflate`: gzip in bounded pieces;
- `fastpath`: the streaming reader of the common forms;
- `reader`: the exact path and `read_events`, which picks the path;
- `records`: entries -> support events, with the tally of skipped entries;
- `identity`: the identity key, type and principal of a record.
"""

from supportwatch.decoding.reader import UnreadableLog, decode, read_events, read_events_exactly

__all__ = ["UnreadableLog", "decode", "read_events", "read_events_exactly"]
