"""`supportwatch migrate`: bring a table written by an earlier release up to this one's indexes, or
(`--pseudonymize`) rewrite a table of clear identities in pseudonymous form.

Day summaries and published alerts written before index byPeriod existed carry no `periodKey`, so
period reads (`query --since`, `--errors`, `report`) would not see them. One Scan finds them and a
conditional update gives each its place; run it once after the stack update that adds byPeriod.
Repeating it, or running it beside the live function, changes nothing more.

`--pseudonymize` (contract section 10) rewrites each identity's items under its pseudonym and each
published alert with the same replacements, then records the table's mode, last: until then the
table still reads as plain, and a run cut short is finished by the next (what is already a
pseudonym is left as it is). Run it while no function writes clear identities into the table.
"""

from __future__ import annotations

import argparse
import sys

from supportwatch.aws.clients import client
from supportwatch.aws.store import SummaryStore
from supportwatch.cli.output import plural
from supportwatch.cli.progress import Progress
from supportwatch.cli.target import existing_table, stack_settings, table_and_privacy
from supportwatch.privacy import IdentityMode, ModeConflict, Pseudonymizer
from supportwatch.privacy.migration import alert_as, identity_as, source_ip_as


def run(args: argparse.Namespace) -> int:
    if args.pseudonymize_key and not args.pseudonymize:
        raise ValueError("--pseudonymize-key goes with --pseudonymize")
    if args.pseudonymize:
        table, privacy = table_and_privacy(args)
        if privacy is None:
            where = f"stack {args.stack} keeps identities in clear" if args.stack else "no key"
            raise ValueError(f"migrate --pseudonymize: {where}; give the key with --pseudonymize-key FILE")
    else:
        table, privacy = args.table or stack_settings(args.stack, args.endpoint_url, args.region).table_name, None
    dynamodb = client("dynamodb", endpoint_url=args.endpoint_url, region_name=args.region)
    with existing_table(dynamodb, table):
        store = SummaryStore(dynamodb, table)
        if privacy is not None:
            return pseudonymize(store, privacy)
        updated = store.index_periods()
    sys.stdout.write(f"{plural(updated, 'item')} added to index byPeriod in {table}\n")
    return 0


def pseudonymize(store: SummaryStore, privacy: Pseudonymizer) -> int:
    target = IdentityMode("pseudonymous", privacy.fingerprint)
    stored = store.identity_mode()
    if stored is not None and stored.mode == "pseudonymous" and stored != target:
        raise ModeConflict(f"table {store.table_name} holds {stored.describe()}: this is not its key")
    identities = store.listed_identities()
    rewritten = 0
    with Progress(len(identities), unit="identities") as progress:
        for identity, identity_type in identities:
            written = identity_as(privacy, identity, identity_type)
            rewritten += store.rewrite_identity(identity, written, lambda value: source_ip_as(privacy, value))
            progress.advance()
    alerts = 0
    for item, sent in store.published_alert_items():
        if (written_alert := alert_as(privacy, sent)) != sent:
            store.rewrite_alert(item, written_alert)
            alerts += 1
    store.set_identity_mode(target)
    sys.stdout.write(
        f"rewritten under pseudonyms: {plural(rewritten, 'identity', 'identities')}, {plural(alerts, 'alert')}\n"
        f"{store.table_name}: pseudonymous, key fingerprint {target.fingerprint}\n"
    )
    return 0
