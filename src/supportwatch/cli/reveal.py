"""`supportwatch reveal PSEUDONYM --table NAME`: the identity behind a pseudonym (contract section 10).

A KMS Decrypt under the encryption context naming the pseudonym, which only the stack's
RevealPrincipals may make; CloudTrail logs it, and the function raises `identity-revealed` when it
reads that log. Exit 0 with the identity, 1 when nothing is sealed under the pseudonym, 2 when KMS
refuses.
"""

from __future__ import annotations

import argparse
import sys

from supportwatch.aws.clients import client
from supportwatch.aws.seals import reveal
from supportwatch.aws.store import SummaryStore
from supportwatch.cli.render import print_text
from supportwatch.cli.target import existing_table
from supportwatch.privacy.seals import NotSealed, RevealRefused


def run(args: argparse.Namespace) -> int:
    dynamodb = client("dynamodb", endpoint_url=args.endpoint_url, region_name=args.region)
    kms = client("kms", endpoint_url=args.endpoint_url, region_name=args.region)
    try:
        with existing_table(dynamodb, args.table):
            identity = reveal(kms, SummaryStore(dynamodb, args.table), args.pseudonym)
    except NotSealed as error:
        sys.stderr.write(f"supportwatch: {error}\n")
        return 1
    except RevealRefused as error:
        sys.stderr.write(f"supportwatch: {error}\n")
        return 2
    print_text(identity, unbroken=True)
    return 0
