"""What a cold start loads: the handler module and `supportwatch scan`, each in a fresh interpreter.

The times themselves are measured by `python bench/run.py --only import`, never here.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

from tests.helpers import support_record

HEAVY = ("moto", "supportwatch.cli", "yaml", "rich", "matplotlib", "aws_xray_sdk", "pytest", "hypothesis")
SEARCH = ("ahocorasick_rs",)  # the search for the names: loaded by the first search, never by importing the handler
AWS = ("boto3", "botocore", "moto", "supportwatch.aws", "aws_xray_sdk")
REPORT = "import sys, json; print(json.dumps(sorted(sys.modules)), file=sys.stderr)"


def loaded(code: str, **environment: str) -> set[str]:
    """The modules a fresh interpreter holds after running `code` (which must end with REPORT)."""
    outside_lambda = {
        key: value for key, value in os.environ.items() if key not in ("LAMBDA_TASK_ROOT", "AWS_SAM_LOCAL")
    }
    env = {**outside_lambda, "AWS_DEFAULT_REGION": "us-east-1", **environment}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    return set(json.loads(done.stderr.strip().splitlines()[-1]))


def under(modules: set[str], roots: tuple[str, ...]) -> list[str]:
    return sorted(name for name in modules if any(name == root or name.startswith(root + ".") for root in roots))


def test_handler_import_loads_no_tooling_and_no_xray_sdk_when_tracing_is_off():
    modules = loaded(f"import supportwatch.handler\n{REPORT}", POWERTOOLS_TRACE_DISABLED="true")
    assert "supportwatch.handler" in modules and "boto3" in modules
    assert under(modules, HEAVY + SEARCH) == []
    # Batch utility and data classes wait for their envelope.
    assert (
        under(modules, ("aws_lambda_powertools.utilities.batch", "aws_lambda_powertools.utilities.data_classes")) == []
    )


def test_tracing_on_inside_lambda_wraps_the_handler_in_an_xray_segment():
    code = (
        "import sys\n"
        "import supportwatch.handler\n"
        "assert 'aws_xray_sdk.core' in sys.modules, 'the Tracer was not built'\n"
        "from aws_lambda_powertools import Tracer\n"
        "assert Tracer().disabled is False\n"
        f"{REPORT}"
    )
    modules = loaded(code, LAMBDA_TASK_ROOT="/var/task", POWERTOOLS_TRACE_DISABLED="false")
    assert "aws_xray_sdk.core" in modules


def test_trace_disabled_inside_lambda_keeps_the_sdk_out():
    modules = loaded(
        f"import supportwatch.handler\n{REPORT}", LAMBDA_TASK_ROOT="/var/task", POWERTOOLS_TRACE_DISABLED="1"
    )
    assert under(modules, ("aws_xray_sdk",)) == []


def test_scan_never_loads_boto3_moto_or_the_aws_adapters(tmp_path: Path):
    log = tmp_path / "one.json.gz"
    log.write_bytes(gzip.compress(json.dumps({"Records": [support_record()]}).encode()))
    code = (
        "import sys\n"
        "from supportwatch.cli.main import main\n"
        f"assert main(['scan', {str(log)!r}, '--format', 'json']) == 0\n"
        f"{REPORT}"
    )
    modules = loaded(code)
    assert "supportwatch.cli.scan" in modules and "supportwatch.pipeline" in modules
    assert under(modules, AWS) == [] and set(SEARCH) <= modules
