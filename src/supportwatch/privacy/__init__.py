"""Pseudonymous identities (contract section 10): keyed pseudonyms, what they replace, the table's mode."""

from supportwatch.privacy.mode import IdentityMode, ModeConflict, settle
from supportwatch.privacy.pseudonyms import Pseudonymizer, PseudonymKeyError, load_key, pseudonym

__all__ = ["IdentityMode", "ModeConflict", "PseudonymKeyError", "Pseudonymizer", "load_key", "pseudonym", "settle"]
