"""Pseudonyms (contract section 10), byte for byte, what they replace, and the table's mode (pure)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from pathlib import Path

import pytest

from supportwatch.messages import subject_line
from supportwatch.models import Summary, SupportEvent
from supportwatch.privacy import IdentityMode, ModeConflict, Pseudonymizer, PseudonymKeyError, load_key, pseudonym
from supportwatch.privacy.erasure import ErasureRefused, targets
from supportwatch.privacy.migration import alert_as
from supportwatch.privacy.mode import PLAIN, settle
from supportwatch.privacy.seals import encryption_context, to_seal

KEY = b"correct horse battery staple"
PERSON = "arn:aws:sts::111122223333:assumed-role/Admin/alice@example.com"
ROLE = "arn:aws:iam::111122223333:role/Admin"
# Computed apart from Python: printf %s VALUE | openssl dgst -sha256 -mac HMAC -macopt key:KEY -binary | base32
VECTORS = {
    PERSON: "p-qka4pxvz3fy3n3wfhuxmjtbhgr",
    "203.0.113.9": "p-vkggdnei3upqjwkcesr3lyeb3r",
    "é☃": "p-qgprsfn7rsucyckzltusavbdex",
}


def independent(key: bytes, value: str) -> str:
    """Section 10's words, spelled out with the standard library."""
    mac = hmac.new(key, value.encode("utf-8"), hashlib.sha256).digest()
    return "p-" + base64.b32encode(mac).decode().rstrip("=").lower()[:26]


@pytest.mark.parametrize("value", [*VECTORS, "", "Unknown:unknown", "x" * 3000])
def test_pseudonym_is_section_10s_function(value: str) -> None:
    assert pseudonym(KEY, value) == independent(KEY, value)
    if value in VECTORS:
        assert pseudonym(KEY, value) == VECTORS[value]
    assert len(pseudonym(KEY, value)) == 28


def test_another_key_gives_other_pseudonyms() -> None:
    assert pseudonym(b"other", PERSON) != pseudonym(KEY, PERSON)


def test_key_file_is_stripped_utf8(tmp_path: Path) -> None:
    path = tmp_path / "key"
    path.write_text("\n  correct horse battery staple \t\n", encoding="utf-8")
    assert load_key(path) == KEY
    path.write_text("clé ", encoding="utf-8")
    assert load_key(path) == "clé".encode()


@pytest.mark.parametrize(
    ("content", "message"), [(b" \n", "is empty"), (b"\xff\xfe", "not UTF-8"), (None, "cannot read")]
)
def test_unusable_key_is_one_line(tmp_path: Path, content: bytes | None, message: str) -> None:
    path = tmp_path / "key"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(PseudonymKeyError, match=message) as raised:
        load_key(path)
    assert "\n" not in str(raised.value)


def event(identity: str, identity_type: str, principal: str, ip: str | None) -> SupportEvent:
    return SupportEvent(
        event_id="e1",
        event_name="StartSupportTroubleshooting",
        event_time="2026-01-02T03:04:05Z",
        instant=1,
        day="2026-01-02",
        identity=identity,
        identity_type=identity_type,
        principal=principal,
        account_id="111122223333",
        source_ip=ip,
        region="us-east-1",
        error_code=None,
    )


def test_a_session_becomes_its_pseudonym_its_role_stays() -> None:
    shown = Pseudonymizer(KEY).event(event(PERSON, "AssumedRole", ROLE, "203.0.113.9"))
    assert (shown.identity, shown.principal, shown.source_ip) == (VECTORS[PERSON], ROLE, VECTORS["203.0.113.9"])
    assert (shown.account_id, shown.region, shown.event_id) == ("111122223333", "us-east-1", "e1")


def test_a_principal_that_is_the_identity_is_written_as_the_identity() -> None:
    user = "arn:aws:iam::111122223333:user/alice"
    shown = Pseudonymizer(KEY).event(event(user, "IAMUser", user, None))
    assert shown.identity == shown.principal == pseudonym(KEY, user)
    assert shown.source_ip is None


@pytest.mark.parametrize(
    ("identity", "identity_type"),
    [
        ("arn:aws:iam::111122223333:root", "Root"),
        ("service:config.amazonaws.com", "AWSService"),
        ("account:111122223333", "AWSAccount"),
    ],
)
def test_accounts_and_services_stay(identity: str, identity_type: str) -> None:
    shown = Pseudonymizer(KEY).event(event(identity, identity_type, identity, "support.amazonaws.com"))
    assert (shown.identity, shown.principal, shown.source_ip) == (identity, identity, "support.amazonaws.com")


