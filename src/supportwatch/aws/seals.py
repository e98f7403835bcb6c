"""The KMS side of sealed identities (contract section 10): the function encrypts each new identity once,
`supportwatch reveal` decrypts one; both under the encryption context naming the pseudonym, so KMS
refuses a seal moved to another pseudonym and CloudTrail names whom every reveal revealed. The table's
side is SummaryStore's (`sealed`, `put_seal`, `seal`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

from botocore.exceptions import ClientError

from supportwatch.aws.clients import error_code
from supportwatch.aws.store import SummaryStore
from supportwatch.models import SupportEvent
from supportwatch.privacy.pseudonyms import CACHED, Pseudonymizer
from supportwatch.privacy.seals import NotSealed, RevealRefused, encryption_context, to_seal


class Sealer:
    """Seals the identities of the events a log brings before their pseudonyms are stored: a Query-free
    check of which are sealed (remembered per execution environment), a KMS Encrypt and a conditional
    put for each that is not."""

    def __init__(self, kms: Callable[[], Any], key_id: str, store: SummaryStore, privacy: Pseudonymizer) -> None:
        self._kms = cache(kms)  # the client, made at the first seal: most cold starts seal nothing
        self._key_id = key_id
        self._store = store
        self._privacy = privacy
        self._known: set[str] = set()  # pseudonyms known to be sealed

    def seal(self, events: Sequence[SupportEvent]) -> int:
        """Seal the identities of `events` not sealed yet; how many this call sealed."""
        due = {
            pseudonym: real
            for pseudonym, real in to_seal(events, self._privacy).items()
            if pseudonym not in self._known
        }
        if not due:
            return 0
        sealed = self._store.sealed(due)
        count = 0
        for pseudonym, real in due.items():
            if pseudonym not in sealed:
                context = encryption_context(pseudonym)
                found = self._kms().encrypt(KeyId=self._key_id, Plaintext=real.encode(), EncryptionContext=context)
                count += self._store.put_seal(pseudonym, found["CiphertextBlob"])
        if len(self._known) > CACHED:
            self._known.clear()
        self._known.update(due)
        return count


def reveal(kms_client: Any, store: SummaryStore, pseudonym: str) -> str:
    """The identity sealed under `pseudonym` (a KMS Decrypt, logged by CloudTrail with its context);
    NotSealed or RevealRefused, each one line."""
    ciphertext = store.seal(pseudonym)
    if ciphertext is None:
        raise NotSealed(f"{pseudonym} is not sealed in {store.table_name}")
    try:
        found = kms_client.decrypt(CiphertextBlob=ciphertext, EncryptionContext=encryption_context(pseudonym))
    except ClientError as error:
        raise RevealRefused(f"KMS refused the reveal ({error_code(error)})") from None
    return bytes(found["Plaintext"]).decode("utf-8")
