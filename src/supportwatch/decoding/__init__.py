"""The decoding stage: log object bytes -> the events of the watched services (contract sections 1, 2, 6 and 12),
pure Python.

- `inflate`: gzip in bounded pieces;
- `fastpath`: the streaming reader of the common forms;
- `literals`: where the names of the watched services occur in a piece;
- `reader`: the exact path and `read_events`, which picks the path;
- `records`: entries -> the events of the watched services, with the tally of skipped entries;
- `identity`: the identity key, type and principal of a record.
"""

from supportwatch.decoding.reader import UnreadableLog, decode, read_events, read_events_exactly

__all__ = ["UnreadableLog", "decode", "read_events", "read_events_exactly"]
