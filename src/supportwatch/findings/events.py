"""The EventBridge entry of an alert (contract section 11): on the default bus, `Detail` the alert JSON."""

from __future__ import annotations

import json
from typing import Any

from supportwatch.models import Alert

SOURCE = "supportwatch"
DETAIL_TYPE = "Support Recommendations alert"
BATCH = 10  # PutEvents: up to 10 entries a request


def event_entry(alert: Alert) -> dict[str, Any]:
    """One PutEvents entry; rules match it on `source`, `detail-type` and any field of `detail`."""
    return {
        "Source": SOURCE,
        "DetailType": DETAIL_TYPE,
        "Detail": json.dumps(alert.to_json()),
        "EventBusName": "default",
    }