def test_only_identities_written_as_pseudonyms_are_sealed() -> None:
    found = [
        event(PERSON, "AssumedRole", ROLE, "203.0.113.9"),
        event("arn:aws:iam::111122223333:root", "Root", "arn:aws:iam::111122223333:root", None),
        event("service:config.amazonaws.com", "AWSService", "service:config.amazonaws.com", None),
    ]
    assert to_seal(found, Pseudonymizer(KEY)) == {VECTORS[PERSON]: PERSON}  # never an address, a role or root
    assert encryption_context(VECTORS[PERSON]) == {"supportwatch:pseudonym": VECTORS[PERSON]}


def test_summary_reads_as_its_events_would() -> None:
    names = Pseudonymizer(KEY)
    summary = Summary(
        PERSON, None, "AssumedRole", ROLE, "t", 1, "e1", "t", 1, source_ips={"203.0.113.9", "s3.amazonaws.com"}
    )
    shown = names.summary(summary)
    assert (shown.identity, shown.principal) == (VECTORS[PERSON], ROLE)
    assert shown.source_ips == {VECTORS["203.0.113.9"], "s3.amazonaws.com"}
    assert summary.identity == PERSON and summary.source_ips == {"203.0.113.9", "s3.amazonaws.com"}


PSEUDO = IdentityMode("pseudonymous", "p-one")


@pytest.mark.parametrize(
    ("stored", "holds", "configured", "recorded"),
    [
        (None, False, PLAIN, None),  # a new table in clear records nothing: no mode means plain
        (None, True, PLAIN, None),  # tables written before the mode existed
        (None, False, PSEUDO, PSEUDO),  # a new table takes the configured mode
        (None, True, PSEUDO, "conflict"),  # clear identities: migrate first
        (PSEUDO, True, PSEUDO, None),
        (PSEUDO, True, PLAIN, "conflict"),
        (PSEUDO, True, IdentityMode("pseudonymous", "p-two"), "conflict"),  # another key: other pseudonyms
        (PSEUDO, False, PLAIN, PLAIN),  # nothing held yet: the configured mode wins
        (PLAIN, True, PSEUDO, "conflict"),
    ],
)
def test_mode_is_never_mixed(
    stored: IdentityMode | None, holds: bool, configured: IdentityMode, recorded: IdentityMode | str | None
) -> None:
    if recorded == "conflict":
        with pytest.raises(ModeConflict) as raised:
            settle(stored, holds, configured, "T")
        assert "\n" not in str(raised.value) and "table T holds" in str(raised.value)
    else:
        assert settle(stored, holds, configured, "T") == recorded


def test_fingerprint_names_the_key_without_holding_it() -> None:
    names = Pseudonymizer(KEY)
    assert names.fingerprint.startswith("p-") and KEY.decode() not in names.fingerprint
    assert names.fingerprint != Pseudonymizer(b"other").fingerprint


def test_an_erasure_names_what_the_table_holds():
    privacy = Pseudonymizer(b"k")
    table, arn = "T", "arn:aws:iam::111122223333:user/Admin"
    pseudonymous = IdentityMode("pseudonymous", privacy.fingerprint)
    assert targets(arn, IdentityMode(), None, table) == (arn,)
    assert targets(arn, pseudonymous, privacy, table) == (arn, privacy.of(arn))
    assert targets(privacy.of(arn), pseudonymous, None, table) == (privacy.of(arn),)
    with pytest.raises(ErasureRefused, match="table T holds pseudonyms"):
        targets(arn, pseudonymous, None, table)
    with pytest.raises(ErasureRefused, match="not table T's"):
        targets(arn, pseudonymous, Pseudonymizer(b"other"), table)


def test_a_migrated_alert_names_pseudonyms_wherever_the_title_shortened_the_identity():
    privacy = Pseudonymizer(b"k")
    arn = "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_AdministratorAccess_0123456789abcdef/" + "b" * 40
    title = subject_line(f"Support Recommendations access denied for {arn}", arn)
    assert arn not in title and "b" * 40 in title  # shortened to fit a Subject, the session kept
    sent = {"rule": "access-denied", "title": title, "detail": f"{arn} from 192.0.2.1", "identity": arn}
    sent |= {"identityType": "AssumedRole", "principal": arn, "sourceIp": "192.0.2.1"}
    written = alert_as(privacy, sent)
    assert written["title"] == f"Support Recommendations access denied for {privacy.of(arn)}"
    assert written["detail"] == f"{privacy.of(arn)} from {privacy.of('192.0.2.1')}"
    assert (written["identity"], written["principal"]) == (privacy.of(arn), privacy.of(arn))
    assert alert_as(privacy, written) == written  # already pseudonymous: left as it is
    cut = {**sent, "title": "x" * 40 + "..." + "y" * 40}  # no form of the identity to find
    assert alert_as(privacy, cut)["title"] == f"access-denied: {privacy.of(arn)}"
