#!/usr/bin/env python3
"""Build the bundled demo trail folder ``demo/trails/`` and its expected summary.

What it does
    1. Reads a few REAL CloudTrail files from a local copy of the public datasets (see demo/NOTICE;
       only permissively licensed sources are used: invictus-ir/aws_dataset (MIT),
       adanalvarez/TrailDiscover (CC BY 4.0) and flosell/trailscraper (Apache-2.0)).
    2. Adds made-up AWS Support Recommendations records (eventSource
       ``supportrecommendations.amazonaws.com``) to some of them, at random positions among the
       real records. Real records are kept byte for byte where the source already is a delivered
       CloudTrail file; the added records are realistic CloudTrail shapes (IAM user, two sessions of
       one role, root, IAM Identity Center ``AWSReservedSSO_...`` sessions, two AccessDenied calls,
       several source IPs and regions, three UTC days, one event delivered twice in two files).
    3. Writes every file as CloudTrail delivers it: a gzip ``{"Records":[...]}`` document at
       ``AWSLogs/<account>/CloudTrail/<region>/<YYYY>/<MM>/<DD>/<account>_CloudTrail_<region>_
       <YYYYMMDDTHHMMZ>_<16 chars>.json.gz``.
    4. Reads the written folder back with nothing but ``gzip`` and ``json`` and writes the expected
       per-identity summary (CONTRACT sections 2 and 3, every eventID counted once) to
       ``demo/EXPECTED.md`` and ``demo/EXPECTED.json``.

Usage (stdlib only, Python >= 3.11; the output is byte-identical on every run)
    python3 demo/make_demo.py                       # sources from /work/shared/real-trails
    python3 demo/make_demo.py --src DIR             # or $SUPPORTWATCH_REAL_TRAILS
    python3 demo/make_demo.py --check               # no sources needed: recompute the expected
                                                    # summary from demo/trails and compare it with
                                                    # EXPECTED.json / EXPECTED.md (exit 1 if stale)

The text typed into Support Recommendations (requestParameters.message) is made up; one message
carries the canary ``CANARY-SW-7f3a do not log me``, which must never appear in any output.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import shutil
import string
import sys
import uuid
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "trails"
SEED = 20230710
SOURCE = "supportrecommendations.amazonaws.com"
START, GET = "StartSupportTroubleshooting", "GetSupportTroubleshootingResponse"
CANARY = "CANARY-SW-7f3a do not log me"

INVICTUS = "invictus-ir-aws_dataset"
TRAILDISCOVER = "traildiscover-logExamples"
TRAILSCRAPER = "trailscraper-fixture"

# Invictus files are raw delivered files named <218007301253>_CloudTrail_us-east-1_<ts>_<rand>.json;
# their records belong to (recipientAccountId) 123837392027.
INV = "218007301253_CloudTrail_us-east-1_20230710T{}.json"
INV_FILES = {
    "inv-1150": INV.format("1150Z_1vnLavRRp0ek1mP4"),
    "inv-1205": INV.format("1205Z_86g9Vok9HiUCgSI7"),
    "inv-1210a": INV.format("1210Z_2ru8PrDKZmsO3yWC"),
    "inv-1210b": INV.format("1210Z_vj0QE0Tf5ZmzMsCo"),
    "inv-1235": INV.format("1235Z_kboLbHJlz2H6cLyo"),
}
TRAILSCRAPER_FILE = "111111111111_CloudTrail_eu-central-1_20171211T1505Z_A6kvhMoVeCsc7v8U.json.gz"
# TrailDiscover keeps one example event per file; the us-east-1 events of account 111111111111 that
# fall into one 5-minute delivery window are regrouped into one delivered file each.
TD_GROUPS = {
    "td-0208a": [
        "ListAgents",
        "ListKnowledgeBases",
        "GetKnowledgeBase",
        "ListCustomModels",
        "ListInferenceProfiles",
        "ListModelInvocationJobs",
        "ListModels",
        "ListEndpoints",
        "ListTrainingJobs",
        "ListCollections",
        "ListAccessPolicies",
    ],
    "td-0208b": ["GetListingView", "AcceptAgreementRequest", "SearchAgreements"],
    "td-0222": [
        "GetServiceQuota",
        "CreateServiceLinkedRole",
        "CreateLaunchTemplate",
        "CreateAutoScalingGroup",
        "CreateFunctionUrlConfig",
    ],
}

UA_CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/114.0.0.0 Safari/537.36"
)
UA_FIREFOX = "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:115.0) Gecko/20100101 Firefox/115.0"
UA_SAFARI = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.2 Safari/605.1.15"
)
UA_EDGE = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/121.0.0.0 Safari/537.36 Edg/121.0.2277.83"
)


class Maker:
    """Deterministic factory for ids and made-up Support Recommendations records."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.role_ids: dict[str, str] = {}

    def uuid4(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def chars(self, n: int, alphabet: str = string.ascii_uppercase + "234567") -> str:
        """IAM unique ids and access key ids use this base-32 alphabet."""
        return "".join(self.rng.choice(alphabet) for _ in range(n))

    def rand16(self) -> str:
        return self.chars(16, string.ascii_letters + string.digits)

    # --- userIdentity shapes -------------------------------------------------------------------
    def console_context(self, created: str, mfa: bool) -> dict:
        return {
            "sessionIssuer": {},
            "webIdFederationData": {},
            "attributes": {"creationDate": created, "mfaAuthenticated": "true" if mfa else "false"},
        }

    def iam_user(self, account: str, name: str, created: str) -> dict:
        return {
            "type": "IAMUser",
            "principalId": "AIDA" + self.chars(17),
            "arn": f"arn:aws:iam::{account}:user/{name}",
            "accountId": account,
            "accessKeyId": "ASIA" + self.chars(16),
            "userName": name,
            "sessionContext": self.console_context(created, mfa=True),
        }

    def root(self, account: str, created: str) -> dict:
        return {
            "type": "Root",
            "principalId": account,
            "arn": f"arn:aws:iam::{account}:root",
            "accountId": account,
            "accessKeyId": "ASIA" + self.chars(16),
            "sessionContext": self.console_context(created, mfa=True),
        }

    def role_session(self, account: str, role_path: str, role: str, session: str, created: str) -> dict:
        role_arn = f"arn:aws:iam::{account}:role/{role_path}{role}"
        role_id = self.role_ids.setdefault(role_arn, "AROA" + self.chars(17))
        return {
            "type": "AssumedRole",
            "principalId": f"{role_id}:{session}",
            "arn": f"arn:aws:sts::{account}:assumed-role/{role}/{session}",
            "accountId": account,
            "accessKeyId": "ASIA" + self.chars(16),
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": role_id,
                    "arn": role_arn,
                    "accountId": account,
                    "userName": role,
                },
                "webIdFederationData": {},
                "attributes": {"creationDate": created, "mfaAuthenticated": "false"},
            },
        }

    # --- records -------------------------------------------------------------------------------
    def event(
        self,
        who: dict,
        name: str,
        when: str,
        region: str,
        ip: str,
        agent: str,
        version: str,
        *,
        message: str | None = None,
        conversation: str | None = None,
        error: str | None = None,
    ) -> dict:
        ui = who["identity"]
        rec: dict = {
            "eventVersion": version,
            "userIdentity": ui,
            "eventTime": when,
            "eventSource": SOURCE,
            "eventName": name,
            "awsRegion": region,
            "sourceIPAddress": ip,
            "userAgent": agent,
        }
        if error:
            rec["errorCode"] = "AccessDeniedException"
            rec["errorMessage"] = (
                f"User: {ui['arn']} is not authorized to perform: supportrecommendations:{name} "
                + error.format(name=name)
            )
        rec["requestParameters"] = {"message": message} if name == START else {"conversationId": conversation}
        rec["responseElements"] = None
        rec["requestID"] = self.uuid4()
        rec["eventID"] = self.uuid4()
        rec["readOnly"] = True
        rec["eventType"] = "AwsApiCall"
        rec["managementEvent"] = True
        rec["recipientAccountId"] = ui["accountId"]
        rec["eventCategory"] = "Management"
        if "sessionContext" in ui:
            rec["sessionCredentialFromConsole"] = "true"
        return rec

    def conversation(
        self,
        who: dict,
        start: str,
        region: str,
        ip: str,
        agent: str,
        version: str,
        message: str,
        polls: list[int],
    ) -> list[dict]:
        """A StartSupportTroubleshooting call followed by GetSupportTroubleshootingResponse polls
        (seconds after the start) on one conversation."""
        conv = self.uuid4()
        out = [self.event(who, START, start, region, ip, agent, version, message=message)]
        t0 = datetime.strptime(start, "%Y-%m-%dT%H:%M:%SZ")
        for s in polls:
            when = (t0 + timedelta(seconds=s)).strftime("%Y-%m-%dT%H:%M:%SZ")
            out.append(self.event(who, GET, when, region, ip, agent, version, conversation=conv))
        return out


