"""`supportwatch pseudonym VALUE`: the pseudonym a value is written as in pseudonymous mode (contract
section 10), so that an investigator can look a known person or address up."""

from __future__ import annotations

import argparse

from supportwatch.privacy import load_key, pseudonym


def run(args: argparse.Namespace) -> int:
    if args.pseudonymize_key:
        key = load_key(args.pseudonymize_key)
    else:  # the deployed stack's secret (loads the AWS modules only here)
        from supportwatch.cli.target import stack_key

        key = stack_key(args.stack, args.endpoint_url, args.region)
    print(pseudonym(key, args.value))
    return 0
