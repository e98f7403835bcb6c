"""What pseudonymous mode costs (contract section 10): `python bench/pseudonyms.py [ROUNDS]` prints two tables.

1. Per event: one object of 20,000 support records through the pipeline (decoding, the rules with
   every alert rule on, the in-memory ledger, as `scan` runs it), plain and pseudonymous, best of
   ROUNDS interleaved; the difference over the events is what the mode adds to each event. Also the
   replacement alone (`Pseudonymizer.event`).
2. Cold start: the function's `processor()` (settings, clients, the table's identity mode, and in
   pseudonymous mode the secret read through Powertools' parameters utility and the key's
   fingerprint) in fresh processes against moto's server (the embedded AWS of `supportwatch local`),
   plain and pseudonymous; and, apart, the parameters utility's import and the first GetSecretValue.
   moto on loopback answers in about a millisecond: in AWS add a GetSecretValue round trip.
"""

from __future__ import annotations

import gzip
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402
from supportwatch.aggregate import Ledger  # noqa: E402
from supportwatch.alerting import Alerting, CollectingPublisher, MemoryClaims  # noqa: E402
from supportwatch.config import AlertSettings  # noqa: E402
from supportwatch.decoding import read_events  # noqa: E402
from supportwatch.models import ObjectRef  # noqa: E402
from supportwatch.pipeline import Processor  # noqa: E402
from supportwatch.privacy import Pseudonymizer  # noqa: E402

EVENTS = 20_000
KEY = b"bench-key-0123456789abcdefghijklmnopqrstuvwxyz"
CAP = 2 * 1024**3


def one_object() -> bytes:
    rng = random.Random(21)
    records = [generate.record(rng, support=True) for _ in range(EVENTS)]
    return gzip.compress(json.dumps({"Records": records}).encode())


def process_seconds(data: bytes, privacy: Pseudonymizer | None) -> float:
    processor = Processor(
        lambda ref: data,
        Ledger(),
        Alerting(MemoryClaims(), CollectingPublisher()),
        AlertSettings(volume_threshold=10),
        CAP,
        privacy=privacy,
    )
    start = time.perf_counter()
    report = processor.process(ObjectRef("", "bench.json.gz"), owner="bench")
    seconds = time.perf_counter() - start
    assert report.counted == EVENTS, report
    return seconds


def per_event(rounds: int) -> None:
    data = one_object()
    best = {"plain": float("inf"), "pseudonymous": float("inf")}
    for _ in range(rounds):
        best["plain"] = min(best["plain"], process_seconds(data, None))
        best["pseudonymous"] = min(best["pseudonymous"], process_seconds(data, Pseudonymizer(KEY)))
    events = read_events(data, CAP).events
    replace = float("inf")
    for _ in range(rounds):
        privacy = Pseudonymizer(KEY)  # a fresh cache: every identity and address computed once
        start = time.perf_counter()
        for event in events:
            privacy.event(event)
        replace = min(replace, time.perf_counter() - start)
    identities = len({event.identity for event in events})
    title = f"one object, {EVENTS:,} support events, {identities} identities (best of {rounds})"
    print(f"\n| {title} | ms | µs per event |")
    print("|---|---|---|")
    for mode, seconds in best.items():
        print(f"| pipeline, {mode} | {seconds * 1e3:.0f} | {seconds / EVENTS * 1e6:.1f} |")
    added = best["pseudonymous"] - best["plain"]
    print(f"| added by the mode | {added * 1e3:.0f} | {added / EVENTS * 1e6:.2f} |")
    print(f"| of which `Pseudonymizer.event` alone | {replace * 1e3:.0f} | {replace / EVENTS * 1e6:.2f} |")


CHILD = """
import json, sys, time
start = time.perf_counter()
import supportwatch.handler as handler
imported = time.perf_counter()
handler.processor()
built = time.perf_counter()
print(json.dumps({"import": imported - start, "processor": built - imported}))
"""
SECRET_ONLY = """
import json, os, time
import supportwatch.handler
start = time.perf_counter()
from supportwatch.aws import secrets
imported = time.perf_counter()
secrets.pseudonym_key(os.environ["PSEUDONYM_KEY_SECRET"])
read = time.perf_counter()
print(json.dumps({"import": imported - start, "get_secret": read - imported}))
"""


def child(code: str, environment: dict[str, str]) -> dict[str, float]:
    env = {**os.environ, **environment, "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_METRICS_DISABLED": "true"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    return json.loads(done.stdout)


def best_of(code: str, environment: dict[str, str], rounds: int) -> dict[str, float]:
    found: dict[str, float] = {}
    for _ in range(rounds):
        for name, seconds in child(code, environment).items():
            found[name] = min(found.get(name, float("inf")), seconds)
    return found


def cold_start(rounds: int) -> None:
    from supportwatch.aws.local import EmbeddedAws, deploy
    from supportwatch.cli.local import patched_environ

    rows = {}
    with EmbeddedAws() as aws, patched_environ(aws.environment()):
        for mode, key in (("plain", None), ("pseudonymous", KEY)):
            aws.reset()
            stack = deploy(aws, ROOT / "template.yaml", pseudonym_key=key)
            environment = {**aws.environment(), **stack.function_environment}
            child(CHILD, environment)  # the table's first use records its mode: not a cold start's cost
            rows[mode] = best_of(CHILD, environment, rounds)
        secret = best_of(SECRET_ONLY, environment, rounds)
    print(f"\n| cold start against moto's server (fresh processes, best of {rounds}) | ms |")
    print("|---|---|")
    for mode, found in rows.items():
        print(f"| `import supportwatch.handler`, {mode} | {found['import'] * 1e3:.0f} |")
        print(f"| `processor()`, {mode} | {found['processor'] * 1e3:.0f} |")
    added = rows["pseudonymous"]["processor"] - rows["plain"]["processor"]
    print(f"| added by the mode to `processor()` | {added * 1e3:.0f} |")
    print(f"| of which importing Powertools' parameters utility | {secret['import'] * 1e3:.0f} |")
    print(f"| of which the first `get_secret` (GetSecretValue on moto) | {secret['get_secret'] * 1e3:.0f} |")


if __name__ == "__main__":
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    per_event(rounds)
    cold_start(rounds)
