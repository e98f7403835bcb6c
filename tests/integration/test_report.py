"""`supportwatch report` and `local --report`: the embedded data equals the table's and `scan`'s numbers,
the page loads nothing remote, an empty period says so, and hostile strings stay text."""

from __future__ import annotations

import json
import re
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import boto3

from supportwatch.aws.store import SummaryStore
from supportwatch.cli import report as report_cli
from supportwatch.cli.main import main
from supportwatch.decoding.records import extract
from supportwatch.report.insights import Period
from supportwatch.report.page import Deployment, render_report
from tests.helpers import REPO, comparable, expected_totals, gzip_document, support_record
from tests.unit.test_insights import ledger_of, multi_month

HOSTILE = [
    'arn:aws:iam::111122223333:user/<script>alert("x")</script>',
    "arn:aws:iam::111122223333:user/</script><img src=x onerror=alert(1)>",
    "arn:aws:iam::111122223333:user/quote\"'&amp;",
    "arn:aws:iam::111122223333:user/\u202egnp.exe\u202c-rtl",
]


class Page(HTMLParser):
    """What a page references and holds: every attribute, the style text, the scripts."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.attributes: list[tuple[str, str, str]] = []
        self.styles: list[str] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self.text: list[str] = []
        self._in: str | None = None
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.attributes += [(tag, name, value or "") for name, value in attrs]
        if tag in ("script", "style"):
            self._in = tag
            if tag == "script":
                self.scripts.append((dict(attrs), ""))

    def handle_endtag(self, tag: str) -> None:
        self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "script":
            attrs, text = self.scripts[-1]
            self.scripts[-1] = (attrs, text + data)
        elif self._in == "style":
            self.styles.append(data)
        else:
            self.text.append(data)

    def data(self) -> dict:
        (found,) = [text for attrs, text in self.scripts if attrs.get("id") == "supportwatch-data"]
        return json.loads(found)


def remote_references(html: str) -> list[str]:
    """Everything in the page that would make a browser fetch from elsewhere."""
    page = Page(html)
    remote = re.compile(r"^\s*(https?:|//|ftp:|data:text/html)", re.IGNORECASE)
    loading = {"src", "href", "xlink:href", "srcset", "action", "formaction", "poster", "data", "background"}
    found = [f"{tag} {name}={value}" for tag, name, value in page.attributes if name in loading and remote.match(value)]
    found += [f"{tag} {name}" for tag, name, _ in page.attributes if name.startswith("on")]  # no inline handlers
    found += [tag for tag, *_ in page.attributes if tag in ("link", "iframe", "object", "embed", "base")]
    found += [f"script {attrs}" for attrs, _ in page.scripts if attrs.get("type") != "application/json"]
    for style in page.styles + [value for _, name, value in page.attributes if name == "style"]:
        found += re.findall(r"@import[^;]*|url\([^)]*\)", style)
    return found


def report_of(path: Path) -> tuple[str, dict]:
    html = path.read_text(encoding="utf-8")
    assert remote_references(html) == []
    return html, Page(html).data()


def test_demo_report_equals_the_table_and_scan(tmp_path, capsys):
    assert main(["local", str(REPO / "demo" / "trails"), "--format", "json", "--report", str(tmp_path / "r.html")]) == 0
    table = json.loads(capsys.readouterr().out)
    assert main(["scan", str(REPO / "demo" / "trails"), "--format", "json"]) == 0
    scanned = json.loads(capsys.readouterr().out)
    html, data = report_of(tmp_path / "r.html")
    assert data["summaries"] == table["summaries"] == scanned["summaries"]
    assert data["summaries"] == json.loads((REPO / "demo" / "EXPECTED.json").read_text())["summaries"]
    canonical = lambda alert: json.dumps(alert, sort_keys=True)  # noqa: E731
    assert sorted(data["alerts"], key=canonical) == sorted(table["alerts"], key=canonical)
    assert {alert["rule"] for alert in data["alerts"]} == {"new-identity", "root-usage", "access-denied"}
    assert (data["period"]["since"], data["period"]["until"]) == ("2023-07-10", "2026-02-22")
    assert sum(row["calls"] for row in data["series"]["activity"]) == 23
    assert sum(map(sum, data["series"]["callsByEvent"].values())) == 23
    assert "CANARY" not in html
    assert html.count("<svg") == 2 and 'role="img"' in html and "<title id=" in html


def test_multi_month_report_from_the_table(stack, tmp_path, capsys):
    records = multi_month(150, seed=21, days=100)  # moto commits slowly: a small corpus over months
    SummaryStore(boto3.client("dynamodb"), stack.resources.table).commit("corpus", extract(records).events)
    table = stack.resources.table
    assert main(["query", "--table", table, "--format", "json"]) == 0
    everything = json.loads(capsys.readouterr().out)
    out = tmp_path / "all.html"
    assert main(["report", "--table", table, "--since", "2023-01-01", "--until", "2023-04-10", "-o", str(out)]) == 0
    assert "wrote" in capsys.readouterr().err
    _, data = report_of(out)
    assert data["summaries"] == everything["summaries"]
    corpus = tmp_path / "corpus.json.gz"
    corpus.write_bytes(gzip_document(records))
    assert main(["scan", str(corpus), "--format", "json"]) == 0
    assert data["summaries"] == json.loads(capsys.readouterr().out)["summaries"]
    assert data["period"]["by"] == "week" and len(data["firstSeen"]) == len(everything["summaries"])

    out = tmp_path / "spring.html"
    assert main(["report", "--table", table, "--since", "2023-02-01", "--until", "2023-03-18", "-o", str(out)]) == 0
    _, data = report_of(out)
    inside = [r for r in records if "2023-02-01" <= r["eventTime"][:10] <= "2023-03-18"]
    assert comparable(data) == expected_totals(inside)
    assert data["period"]["by"] == "day" and len(data["series"]["activity"]) == 46
    assert sum(row["calls"] for row in data["series"]["activity"]) == len(inside)
    assert data["accounts"] == [
        {
            "name": "111122223333",
            "calls": len(inside),
            "conversations": sum(r["eventName"] == "StartSupportTroubleshooting" for r in inside),
            "errorCalls": sum("errorCode" in r for r in inside),
            "activeDays": len({r["eventTime"][:10] for r in inside}),
            "identities": len(data["summaries"]),
        }
    ]


def test_a_period_without_events_renders_an_empty_state(stack, tmp_path, capsys):
    out = tmp_path / "empty.html"
    period = ["--since", "2024-01-01", "--until", "2024-01-07"]
    assert main(["report", "--table", stack.resources.table, *period, "-o", str(out)]) == 0
    html, data = report_of(out)
    assert data["summaries"] == {} and data["alerts"] == []
    assert [row["calls"] for row in data["series"]["activity"]] == [0] * 7
    assert "No Support Recommendations calls between 2024-01-01 and 2024-01-07." in html
    assert "<svg" not in html and "No identity called the service in this period." in html
    assert "No alert in this period." in html
    assert capsys.readouterr().err.splitlines()[-1] == "the table holds no Support Recommendations calls yet"


def test_an_empty_period_says_where_the_data_is(stack, tmp_path, capsys, monkeypatch):
    records = [
        support_record(time="2023-07-10T10:00:00Z", event_id="old"),
        support_record(arn="arn:aws:iam::111122223333:user/Ops", time="2026-02-22T10:00:00Z", event_id="new"),
    ]
    SummaryStore(boto3.client("dynamodb"), stack.resources.table).commit("corpus", extract(records).events)
    monkeypatch.setattr(report_cli, "today", lambda: date(2026, 12, 3))  # the default 30 days hold nothing
    out = str(tmp_path / "r.html")
    assert main(["report", "--table", stack.resources.table, "-o", out]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err[-2].endswith(": 0 identities, 0 calls from 2026-11-04 to 2026-12-03")
    assert err[-1] == "the table holds 2023-07-10 to 2026-02-22; try --since 2023-07-01"
    assert (
        main(["report", "--table", stack.resources.table, "--since", "2020-01-01", "--until", "2020-12-31", "-o", out])
        == 0
    )
    assert (
        capsys.readouterr().err.splitlines()[-1] == "the table holds 2023-07-10 to 2026-02-22; try --until 2026-02-22"
    )
    assert main(["report", "--table", stack.resources.table, "--since", "2023-07-01", "-o", out]) == 0
    assert capsys.readouterr().err.splitlines()[-1].endswith(": 2 identities, 2 calls from 2023-07-01 to 2026-12-03")


def test_report_needs_a_table_and_a_sane_period(tmp_path, capsys):
    assert main(["report", "--table", "t", "--since", "2024-02-01", "--until", "2024-01-01", "-o", "x.html"]) == 2
    assert "--since 2024-02-01 is after --until 2024-01-01" in capsys.readouterr().err


def test_hostile_strings_stay_text():
    records = [
        support_record(arn=arn, time=f"2023-09-1{n}T10:00:00Z", event_id=f"h{n}", ip=f'198.51.100.{n}"><b>')
        for n, arn in enumerate(HOSTILE)
    ]
    records.append(support_record(arn=HOSTILE[0], name="$x^2$ </script><script>alert(2)</script>", event_id="n1"))
    ledger = ledger_of(records)
    period = Period.of(date(2023, 9, 10), date(2023, 9, 14), [s for (_, d), s in ledger.summaries.items() if d], [])
    alerts = [{"rule": "new-identity", "severity": "low", "window": "ever", "eventTime": "2023-09-10T10:00:00Z",
               "title": HOSTILE[1], "identity": HOSTILE[1]}]  # fmt: skip
    html = render_report(period, alerts, Deployment("table", "<b>table</b>"))
    page = Page(html)
    assert len(page.scripts) == 1 and remote_references(html) == []
    assert {tag for tag, *_ in page.attributes} <= {
        "html", "meta", "style", "body", "header", "p", "strong", "bdi", "main", "section", "ul", "li", "h2",
        "figure", "figcaption", "table", "thead", "tbody", "tr", "th", "td", "footer", "code", "script", "span",
        "svg", "title", "desc", "defs", "g", "path", "use", "clippath", "rect", "text", "h1", "wbr",
    }  # fmt: skip
    data = page.data()
    assert set(data["summaries"]) == set(HOSTILE)
    assert data["alerts"][0]["title"] == HOSTILE[1] and data["deployment"]["name"] == "<b>table</b>"
    text = "".join(page.text)
    for identity in HOSTILE:
        assert identity in text  # shown as text, exactly
    assert "$x^2$ </script><script>alert(2)</script>" in text  # the event name in the chart's legend
    assert "<bdi" in html  # right-to-left marks cannot reorder the text around an identity


def test_long_identities_wrap_between_their_parts_and_timestamps_not_at_all():
    long = "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_AdministratorAccess_1b74cd717d47002b/dana@example.com"
    ledger = ledger_of([support_record(arn=long, time="2023-09-11T10:00:00Z", event_id="l1")])
    period = Period.of(date(2023, 9, 10), date(2023, 9, 14), [s for (_, d), s in ledger.summaries.items() if d], [])
    html = render_report(period, [], Deployment("table", "t"))
    shown = "arn:<wbr>aws:<wbr>sts:<wbr>:<wbr>111122223333:<wbr>assumed-role/<wbr>"
    assert f"{shown}AWSReservedSSO_AdministratorAccess_1b74cd717d47002b/<wbr>dana@<wbr>example.com" in html
    assert "overflow-wrap: anywhere" not in html  # which broke them anywhere, mid-token
    assert '<td class="t">2023-09-11T10:00:00Z</td>' in html and ".t { white-space: nowrap; }" in html
    assert long in "".join(Page(html).text)  # the text is the whole key


def test_a_report_reads_only_its_period(stack, tmp_path, monkeypatch):
    """No Scan: a Query per kind and year of the period (index byPeriod), one BatchGetItem per 100 identities,
    the listing of published alerts, and a Query per identity for its set members."""
    records = multi_month(60, seed=3, days=60)
    events = extract(records).events
    SummaryStore(boto3.client("dynamodb"), stack.resources.table).commit("corpus", events)
    calls: list[str] = []

    def counting_client(*args, **kwargs):
        made = real_client(*args, **kwargs)
        made.meta.events.register("before-call.dynamodb", lambda model, **_: calls.append(model.name))
        return made

    real_client = report_cli.client
    monkeypatch.setattr(report_cli, "client", counting_client)
    for since, until in (("2023-01-10", "2023-01-16"), ("2023-01-01", "2023-03-01")):
        calls.clear()
        out = tmp_path / f"{since}.html"
        period = ["--since", since, "--until", until]
        assert main(["report", "--table", stack.resources.table, *period, "-o", str(out)]) == 0
        # days without and with a failed call, the alerts of the period: a Query each in one year, whatever its
        # days; the set members of each active identity's days, then of its summary: a Query each
        identities = len({event.identity for event in events if since <= event.day <= until})
        assert calls.count("Query") == 3 + 2 * identities and calls.count("BatchGetItem") == 1
        assert set(calls) == {"Query", "BatchGetItem"}


def test_stack_names_the_table_and_the_deployment(stack, tmp_path, capsys):
    """`--stack` reads the table from the stack's outputs (a plain CloudFormation stack on moto stands in
    for the SAM one, as in the backfill tests); a missing stack is one line, exit 1."""
    records = [support_record(time="2023-09-11T10:00:00Z", event_id="s1")]
    SummaryStore(boto3.client("dynamodb"), stack.resources.table).commit("corpus", extract(records).events)
    stack.stand_in()
    out = tmp_path / "stack.html"
    period = ["--since", "2023-09-01", "--until", "2023-09-30"]
    assert main(["report", "--stack", "supportwatch", *period, "-o", str(out)]) == 0
    _, data = report_of(out)
    assert data["deployment"] == {"kind": "stack", "name": "supportwatch"}
    assert [s["totalCalls"] for s in data["summaries"].values()] == [1]
    assert main(["report", "--stack", "absent", *period, "-o", str(out)]) == 1
    assert capsys.readouterr().err.splitlines()[-1] == (
        "supportwatch: stack absent not found in us-east-1: check --stack and --region"
    )


def test_report_from_the_table_lists_the_published_alerts_of_its_period(stack, tmp_path):
    key = "AWSLogs/111122223333/CloudTrail/us-east-1/2023/09/11/a.json.gz"
    stack.put_records(key, [support_record(time="2023-09-11T10:00:00Z", event_id="al1", error="AccessDeniedException")])
    stack.invoke(key)

    def alerts_of(since: str, until: str) -> list[dict]:
        out = tmp_path / f"{since}.html"
        assert (
            main(["report", "--table", stack.resources.table, "--since", since, "--until", until, "-o", str(out)]) == 0
        )
        return report_of(out)[1]["alerts"]

    assert {alert["rule"] for alert in alerts_of("2023-09-11", "2023-09-11")} == {"new-identity", "access-denied"}
    assert alerts_of("2023-10-01", "2023-10-02") == []
