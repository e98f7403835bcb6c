"""Contract section 10 restated for the tests, apart from the code: the pseudonym, the real values
that must never be written in pseudonymous mode, and the export a plain one becomes."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

KEY_TEXT = "correct horse battery staple"
KEY = KEY_TEXT.encode()
KEPT = ("Root", "AWSService", "AWSAccount")


def pseudonym(value: str, key: bytes = KEY) -> str:
    mac = hmac.new(key, value.encode("utf-8"), hashlib.sha256).digest()
    return "p-" + base64.b32encode(mac).decode().rstrip("=").lower()[:26]


def _address(value: str) -> str:
    return value if value.endswith(".amazonaws.com") else pseudonym(value)


def real_values(plain: dict[str, Any]) -> set[str]:
    """What names a person in a plain export: identities of person types, their session names, addresses."""
    found: set[str] = set()
    for identity, summary in plain["summaries"].items():
        if summary["identityType"] not in KEPT:
            found.add(identity)
            if ":assumed-role/" in identity:
                found.add(identity.rsplit("/", 1)[1])  # the session name
        found.update(ip for ip in summary["sourceIps"] if not ip.endswith(".amazonaws.com"))
    return found


def as_pseudonymous(plain: dict[str, Any]) -> dict[str, Any]:
    """The summaries of a plain export as section 10 writes them in pseudonymous mode."""
    summaries = {}
    for identity, summary in plain["summaries"].items():
        shown = identity if summary["identityType"] in KEPT else pseudonym(identity)
        principal = shown if summary["principal"] == identity else summary["principal"]
        ips = sorted(_address(ip) for ip in summary["sourceIps"])
        summaries[shown] = {**summary, "principal": principal, "sourceIps": ips}
    return summaries


def leaks(text: str, values: set[str]) -> list[str]:
    return sorted(value for value in values if value in text)