def scenario(m: Maker) -> dict[str, list[dict]]:
    """The made-up Support Recommendations activity, keyed by the demo file it is delivered in."""
    a1 = "123837392027"  # the account the invictus records belong to
    a2 = "111111111111"  # TrailDiscover's (anonymised) account
    maria = {"identity": m.iam_user(a1, "maria.lopez", "2023-07-10T11:52:40Z")}
    intern = {"identity": m.iam_user(a1, "intern-sandbox", "2023-07-10T11:58:02Z")}
    oncall1 = {"identity": m.role_session(a1, "", "PlatformOncall", "oncall-laptop-1", "2023-07-10T11:49:13Z")}
    oncall2 = {"identity": m.role_session(a1, "", "PlatformOncall", "oncall-laptop-2", "2023-07-10T12:01:55Z")}
    root = {"identity": m.root(a1, "2023-07-10T12:27:31Z")}
    sso = "aws-reserved/sso.amazonaws.com/us-east-2/"
    dana_role = "AWSReservedSSO_AdministratorAccess_1b74cd717d47002b"
    # one Identity Center user signing in on two days: two sessions with the same session arn
    dana1 = {"identity": m.role_session(a2, sso, dana_role, "dana@example.com", "2026-02-08T16:28:43Z")}
    dana2 = {"identity": m.role_session(a2, sso, dana_role, "dana@example.com", "2026-02-22T16:05:12Z")}
    sam = {
        "identity": m.role_session(
            a2,
            sso,
            "AWSReservedSSO_ReadOnlyAccess_ff7f8c5c5851db50",
            "sam@example.com",
            "2026-02-08T17:01:09Z",
        )
    }
    no_policy = "because no identity-based policy allows the supportrecommendations:{name} action"
    scp_deny = "with an explicit deny in a service control policy"

    files: dict[str, list[dict]] = {}
    v8, v9 = "1.08", "1.09"
    maria_c1 = m.conversation(
        maria,
        "2023-07-10T12:01:05Z",
        "us-east-1",
        "198.51.100.23",
        UA_CHROME,
        v8,
        "My EC2 instance i-0a1b2c3d4e5f6a7b8 fails its status checks after I resized it. Why?",
        [4, 9, 57],
    )
    files["inv-1205"] = [
        *maria_c1[:3],
        m.event(
            intern,
            START,
            "2023-07-10T12:02:40Z",
            "us-east-1",
            "203.0.113.200",
            UA_FIREFOX,
            v8,
            message="how do I get more Lambda concurrency for the load test tomorrow?",
            error=no_policy,
        ),
    ]
    duplicate = maria_c1[3]  # 12:02:02, delivered twice (in both 1210Z files)
    oncall1_c = m.conversation(
        oncall1,
        "2023-07-10T12:05:31Z",
        "us-east-1",
        "203.0.113.45",
        UA_SAFARI,
        v8,
        "RDS instance prod-orders-db went to storage-full overnight, what can I do right now?",
        [5],
    )
    files["inv-1210a"] = [duplicate, *oncall1_c]
    oncall2_c = m.conversation(
        oncall2,
        "2023-07-10T12:06:48Z",
        "eu-west-1",
        "192.0.2.77",
        UA_SAFARI,
        v9,
        f"S3 replication to eu-west-1 stopped after the KMS key rotation. {CANARY}",
        [6, 13],
    )
    maria_c2 = m.conversation(
        maria,
        "2023-07-10T12:07:41Z",
        "eu-west-1",
        "198.51.100.23",
        UA_CHROME,
        v8,
        "Why is my NAT gateway in eu-west-1 showing ErrorPortAllocation?",
        [7],
    )
    files["inv-1210b"] = [duplicate, *oncall2_c, *maria_c2]
    files["inv-1235"] = m.conversation(
        root,
        "2023-07-10T12:30:11Z",
        "us-east-1",
        "192.0.2.10",
        UA_EDGE,
        v8,
        "Who changed the account's alternate billing contact last week?",
        [5],
    )
    dana_c1 = m.conversation(
        dana1,
        "2026-02-08T16:31:14Z",
        "us-east-1",
        "198.51.100.140",
        UA_FIREFOX,
        v9,
        "Bedrock InvokeModel returns ThrottlingException although we are far below the quota.",
        [6, 15],
    )
    files["td-0208a"] = dana_c1
    dana_c2 = m.conversation(
        dana1,
        "2026-02-08T17:04:50Z",
        "eu-west-1",
        "198.51.100.140",
        UA_FIREFOX,
        v9,
        "Marketplace agreement accepted but the product subscription still shows pending.",
        [8],
    )
    files["td-0208b"] = [
        *dana_c2,
        m.event(
            sam,
            START,
            "2026-02-08T17:05:02Z",
            "us-east-1",
            "198.51.100.141",
            UA_CHROME,
            v9,
            message="Can you look at why my CloudFormation stack is stuck in UPDATE_ROLLBACK_FAILED?",
            error=scp_deny,
        ),
    ]
    files["td-0222"] = m.conversation(
        dana2,
        "2026-02-22T16:12:30Z",
        "us-east-1",
        "203.0.113.9",
        UA_EDGE,
        v9,
        "The new Auto Scaling group fails with 'launch template not found' right after creating it.",
        [7, 12],
    )
    return files


