"""`supportwatch forget IDENTITY_OR_PSEUDONYM --table NAME`: erase one identity (contract section 10).

The answer to a data-subject erasure request: every item that holds or names the identity goes (its
summary, days, set members, the alerts about it or by it, its sealed identity); no other identity's
numbers change. Safe to repeat, and a run cut short is finished by the next.
"""

from __future__ import annotations

import argparse

from supportwatch.aws.clients import client
from supportwatch.aws.store import SummaryStore
from supportwatch.cli.output import plural
from supportwatch.cli.render import print_text
from supportwatch.cli.target import existing_table, table_and_privacy
from supportwatch.ledger.items import ERASED_KINDS
from supportwatch.privacy.erasure import targets
from supportwatch.privacy.mode import PLAIN

SINGULAR = {
    "summaries": "summary",
    "days": "day",
    "set members": "set member",
    "alerts": "alert",
    "sealed identities": "sealed identity",
}


def run(args: argparse.Namespace) -> int:
    table, privacy = table_and_privacy(args)
    dynamodb = client("dynamodb", endpoint_url=args.endpoint_url, region_name=args.region)
    store = SummaryStore(dynamodb, table)
    with existing_table(dynamodb, table):
        mode = store.identity_mode() or PLAIN
        deleted = store.forget(targets(args.identity, mode, privacy, table))
    print_text(f"{args.identity}: deleted from {table}", unbroken=True)
    print_text(", ".join(plural(deleted[kind], SINGULAR[kind], kind) for kind in ERASED_KINDS))
    return 0
