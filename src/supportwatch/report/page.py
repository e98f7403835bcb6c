"""The self-contained HTML report of a period (contract section 8).

One file: inline CSS, inline SVG charts, every figure also as a table (readable printed and with
JavaScript off), and the data shown embedded as `<script type="application/json"
id="supportwatch-data">`: the export document of the period (section 4) plus the plotted series.
Jinja2 escapes every value by default; the JSON goes through `tojson`, which escapes `<`, `>`, `&`
and `'`, so no identity string can close the script element or open a tag.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from supportwatch.config import SEVERITIES
from supportwatch.export import alert_day, export_document
from supportwatch.report.breakdown import calls_by_service, model_users, multi_service, service_use, top_models
from supportwatch.report.charts import active_chart, calls_chart
from supportwatch.report.insights import Period, auto_granularity, buckets
from supportwatch.services import DEFAULT_SERVICES, SERVICES, extended

TOP = 20  # rows of the top identities and principals
ADDRESSES = 5  # source addresses listed per identity before "and N more"

_environment = Environment(
    loader=PackageLoader("supportwatch.report", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)

BREAKS = re.compile(r"(?<=[/:@])")  # where a long identity may wrap: after its separators, never inside a name


def breakable(text: str) -> Markup:
    """`text` escaped, with a line-break opportunity (`<wbr>`) after each `/`, `:` and `@`: a long ARN
    wraps between its parts instead of mid-token."""
    return Markup("<wbr>").join(escape(part) for part in BREAKS.split(str(text)))


_environment.filters["breakable"] = breakable


@dataclass(frozen=True, slots=True)
class Deployment:
    """Where the report's data came from, as the header names it."""

    kind: str  # "table", "stack" or "local"
    name: str


def alerts_in(period: Period, alerts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The alerts of the period: those whose day (`alert_day`) lies inside it, and those whose day only
    their source knows (an unreadable file with no time in its name, raised when the table says or
    during `local`'s run), which the source chose for the period."""
    since, until = period.since.isoformat(), period.until.isoformat()
    return [alert for alert in alerts if (day := alert_day(alert)) is None or since <= day <= until]


def report_data(
    period: Period,
    alerts: list[dict[str, Any]],
    deployment: Deployment,
    generated: datetime,
    watched: tuple[str, ...] = DEFAULT_SERVICES,
) -> dict[str, Any]:
    """The embedded JSON: the export document of the period plus what the page plots and lists (and, when
    more than `support` is watched, the period by service and by model)."""
    by = auto_granularity(period.since, period.until)
    document = export_document(period.summaries(), alerts_in(period, alerts), watched)
    data = document | {
        "period": {"since": period.since.isoformat(), "until": period.until.isoformat(), "by": by},
        "generatedAt": generated.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "deployment": {"kind": deployment.kind, "name": deployment.name},
        "series": {
            "activity": [row.to_json() for row in period.activity(by)],
            "callsByEvent": period.calls_by_event(by),
        },
        "topIdentities": [row.to_json() for row in period.top_identities(TOP)],
        "topPrincipals": [row.to_json() for row in period.top_principals(TOP)],
        "accounts": [row.to_json() for row in period.accounts()],
        "errorCodes": period.error_codes(),
        "firstSeen": [{"identity": s.identity, "firstSeen": s.first_seen} for s in period.first_seen()],
    }
    if extended(watched):
        data["series"]["callsByService"] = calls_by_service(period, by)
        data |= {
            "serviceUse": [row.to_json() for row in service_use(period, watched)],
            "multiService": [{"identity": mix.identity, "services": mix.counts} for mix in multi_service(period)],
            "topModels": [row.to_json() for row in top_models(period, TOP)],
            "modelUsers": [{"identity": mix.identity, "models": mix.counts} for mix in model_users(period)],
        }
    return data


def _charts(period: Period, data: dict[str, Any]) -> list[Any]:
    if not data["summaries"]:
        return []
    by = data["period"]["by"]
    starts = buckets(period.since, period.until, by)
    activity = data["series"]["activity"]
    return [
        active_chart(starts, [r["activeIdentities"] for r in activity], [r["activePrincipals"] for r in activity], by),
        calls_chart(starts, data["series"]["callsByEvent"], by),
    ]


def _service_chart(period: Period, data: dict[str, Any]) -> Any:
    """Calls stacked by service (each named by its label), when the period holds any."""
    if not (series := data["series"].get("callsByService")):
        return None
    by = data["period"]["by"]
    labelled = {SERVICES[name].label if name in SERVICES else name: counts for name, counts in series.items()}
    return calls_chart(buckets(period.since, period.until, by), labelled, by, "service", "services")


def render_report(
    period: Period,
    alerts: list[dict[str, Any]] | None,
    deployment: Deployment,
    generated: datetime | None = None,
    watched: tuple[str, ...] = DEFAULT_SERVICES,
) -> str:
    """The report as one HTML document; `alerts` None when the source does not keep them (the table).
    With more than `support` watched, it has a Services and a Models section too."""
    data = report_data(period, alerts or [], deployment, generated or datetime.now(UTC), watched)
    summaries = data["summaries"]
    by_severity = {severity: [a for a in data["alerts"] if a["severity"] == severity] for severity in SEVERITIES}
    whole = period.summaries()
    totals = {
        "identities": len(whole),
        "principals": len({s.principal for s in whole}),
        "calls": sum(s.total_calls for s in whole),
        "conversations": sum(row["conversations"] for row in data["series"]["activity"]),
        "errors": sum(s.error_calls for s in whole),
        "denied": sum(row["accessDenied"] for row in data["series"]["activity"]),
        "new": len(data["firstSeen"]),
        "alerts": len(data["alerts"]),
    }
    return _environment.get_template("report.html.j2").render(
        data=data,
        summaries=summaries,
        totals=totals,
        charts=[(chart, Markup(chart.svg)) for chart in _charts(period, data)],  # matplotlib escapes its text
        service_chart=(chart, Markup(chart.svg)) if (chart := _service_chart(period, data)) else None,
        extended=extended(watched),
        labels={name: service.label for name, service in SERVICES.items()},
        severities=list(reversed(SEVERITIES)),
        by_severity=by_severity,
        addresses=ADDRESSES,
        alerts_kept=alerts is not None,
    )
