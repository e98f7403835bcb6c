"""Identities: one shortened form for a whole list, and the identity a shortened form or an end names."""

from __future__ import annotations

from supportwatch.identities.match import match_identity, shortest_name
from supportwatch.identities.short import forms, shorten_identities, shorten_texts

SSO = "arn:aws:sts::111111111111:assumed-role/AWSReservedSSO_AdministratorAccess_1b74cd717d47002b/dana@example.com"
SAM = "arn:aws:sts::111111111111:assumed-role/AWSReservedSSO_ReadOnly_0123456789abcdef/sam@example.com"
INTERN = "arn:aws:iam::123837392027:user/intern-sandbox"
ROOT = "arn:aws:iam::123837392027:root"
CENTER = "identitycenter:arn:aws:identitystore::111122223333:identitystore/d-1234567890/90677f5e-2034"
KNOWN = [SSO, SAM, INTERN, ROOT, CENTER, "IAMUser:AIDAEXAMPLE"]


def test_forms_get_shorter_and_keep_account_and_tail():
    assert forms(SSO) == (
        SSO,
        "111111111111:assumed-role/AWSReservedSSO_AdministratorAccess_1b74cd717d47002b/dana@example.com",
        "111111111111:AWSReservedSSO_AdministratorAccess_1b74cd717d47002b/dana@example.com",
        "111111111111:…/dana@example.com",
    )
    assert forms(INTERN)[1:] == ("123837392027:user/intern-sandbox",) * 3
    assert forms(ROOT)[1:] == ("123837392027:root",) * 3
    assert forms(CENTER)[-1] == "identitycenter:…/90677f5e-2034"
    assert set(forms("IAMUser:AIDAEXAMPLE")) == {"IAMUser:AIDAEXAMPLE"}


def test_a_list_shows_every_identity_in_the_same_form():
    # the list mixed the whole ARN, account:resource and account:.../tail
    for width in (100, 60, 40, 33):
        shown = shorten_identities([INTERN, SSO, SAM], width)
        assert all(len(value) <= width for value in shown)
        # one level at which every identity is written as shown (a level may repeat the one before)
        assert any(
            all(forms(i)[level] == s for i, s in zip([INTERN, SSO, SAM], shown, strict=True)) for level in range(4)
        ), shown
    assert shorten_identities([INTERN, SSO], 40) == [
        "123837392027:user/intern-sandbox",
        "111111111111:…/dana@example.com",
    ]
    assert shorten_identities([INTERN], 60) == [INTERN]  # alone, it fits whole
    assert [len(value) for value in shorten_identities([INTERN, SSO], 20)] == [20, 20]  # cut in the middle


def test_titles_name_their_identity_in_the_lists_form_even_when_shortened_for_sns():
    titles = ["New Support Recommendations user: 111111111111:.../dana@example.com", f"denied: {INTERN}"]
    shown = shorten_texts(titles, [SSO, INTERN], 70)
    assert shown == [
        "New Support Recommendations user: 111111111111:…/dana@example.com",
        "denied: 123837392027:user/intern-sandbox",
    ]
    assert shorten_texts(titles, [SSO, INTERN], 300)[0] == f"New Support Recommendations user: {SSO}"


def test_what_the_tables_print_names_the_identity():
    for text in (
        SSO,
        "111111111111:…/dana@example.com",
        "111111111111:.../dana@example.com",
        "dana@example.com",
        "AWSReservedSSO_AdministratorAccess_1b74cd717d47002b/dana@example.com",
        "111111111111:assumed-role/AWSReservedSSO_AdministratorAccess_1b74cd717d47002b/dana@example.com",
        shorten_identities([SSO], 20)[0],  # cut in the middle
    ):
        assert match_identity(text, KNOWN).identity == SSO, text
    assert match_identity("intern-sandbox", KNOWN).identity == INTERN
    assert match_identity("123837392027:root", KNOWN).identity == ROOT
    assert match_identity("90677f5e-2034", KNOWN).identity == CENTER


def test_ambiguity_lists_the_candidates_and_a_miss_suggests_the_closest():
    twins = [SSO, SSO.replace("111111111111", "222222222222")]
    match = match_identity("dana@example.com", twins)
    assert match.identity is None and match.matches == tuple(sorted(twins))
    assert match_identity("example.com", KNOWN).identity is None  # an end only from a / or a :
    miss = match_identity("dan@example.com", KNOWN)
    assert miss.identity is None and miss.matches == () and miss.suggestions[0] == SSO
    assert match_identity("intern-sandbx", KNOWN).suggestions == (INTERN,)
    assert match_identity("zzzz", KNOWN).suggestions == ()


def test_a_suggestion_is_the_shortest_text_that_names_it_alone():
    assert shortest_name(SSO, KNOWN) == "dana@example.com"
    assert shortest_name(ROOT, KNOWN) == "123837392027:root"
    twins = [SSO, SSO.replace("111111111111", "222222222222")]
    assert shortest_name(SSO, twins) == "111111111111:…/dana@example.com"
    for identity in KNOWN:  # what it suggests names it back
        assert match_identity(shortest_name(identity, KNOWN), KNOWN).identity == identity
