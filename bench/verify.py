"""`supportwatch verify`'s time per 1,000 log files on the embedded AWS (moto's server, in-process).

    python bench/verify.py [--files 1000] [--records 100] [--repeats 3]

A trail of FILES log files (RECORDS CloudTrail-shaped records each, 20 files an hour) with their
signed hourly digests is uploaded to the embedded AWS; then `supportwatch verify --format json` runs
over it in this process (public keys from a file, as offline), timed, best of REPEATS.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FILES_PER_HOUR = 20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--records", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    from bench.generate import record
    from tests.trail import Trail, public_keys_json

    from supportwatch.aws.local import EmbeddedAws
    from supportwatch.cli.main import main as cli

    rng = random.Random(7)
    trail = Trail(bucket="bench-trail")
    start = datetime(2026, 11, 1, tzinfo=UTC)
    for number in range(args.files):
        hour, slot = divmod(number, FILES_PER_HOUR)
        when = start + timedelta(hours=hour, minutes=slot * 60 // FILES_PER_HOUR)
        trail.log(when, [record(rng, rng.random() < 0.01) for _ in range(args.records)])
        if slot == FILES_PER_HOUR - 1 or number == args.files - 1:
            trail.digest(start + timedelta(hours=hour + 1))
    size = sum(len(body) for body, _ in trail.objects.values())
    with EmbeddedAws() as aws, tempfile.TemporaryDirectory() as folder:
        os.environ.update(aws.environment())
        s3 = aws.client("s3")
        s3.create_bucket(Bucket=trail.bucket)
        trail.upload(s3)
        keys = Path(folder) / "keys.json"
        keys.write_text(json.dumps(public_keys_json()))
        command = ["verify", f"s3://{trail.bucket}", "--public-keys", str(keys), "--format", "json"]
        command += ["--endpoint-url", aws.endpoint_url]
        best = float("inf")
        for _ in range(args.repeats):
            out = io.StringIO()
            began = time.perf_counter()
            with contextlib.redirect_stdout(out):
                code = cli(command)
            best = min(best, time.perf_counter() - began)
            assert code == 0, out.getvalue()
        document = json.loads(out.getvalue())
    assert document["logs"]["verified"] == args.files, document
    print(
        json.dumps(
            {
                "logFiles": args.files,
                "digests": document["digests"]["verified"],
                "recordsPerFile": args.records,
                "compressedMB": round(size / 1e6, 1),
                "seconds": round(best, 2),
                "secondsPer1000LogFiles": round(best * 1000 / args.files, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