# --- writing ------------------------------------------------------------------------------------
def split_raw_records(raw: bytes) -> tuple[list[str], str]:
    """Split a compact delivered document into the exact text of each record (kept byte for byte)
    and its trailing text."""
    text = raw.decode("utf-8")
    head = '{"Records":['
    if not text.startswith(head):
        raise SystemExit("unexpected document head")
    dec = json.JSONDecoder()
    pieces, i = [], len(head)
    while text[i] != "]":
        _, end = dec.raw_decode(text, i)
        pieces.append(text[i:end])
        i = end + 1 if text[end] == "," else end
    tail = text[i:]
    if tail.rstrip("\n") != "]}":
        raise SystemExit("unexpected document tail")
    return pieces, tail


def compact(obj: object) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def insert_randomly(rng: random.Random, real: list[str], added: list[dict]) -> list[str]:
    out = list(real)
    for rec in added:
        out.insert(rng.randint(0, len(out)), compact(rec))
    return out


def gz(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=9, mtime=0)


def key_for(account: str, region: str, stamp: str, rand: str) -> str:
    y, mo, d = stamp[0:4], stamp[4:6], stamp[6:8]
    return f"AWSLogs/{account}/CloudTrail/{region}/{y}/{mo}/{d}/{account}_CloudTrail_{region}_{stamp}_{rand}.json.gz"


