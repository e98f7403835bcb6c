"""The reveal key's policy as template.yaml declares it (contract section 10): only RevealPrincipals may
decrypt, the function may only encrypt, the account administers it.

moto does not enforce key policies, so the policy document is evaluated here the way KMS documents it:
a request is allowed when an Allow statement names its principal (the account's root principal stands
for every IAM principal of the account, through their IAM policies), matches its action and all of its
conditions hold; nothing allows otherwise (there is no Deny to weigh). Every action of botocore's KMS
model is tried, for every principal, with and without the encryption context of a seal.
"""

from __future__ import annotations

from fnmatch import fnmatchcase

import botocore.session
import pytest

from tests.integration.test_template import as_list, resolve, translate

ACCOUNT_ROOT = "arn:aws:iam::111122223333:root"  # also any role or user of the account, through IAM
FUNCTION = "<ProcessorFunctionRole.Arn>"  # the function's role, as the test template resolver names it
REVEALERS = ["arn:aws:iam::111122223333:role/PrivacyOfficer", "arn:aws:iam::111122223333:user/dpo"]
STRANGERS = ["arn:aws:iam::444455556666:root", "arn:aws:iam::111122223333:role/Admin", "*"]
SEAL = {"supportwatch:pseudonym": "p-aaaaaaaaaaaaaaaaaaaaaaaaaa"}
ACTIONS = sorted(f"kms:{name}" for name in botocore.session.get_session().get_service_model("kms").operation_names)
CONTEXT = "kms:EncryptionContextKeys"


OPERATORS = {  # the condition operators the key policy uses, over the request's encryption context keys
    "ForAllValues:StringEquals": lambda keys, expected: set(keys) <= set(as_list(expected)),
    "Null": lambda keys, expected: (not keys) == (expected == "true"),
}


def holds(conditions: dict, context: dict[str, str]) -> bool:
    for operator, tests in conditions.items():
        assert operator in OPERATORS, f"condition operator {operator}: teach this evaluator what it means"
        for key, expected in tests.items():
            assert key == CONTEXT, f"a condition on {key}: teach this evaluator what it means"
            if not OPERATORS[operator](context, expected):
                return False
    return True


def allowed(policy: dict, principal: str, action: str, context: dict[str, str]) -> bool:
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow" and statement["Resource"] == "*"
        named = as_list(statement["Principal"]["AWS"])
        acts = any(fnmatchcase(action, pattern) for pattern in as_list(statement["Action"]))
        if (principal in named or "*" in named) and acts and holds(statement.get("Condition", {}), context):
            return True
    return False


def key_policy(**parameters: object) -> dict:
    template = translate({"IdentityMode": "pseudonymous"})
    resources = resolve(template, {"IdentityMode": "pseudonymous", **parameters})
    return resources["RevealKey"]["Properties"]["KeyPolicy"]


def grants(policy: dict, principal: str, context: dict[str, str]) -> set[str]:
    return {action for action in ACTIONS if allowed(policy, principal, action, context)}


def test_only_reveal_principals_decrypt_the_function_only_encrypts() -> None:
    policy = key_policy(RevealPrincipals=REVEALERS)
    assert len(ACTIONS) > 40 and "kms:Decrypt" in ACTIONS
    for revealer in REVEALERS:
        assert grants(policy, revealer, SEAL) == {"kms:Decrypt"}
        assert grants(policy, revealer, {}) == set()  # only a seal's context
        assert grants(policy, revealer, {**SEAL, "other": "x"}) == set()
    assert grants(policy, FUNCTION, SEAL) == {"kms:Encrypt"}
    assert grants(policy, FUNCTION, {}) == grants(policy, FUNCTION, {"other": "x"}) == set()
    for stranger in STRANGERS:
        assert grants(policy, stranger, SEAL) == grants(policy, stranger, {}) == set()
    administers = grants(policy, ACCOUNT_ROOT, SEAL)
    assert {"kms:DescribeKey", "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:EnableKeyRotation"} <= administers
    # no use of the key, and no grant that could give one: the account administers, it never reveals
    cryptographic = {
        a for a in ACTIONS if a.startswith(("kms:Decrypt", "kms:Encrypt", "kms:ReEncrypt", "kms:Generate"))
    }
    assert administers.isdisjoint(
        cryptographic | {"kms:CreateGrant", "kms:Sign", "kms:Verify", "kms:DeriveSharedSecret"}
    )
    assert grants(policy, ACCOUNT_ROOT, {}) == administers


def test_without_reveal_principals_no_one_decrypts() -> None:
    policy = key_policy()
    assert not any(
        allowed(policy, who, "kms:Decrypt", SEAL) for who in [*REVEALERS, ACCOUNT_ROOT, FUNCTION, *STRANGERS]
    )
    assert allowed(policy, FUNCTION, "kms:Encrypt", SEAL)


@pytest.mark.parametrize("mode", ["plain", "pseudonymous"])
def test_the_key_and_its_use_exist_in_pseudonymous_mode_only(mode: str) -> None:
    resources = resolve(translate({"IdentityMode": mode}), {"IdentityMode": mode})
    variables = resources["ProcessorFunction"]["Properties"]["Environment"]["Variables"]
    if mode == "plain":
        assert "RevealKey" not in resources and variables["REVEAL_KEY_ID"] == ""
    else:
        key = resources["RevealKey"]
        assert variables["REVEAL_KEY_ID"] == "<RevealKey.Arn>"
        assert key["DeletionPolicy"] == "Retain" and key["Properties"]["EnableKeyRotation"] is True
