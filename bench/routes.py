"""What routing alerts costs (issue 23): the handler on moto over one log file that raises N alerts,
with the routes of contract section 11 off, each on alone, and all on; every AWS request its clients
make counted by service and operation, and the invocation's wall time. Then the pure work per alert
(building the finding, the event entry, the chat notification) without AWS.

`python bench/routes.py [ALERTS]` prints JSON: {"invocations": [...], "build": {...}}.
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
KEY = "AWSLogs/111122223333/CloudTrail/us-east-1/2023/09/11/routes.json.gz"


class Context:
    function_name = "supportwatch-bench"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:supportwatch-bench"

    def __init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())


def alert_file(alerts: int) -> bytes:
    """One log file of `alerts` identities seen for the first time: `alerts` new-identity alerts."""
    from tests.helpers import gzip_document, support_record

    return gzip_document([support_record(arn=f"arn:aws:iam::111122223333:user/u{n}") for n in range(alerts)])


def invocation(routes: Any, body: bytes, monkeypatch: Any) -> dict[str, Any]:
    """The handler over the file in a fresh stack with `routes` on: its requests and wall milliseconds."""
    from moto import mock_aws
    from tests.helpers import MotoAccount, s3_event

    from supportwatch import handler
    from supportwatch.aws.local import deploy

    requests: Counter[str] = Counter()
    real = handler.client

    def counting(service: str) -> Any:
        made = real(service)
        made.meta.events.register("before-parameter-build", lambda params, model, **_: count(service, model, params))
        return made

    def count(service: str, model: Any, params: dict[str, Any]) -> None:
        chat = service == "sns" and params.get("TopicArn") == stack.chat_topic_arn
        requests.update([f"{'chat ' if chat else ''}{service}:{model.name}"])

    with mock_aws():
        stack = deploy(MotoAccount(), REPO / "template.yaml", routes)
        MotoAccount().client("s3").put_object(Bucket=stack.bucket, Key=KEY, Body=body)
        for name, value in stack.function_environment.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setattr(handler, "client", counting)
        handler.processor.cache_clear()
        publisher = handler.processor().alerting.publisher  # built before the clock starts: a warm function
        spent: Counter[str] = Counter()
        publisher.primary.publish = timed(publisher.primary.publish, "topic", spent)
        for route in publisher.routes:
            route.send = timed(route.send, route.name, spent)
        start = time.perf_counter()
        (report,) = handler.lambda_handler(s3_event(stack.bucket, KEY), Context())["reports"]
        seconds = time.perf_counter() - start
        handler.processor.cache_clear()
    milliseconds = {name: value * 1000 for name, value in spent.items()}
    return {"alerts": report["alerts"], "ms": seconds * 1000, "sending_ms": milliseconds, "requests": dict(requests)}


def timed(send: Any, name: str, spent: Counter[str]) -> Any:
    """`send`, adding its wall seconds to `spent[name]`."""

    def measured(alerts: Any) -> Any:
        start = time.perf_counter()
        try:
            return send(alerts)
        finally:
            spent[name] += time.perf_counter() - start

    return measured


def build_cost(alerts: int) -> dict[str, float]:
    """Microseconds per alert of each route's pure work (no AWS)."""
    from supportwatch.findings.asff import finding
    from supportwatch.findings.chat import chat_notification
    from supportwatch.findings.events import event_entry
    from supportwatch.models import Alert

    made = [
        Alert("new-identity", "low", "ever", f"New user u{n}", "seen first", identity=f"arn:aws:iam::1:user/u{n}")
        for n in range(alerts)
    ]
    now = datetime.now(UTC)
    work = {
        "finding": lambda alert: finding(alert, "111122223333", "us-east-1", now),
        "event entry": event_entry,
        "chat notification": lambda alert: json.dumps(chat_notification(alert, ("supportwatch query ...",))),
    }
    cost = {}
    for name, build in work.items():
        best = float("inf")
        for _ in range(5):
            start = time.perf_counter()
            for alert in made:
                build(alert)
            best = min(best, time.perf_counter() - start)
        cost[name] = best / alerts * 1e6
    return cost


def main(alerts: int) -> dict[str, Any]:
    os.environ.update({"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": "us-east-1"})
    os.environ.update({"POWERTOOLS_LOG_LEVEL": "CRITICAL", "POWERTOOLS_METRICS_DISABLED": "true"})
    sys.path.insert(0, str(REPO))
    import pytest

    from supportwatch.aws.local import Routes

    settings = {
        "off": Routes(),
        "Security Hub": Routes(security_hub=True),
        "EventBridge": Routes(eventbridge=True),
        "chat": Routes(chat=True),
        "all three": Routes(True, True, True),
    }
    body = alert_file(alerts)
    rows = []
    with pytest.MonkeyPatch.context() as monkeypatch:
        for name, routes in settings.items():
            best: dict[str, Any] = {}
            for _ in range(2):
                found = invocation(routes, body, monkeypatch)
                best = found if not best or found["ms"] < best["ms"] else best
            rows.append({"routes": name, **best})
    return {"invocations": rows, "build": build_cost(1000)}


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]) if len(sys.argv) > 1 else 25)))
