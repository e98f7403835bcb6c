"""Which stored identities one erasure request names (contract section 10, `supportwatch forget`).

Pure. A table in clear holds the identity as given; a pseudonymous one holds its pseudonym (or, for
root, services and accounts, the identity itself), which the request may give directly or through
the key: then the key must be the table's, or the request would erase nothing and say so as if done.
"""

from __future__ import annotations

from supportwatch.privacy.migration import is_pseudonym
from supportwatch.privacy.mode import IdentityMode
from supportwatch.privacy.pseudonyms import Pseudonymizer


class ErasureRefused(ValueError):
    """The request cannot name what the table holds (one line)."""


def targets(value: str, mode: IdentityMode, privacy: Pseudonymizer | None, table: str) -> tuple[str, ...]:
    """The identity keys to erase for `value` (an identity key or a pseudonym), as the table writes them."""
    if privacy is None:
        if mode.mode == "pseudonymous" and not is_pseudonym(value):
            raise ErasureRefused(
                f"table {table} holds pseudonyms: give the pseudonym of {value} (supportwatch pseudonym) "
                "or the table's key with --pseudonymize-key"
            )
        return (value,)
    if mode.mode == "pseudonymous" and mode.fingerprint != privacy.fingerprint:
        raise ErasureRefused(f"the key given is not table {table}'s ({mode.describe()})")
    return (value, privacy.of(value))
