"""The table's identity mode: whether it holds identities in clear or as pseudonyms, and of which key.

A table never mixes the two: a deployment whose configured mode differs from what the table already
holds is refused (`settle`), until `supportwatch migrate --pseudonymize` rewrites the table and its mode.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Mode = Literal["plain", "pseudonymous"]


class ModeConflict(ValueError):
    """The configured identity mode differs from the identities the table holds (one line)."""


@dataclass(frozen=True, slots=True)
class IdentityMode:
    """`plain`, or `pseudonymous` with the fingerprint of its key (never the key)."""

    mode: Mode = "plain"
    fingerprint: str | None = None

    @classmethod
    def of(cls, fingerprint: str | None) -> IdentityMode:
        """The mode of a run: pseudonymous under the key of `fingerprint`, or plain (None)."""
        return cls("pseudonymous", fingerprint) if fingerprint else cls()

    def describe(self) -> str:
        if self.mode == "plain":
            return "identities in clear"
        return f"pseudonymous identities (key fingerprint {self.fingerprint})"


PLAIN = IdentityMode()


def settle(
    stored: IdentityMode | None, holds_identities: bool, configured: IdentityMode, table: str
) -> IdentityMode | None:
    """The mode to record on the table (None: nothing to record), or ModeConflict.

    No record means plain (tables written before the mode existed). A table that holds no identity
    takes the configured mode; one that does keeps its own.
    """
    held = stored or PLAIN
    if held == configured:
        return None
    if not holds_identities:
        return configured
    fix = (
        "run supportwatch migrate --pseudonymize to rewrite it"
        if held == PLAIN
        else "deploy with the mode and key it was written with"
    )
    raise ModeConflict(f"table {table} holds {held.describe()}, not {configured.describe()}: {fix}")
