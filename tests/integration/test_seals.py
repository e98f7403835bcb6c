"""Sealed identities on moto (contract section 10): each identity sealed once under the stack's KMS key,
revealed with the encryption context naming its pseudonym, and the one-line refusals of `reveal`.

moto enforces the encryption context on Decrypt (a ciphertext presented under another pseudonym is
refused, as KMS refuses it); it does not enforce key policies, so AccessDenied comes from botocore's Stubber.
"""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from supportwatch.alerting import Alerting, CollectingPublisher, MemoryClaims
from supportwatch.aws.seals import Sealer, reveal
from supportwatch.aws.store import SummaryStore
from supportwatch.cli.main import main
from supportwatch.config import AlertSettings
from supportwatch.decoding.records import extract
from supportwatch.models import ObjectRef
from supportwatch.pipeline import Processor
from supportwatch.privacy import Pseudonymizer
from supportwatch.privacy.seals import CONTEXT_KEY, NotSealed, RevealRefused
from tests.helpers import gzip_document, support_record

KEY = b"seal-test-key"
ALICE = "arn:aws:sts::111122223333:assumed-role/Support/alice@example.com"
ROOT = "arn:aws:iam::111122223333:root"
PRIVACY = Pseudonymizer(KEY)
P_ALICE = PRIVACY.of(ALICE)


class Counted:
    """Counts a client's calls by operation (botocore's before-call event)."""

    def __init__(self, client) -> None:
        self.calls: list[str] = []
        client.meta.events.register("before-call.*.*", lambda model, **_: self.calls.append(model.name))


def no_client():
    raise AssertionError("a KMS client was made, with nothing to seal")


def events(*arns: str) -> list:
    records = [support_record(arn=arn, event_id=f"e{number}") for number, arn in enumerate(arns)]
    for record in records:
        if record["userIdentity"]["arn"].endswith(":root"):
            record["userIdentity"]["type"] = "Root"
    return extract(records).events


@pytest.fixture
def store(stack) -> SummaryStore:
    return SummaryStore(boto3.client("dynamodb"), stack.resources.table)


@pytest.fixture
def key_id(stack) -> str:
    return boto3.client("kms").create_key(Description="reveal")["KeyMetadata"]["Arn"]


def seal_items(stack) -> list[dict]:
    return [item for item in stack.items() if item["pk"]["S"].startswith("SEAL#")]


def test_each_new_identity_is_sealed_once_and_revealed_with_its_context(stack, store, key_id) -> None:
    kms = boto3.client("kms")
    sealer = Sealer(lambda: kms, key_id, store, PRIVACY)
    assert sealer.seal(events(ALICE, ROOT, ALICE)) == 1  # root names an account: it stays in clear, unsealed
    (item,) = seal_items(stack)
    assert item["pk"]["S"] == f"SEAL#{P_ALICE}" and b"alice" not in item["sealed"]["B"]

    calls = Counted(kms)
    db_calls = Counted(store._db)
    assert sealer.seal(events(ALICE)) == 0 and db_calls.calls == []  # known sealed: not even a read
    # a new execution environment: one read, and no KMS client is even made
    assert Sealer(no_client, key_id, store, PRIVACY).seal(events(ALICE)) == 0
    assert calls.calls == [] and db_calls.calls == ["BatchGetItem"]  # one read, no KMS call, no write
    assert len(seal_items(stack)) == 1

    assert reveal(kms, store, P_ALICE) == ALICE
    assert calls.calls == ["Decrypt"]


def test_a_seal_is_never_replaced(stack, store) -> None:
    assert store.put_seal(P_ALICE, b"first") is True
    assert store.put_seal(P_ALICE, b"second") is False  # another invocation sealed it meanwhile
    assert store.seal(P_ALICE) == b"first"


def test_a_seal_under_another_pseudonym_is_refused_by_kms(stack, store, key_id) -> None:
    kms = boto3.client("kms")
    Sealer(lambda: kms, key_id, store, PRIVACY).seal(events(ALICE))
    other = PRIVACY.of("arn:aws:iam::111122223333:user/bob")
    store.put_seal(other, store.seal(P_ALICE))  # alice's ciphertext moved under bob's pseudonym
    with pytest.raises(RevealRefused, match=r"^KMS refused the reveal \(InvalidCiphertextException\)$"):
        reveal(kms, store, other)
    # the context is what KMS checks: the same ciphertext under its own pseudonym decrypts
    assert kms.decrypt(CiphertextBlob=store.seal(other), EncryptionContext={CONTEXT_KEY: P_ALICE})["Plaintext"]


def test_access_denied_is_one_line(stack, store) -> None:
    store.put_seal(P_ALICE, b"sealed")
    kms = boto3.client("kms")
    with Stubber(kms) as stub:
        stub.add_client_error("decrypt", "AccessDeniedException", "User is not authorized to perform kms:Decrypt")
        with pytest.raises(RevealRefused, match=r"^KMS refused the reveal \(AccessDeniedException\)$"):
            reveal(kms, store, P_ALICE)


def test_no_seal_is_one_line(stack, store) -> None:
    with pytest.raises(NotSealed, match=f"^{P_ALICE} is not sealed in {stack.resources.table}$"):
        reveal(boto3.client("kms"), store, P_ALICE)


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["reveal", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_reveal_command(stack, store, key_id, capsys) -> None:
    table = stack.resources.table
    Sealer(lambda: boto3.client("kms"), key_id, store, PRIVACY).seal(events(ALICE))
    assert run(capsys, P_ALICE, "--table", table) == (0, ALICE + "\n", "")

    unknown = PRIVACY.of("nobody")
    assert run(capsys, unknown, "--table", table) == (1, "", f"supportwatch: {unknown} is not sealed in {table}\n")

    store.put_seal(unknown, store.seal(P_ALICE))
    code, out, err = run(capsys, unknown, "--table", table)
    assert (code, out, err) == (2, "", "supportwatch: KMS refused the reveal (InvalidCiphertextException)\n")

    code, out, err = run(capsys, P_ALICE, "--table", "missing")
    assert code == 1 and out == "" and err.startswith("supportwatch: table missing not found") and err.count("\n") == 1


def test_the_pipeline_seals_before_it_counts(stack, store, key_id) -> None:
    """A pseudonym is never stored without its seal: when sealing fails, the object counts nothing and is retried."""
    bob = "arn:aws:iam::111122223333:user/bob"
    objects = {"a.json": gzip_document([support_record(arn=ALICE)]), "b.json": gzip_document([support_record(arn=bob)])}
    kms = boto3.client("kms")

    def processor() -> Processor:
        alerting = Alerting(MemoryClaims(), CollectingPublisher())
        sealer = Sealer(lambda: kms, key_id, store, PRIVACY)
        return Processor(
            lambda ref: objects[ref.key],
            store,
            alerting,
            AlertSettings(rules=frozenset()),
            1 << 20,
            privacy=PRIVACY,
            sealer=sealer,
        )

    assert processor().process(ObjectRef("", "a.json"), "test").counted == 1
    assert reveal(kms, store, P_ALICE) == ALICE
    with Stubber(kms) as stub:
        stub.add_client_error("encrypt", "DisabledException", "the key is disabled")
        with pytest.raises(ClientError, match="DisabledException"):
            processor().process(ObjectRef("", "b.json"), "test")
    assert [summary.identity for summary in store.identities()] == [P_ALICE]  # stored as its pseudonym