def delivery_stamp(times: list[str]) -> str:
    """CloudTrail names a file after the 5-minute mark following the events it holds."""
    last = datetime.strptime(max(times), "%Y-%m-%dT%H:%M:%SZ")
    mark = last.replace(second=0) + timedelta(minutes=5 - last.minute % 5)
    return mark.strftime("%Y%m%dT%H%MZ")


def build(src: Path) -> list[dict]:
    m = Maker(SEED)
    added = scenario(m)
    placer = random.Random(SEED + 1)
    if OUT.exists():
        shutil.rmtree(OUT)
    written = []

    for tag, name in INV_FILES.items():
        raw = (src / INVICTUS / name).read_bytes()
        pieces, tail = split_raw_records(raw)
        extra = added.get(tag, [])
        if extra:  # real records keep their exact bytes, the added ones go in between
            body = ('{"Records":[' + ",".join(insert_randomly(placer, pieces, extra)) + tail).encode("utf-8")
        else:
            body = raw
        account, _, region, stamp, rand = name[: -len(".json")].split("_")
        key = key_for(account, region, stamp, rand)
        written.append(
            {
                "key": key,
                "source": f"{INVICTUS}/{name}",
                "real": len(pieces),
                "added": len(extra),
                "data": body,
            }
        )

    for tag, names in TD_GROUPS.items():
        recs = []
        for n in names:
            doc = json.loads((src / TRAILDISCOVER / f"{n}.json.cloudtrail").read_text())
            recs.extend(doc if isinstance(doc, list) else [doc])
        extra = added.get(tag, [])
        pieces = insert_randomly(placer, [compact(r) for r in recs], extra)
        stamp = delivery_stamp([r["eventTime"] for r in recs] + [r["eventTime"] for r in extra])
        key = key_for("111111111111", "us-east-1", stamp, m.rand16())
        body = ('{"Records":[' + ",".join(pieces) + "]}").encode("utf-8")
        written.append(
            {
                "key": key,
                "source": ", ".join(f"{TRAILDISCOVER}/{n}.json.cloudtrail" for n in names),
                "real": len(recs),
                "added": len(extra),
                "data": body,
            }
        )

    ts = (src / TRAILSCRAPER / TRAILSCRAPER_FILE).read_bytes()
    account, _, region, stamp, rand = TRAILSCRAPER_FILE[: -len(".json.gz")].split("_")
    written.append(
        {
            "key": key_for(account, region, stamp, rand),
            "source": f"{TRAILSCRAPER}/{TRAILSCRAPER_FILE}",
            "real": len(json.loads(gzip.decompress(ts))["Records"]),
            "added": 0,
            "data": None,
            "gz": ts,  # already a delivered .json.gz: copied unchanged
        }
    )

    for w in written:
        path = OUT / w["key"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(w.get("gz") or gz(w["data"]))
    return written


# --- expected summary (independent of src/: plain gzip + json) ----------------------------------
def identity_key(ui: object) -> str:
    if not isinstance(ui, dict):
        return "Unknown:unknown"
    if ui.get("arn"):
        return ui["arn"]
    typ = ui.get("type")
    if typ == "AWSService" or (typ is None and "invokedBy" in ui):
        return f"service:{ui.get('invokedBy')}"
    if typ == "IdentityCenterUser":
        obo = ui.get("onBehalfOf") or {}
        return f"identitycenter:{obo.get('identityStoreArn')}/{obo.get('userId')}"
    if typ == "AWSAccount":
        return f"account:{ui.get('accountId')}"
    return f"{typ or 'Unknown'}:{ui.get('principalId') or ui.get('accountId') or 'unknown'}"


def principal_of(ui: object, ident: str) -> str:
    if isinstance(ui, dict):
        issuer = (ui.get("sessionContext") or {}).get("sessionIssuer") or {}
        if isinstance(issuer, dict) and issuer.get("arn"):
            return issuer["arn"]
    return ident


def is_support(r: object) -> bool:
    return (
        isinstance(r, dict)
        and r.get("eventSource") == SOURCE
        and isinstance(r.get("eventName"), str)
        and r["eventName"] != ""
        and isinstance(r.get("eventTime"), str)
    )


def summarise(events: list[dict]) -> dict:
    events = sorted(events, key=lambda r: (r["eventTime"], r.get("eventID", "")))
    first = events[0]["userIdentity"]
    ident = identity_key(first)
    accounts = set()
    for r in events:
        ui = r.get("userIdentity")
        acct = ui.get("accountId") if isinstance(ui, dict) else None
        accounts.add(acct or r.get("recipientAccountId"))
    return {
        "identityType": (first.get("type") if isinstance(first, dict) else None) or "Unknown",
        "principal": principal_of(first, ident),
        "accountIds": sorted(a for a in accounts if a),
        "totalCalls": len(events),
        "calls": dict(sorted(Counter(r["eventName"] for r in events).items())),
        "errorCalls": sum(1 for r in events if "errorCode" in r),
        "errors": dict(sorted(Counter(r["errorCode"] for r in events if "errorCode" in r).items())),
        "firstSeen": events[0]["eventTime"],
        "lastSeen": events[-1]["eventTime"],
        "sourceIps": sorted({r["sourceIPAddress"] for r in events if r.get("sourceIPAddress")}),
        "regions": sorted({r["awsRegion"] for r in events if r.get("awsRegion")}),
    }


def expected(folder: Path) -> dict:
    files, seen, per_identity = [], {}, {}
    raw_support = 0
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        records = json.loads(gzip.decompress(path.read_bytes()))["Records"]
        support = [r for r in records if is_support(r)]
        raw_support += len(support)
        files.append({"key": path.relative_to(folder).as_posix(), "records": len(records), "support": len(support)})
        for r in support:
            eid = r.get("eventID") or compact(r)
            if eid in seen:
                if seen[eid] != r:
                    raise SystemExit(f"eventID {eid} delivered twice with different content")
                continue
            seen[eid] = r
            per_identity.setdefault(identity_key(r.get("userIdentity")), []).append(r)
    summaries = {k: summarise(v) for k, v in sorted(per_identity.items())}
    daily = {}
    for k, evs in sorted(per_identity.items()):
        for day in sorted({r["eventTime"][:10] for r in evs}):
            daily.setdefault(k, {})[day] = summarise([r for r in evs if r["eventTime"][:10] == day])
    return {
        "files": files,
        "supportRecordsInFiles": raw_support,
        "distinctSupportEvents": len(seen),
        "summaries": summaries,
        "daily": daily,
    }


def expected_alerts(exp: dict) -> list[str]:
    """With default settings (all rules on, volume threshold 100, no allowlist)."""
    lines = []
    for ident in exp["summaries"]:
        lines.append(f"new-identity | {ident} | ever")
    for ident, days in exp["daily"].items():
        for day, s in days.items():
            if s["identityType"] == "Root":
                lines.append(f"root-usage | {ident} | {day}")
            if any("AccessDenied" in e or "Unauthorized" in e for e in s["errors"]):
                lines.append(f"access-denied | {ident} | {day}")
            if s["totalCalls"] > 100:
                lines.append(f"volume | {ident} | {day}")
    return lines


def render_md(exp: dict) -> str:
    def cell(v: object) -> str:
        if isinstance(v, dict):
            return ", ".join(f"{k}: {n}" for k, n in v.items()) or "-"
        if isinstance(v, list):
            return ", ".join(v) or "-"
        return str(v)

    out = [
        "# demo/trails — expected summary",
        "",
        "Generated by `demo/make_demo.py` (do not edit by hand;",
        "`python3 demo/make_demo.py --check` verifies it).",
        "Computed independently of `src/`: every file read with plain `gzip` + `json`, records kept when",
        f"`eventSource` is `{SOURCE}` with a non-empty string `eventName` and a string `eventTime`",
        "(CONTRACT section 1), each `eventID` counted once, identity key and fields as in CONTRACT",
        "sections 2 and 3. The same numbers in machine form: `demo/EXPECTED.json`.",
        "",
        "Try it: `supportwatch scan demo/trails --format json` or `supportwatch local demo/trails`",
        "(`make demo`).",
        "",
        f"- files: {len(exp['files'])}, CloudTrail records: {sum(f['records'] for f in exp['files'])}",
        f"- Support Recommendations records in the files: {exp['supportRecordsInFiles']}, distinct events "
        f"(eventIDs): {exp['distinctSupportEvents']} — one event is delivered in two files and counts once",
        f"- identities: {len(exp['summaries'])}",
        f"- one `StartSupportTroubleshooting` message contains the canary `{CANARY}`:",
        "  it must never appear in any output, log line or alert.",
        "",
        "## Per identity",
        "",
    ]
    cols = [
        "identity",
        "identityType",
        "principal",
        "accountIds",
        "totalCalls",
        "calls",
        "errorCalls",
        "errors",
        "firstSeen",
        "lastSeen",
        "sourceIps",
        "regions",
    ]
    out.append("| " + " | ".join(cols) + " |")
    out.append("|" + "---|" * len(cols))
    for ident, s in exp["summaries"].items():
        out.append("| " + " | ".join([f"`{ident}`"] + [cell(s[c]) for c in cols[1:]]) + " |")
    out += ["", "## Per identity and UTC day", "", "| identity | day | totalCalls | calls | errorCalls |"]
    out.append("|---|---|---|---|---|")
    for ident, days in exp["daily"].items():
        for day, s in days.items():
            out.append(f"| `{ident}` | {day} | {s['totalCalls']} | {cell(s['calls'])} | {s['errorCalls']} |")
    out += [
        "",
        "## Alerts to expect with default settings",
        "",
        "(all rules on, volume threshold 100, no allowlist; `rule | identity | window`)",
        "",
    ]
    out += [f"- {line}" for line in expected_alerts(exp)]
    out += ["", "## Files", "", "| key | records | support records |", "|---|---|---|"]
    for f in exp["files"]:
        out.append(f"| `{f['key']}` | {f['records']} | {f['support']} |")
    out += ["", "Sources of each file and licences: `demo/NOTICE`."]
    return "\n".join(out) + "\n"


def write_expected(exp: dict) -> None:
    (HERE / "EXPECTED.json").write_text(json.dumps(exp, indent=2, ensure_ascii=False) + "\n")
    (HERE / "EXPECTED.md").write_text(render_md(exp))


def notice_ok(exp: dict) -> bool:
    """demo/NOTICE is written by hand: every file's <stamp>_<random> name part must appear in it."""
    notice = (HERE / "NOTICE").read_text()
    missing = [f["key"] for f in exp["files"] if "_".join(f["key"].split("_")[-2:])[:-8] not in notice]
    for key in missing:
        print(f"demo/NOTICE does not name {key}", file=sys.stderr)
    return not missing


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--src", default=os.environ.get("SUPPORTWATCH_REAL_TRAILS", "/work/shared/real-trails"))
    ap.add_argument("--check", action="store_true", help="verify EXPECTED.* against demo/trails only")
    args = ap.parse_args()
    if args.check:
        exp = expected(OUT)
        ok = (HERE / "EXPECTED.json").read_text() == json.dumps(exp, indent=2, ensure_ascii=False) + "\n"
        ok = ok and (HERE / "EXPECTED.md").read_text() == render_md(exp)
        print("EXPECTED.* up to date" if ok else "EXPECTED.* differ from demo/trails", file=sys.stderr)
        return 0 if ok and notice_ok(exp) else 1
    written = build(Path(args.src))
    exp = expected(OUT)
    write_expected(exp)
    notice_ok(exp)
    for w in written:
        print(f"{w['key']}  real={w['real']} added={w['added']}  <- {w['source']}")
    print(f"{exp['distinctSupportEvents']} distinct support events, {len(exp['summaries'])} identities")
    return 0


if __name__ == "__main__":
    sys.exit(main())
