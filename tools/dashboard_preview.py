"""A preview of the stack's CloudWatch dashboard, drawn offline: `make dashboard-preview`.

CloudWatch draws the dashboard in the console from live metrics, so no screenshot can be made without an
AWS account. This draws the next best honest thing: the dashboard body of template.yaml (default
parameters, or WatchedServices=LIST with `--services LIST`: a panel per watched service) laid out on
CloudWatch's 24-column grid, each widget with its real title and metric labels, filled with the Powertools
metrics (EMF documents) the function prints during `supportwatch local PATH... [--services LIST]`, summed
per the widget's stat and period. Metrics that AWS itself emits (AWS/Lambda, AWS/SQS) have no offline
source: their panels say so instead of showing invented numbers.

    python tools/dashboard_preview.py [-o docs/images/dashboard-preview.png] [--services LIST] [PATH ...]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import matplotlib
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from supportwatch.report.charts import OKABE_ITO, STYLE
from supportwatch.services import DEFAULT_SERVICES, extended, parse_services
from supportwatch.template import Resolver, load_template

ROOT = Path(__file__).resolve().parents[1]
GRID_COLUMNS = 24  # CloudWatch places widgets without x/y left to right on 24 columns, then the next row
STATS = {"Sum": sum, "Maximum": max, "Minimum": min, "Average": lambda values: sum(values) / len(values)}
PSEUDO = {"AWS::Region": "us-east-1", "AWS::AccountId": "123456789012", "AWS::StackName": "supportwatch"}
TITLE = (
    "Preview of the supportwatch dashboard's layout with metrics from `supportwatch local {run}`"
    " — not a CloudWatch screenshot"
)

MetricKey = tuple[str, str, frozenset[tuple[str, str]]]  # namespace, name, dimensions


@dataclass(frozen=True, slots=True)
class Line:
    """One metric of a widget: its values per period start, or None for a metric AWS emits, not our code."""

    label: str
    namespace: str
    name: str
    stat: str
    values: dict[datetime, float] | None


@dataclass(frozen=True, slots=True)
class Panel:
    """One widget: its title, its place on the grid (columns and rows) and its metrics."""

    title: str
    x: int
    y: int
    width: int
    height: int
    period: int
    lines: tuple[Line, ...]

    @property
    def offline_note(self) -> str | None:
        aws = sorted({line.namespace for line in self.lines if line.values is None})
        return f"{' and '.join(aws)} metric: not available offline" if aws else None


def dashboard_widgets(template: Path, parameters: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """The widgets of the template's dashboard body with its default parameters, or these; resources as
    their names."""
    document = load_template(template)
    names = {name: name for name in document["Resources"]}
    attributes = {(name, "QueueName"): name for name in document["Resources"]}
    body = Resolver(document, {**PSEUDO, **names}, attributes, parameters).resolve(
        document["Resources"]["Dashboard"]["Properties"]["DashboardBody"]
    )
    return json.loads(body)["widgets"]


def emitted_documents(paths: Iterable[Path], services: str = ",".join(DEFAULT_SERVICES)) -> list[dict[str, Any]]:
    """The EMF documents the function prints while `supportwatch local PATH... --services LIST` runs it (one
    at a time, so that no two documents share a line of its stderr)."""
    command = [sys.executable, "-m", "supportwatch.cli.main", "local", *map(str, paths), "--verbose"]
    if extended(parse_services(services)):
        command += ["--services", services]
    run = subprocess.run([*command, "--concurrency", "1"], capture_output=True, text=True, check=True)
    return [json.loads(line) for line in run.stderr.splitlines() if line.startswith('{"_aws"')]


def datapoints(documents: Iterable[dict[str, Any]]) -> dict[MetricKey, list[tuple[datetime, float]]]:
    """Every value of every metric in the EMF documents, with its time, keyed as a widget names it."""
    points: dict[MetricKey, list[tuple[datetime, float]]] = defaultdict(list)
    for document in documents:
        time = datetime.fromtimestamp(document["_aws"]["Timestamp"] / 1000, UTC)
        for directive in document["_aws"]["CloudWatchMetrics"]:
            for dimension_names in directive["Dimensions"]:
                dimensions = frozenset((name, document[name]) for name in dimension_names)
                for metric in directive["Metrics"]:
                    values = document[metric["Name"]]
                    for value in values if isinstance(values, list) else [values]:
                        points[(directive["Namespace"], metric["Name"], dimensions)].append((time, float(value)))
    return points


def _line(spec: list[Any], stat: str, period: int, points: dict[MetricKey, list[tuple[datetime, float]]]) -> Line:
    namespace, name, *rest = spec
    options = rest.pop() if rest and isinstance(rest[-1], dict) else {}
    stat = options.get("stat", stat)
    if namespace.startswith("AWS/"):
        return Line(options.get("label", name), namespace, name, stat, None)
    dimensions = frozenset(zip(rest[::2], rest[1::2], strict=True))
    buckets: dict[datetime, list[float]] = defaultdict(list)
    for time, value in points.get((namespace, name, dimensions), []):
        start = int(time.timestamp()) // period * period
        buckets[datetime.fromtimestamp(start, UTC)].append(value)
    return Line(options.get("label", name), namespace, name, stat, {t: STATS[stat](v) for t, v in buckets.items()})


def preview_panels(widgets: list[dict[str, Any]], documents: Iterable[dict[str, Any]]) -> list[Panel]:
    """The widgets placed as CloudWatch places them, each metric with its values from the documents."""
    points = datapoints(documents)
    panels, column, row, row_height = [], 0, 0, 0
    for widget in widgets:
        width, height = widget.get("width", 6), widget.get("height", 6)
        if "x" in widget and "y" in widget:
            x, y = widget["x"], widget["y"]
        else:
            if column + width > GRID_COLUMNS:
                column, row, row_height = 0, row + row_height, 0
            x, y = column, row
            column, row_height = column + width, max(row_height, height)
        properties = widget["properties"]
        period, stat = properties.get("period", 300), properties.get("stat", "Average")
        lines = tuple(_line(spec, stat, period, points) for spec in properties["metrics"])
        panels.append(Panel(properties["title"], x, y, width, height, period, lines))
    return panels


def _draw_panel(figure: Figure, panel: Panel, rows: int, top: float) -> None:
    """The panel in a frame as horizontal bars, one per metric label and period, with its value beside it."""
    unit_w, unit_h = 1 / GRID_COLUMNS, top / rows
    x, y = panel.x * unit_w, top - (panel.y + panel.height) * unit_h
    width, height = panel.width * unit_w, panel.height * unit_h
    figure.patches.append(
        Rectangle(
            (x + 0.003, y + 0.004),
            width - 0.006,
            height - 0.008,
            fill=False,
            edgecolor="#bbbbbb",
            transform=figure.transFigure,
        )
    )
    figure.text(x + 0.01, y + height - 0.02, panel.title, fontsize=10, fontweight="bold", va="top")
    axes = figure.add_axes((x + width * 0.24, y + height * 0.2, width * 0.68, height * 0.62))
    labels = [line.label for line in panel.lines]
    axes.grid(axis="y", visible=False)
    if panel.offline_note:
        axes.set_axis_off()
        axes.text(
            0.5,
            0.5,
            f"{panel.offline_note}\n({', '.join(labels)})",
            transform=axes.transAxes,
            ha="center",
            va="center",
            fontsize=9,
            style="italic",
            color="#555555",
        )
        return
    axes.set_yticks(range(len(labels)), labels, fontsize=7 if len(labels) > 8 else 8)
    axes.invert_yaxis()
    axes.grid(axis="x", color="#dddddd")
    periods = sorted({start for line in panel.lines for start in line.values or {}})
    bar = 0.8 / max(len(periods), 1)
    for number, start in enumerate(periods):
        values = [(line.values or {}).get(start) for line in panel.lines]
        offsets = [i - 0.4 + bar * (number + 0.5) for i in range(len(values))]
        bars = axes.barh(
            offsets,
            [value or 0 for value in values],
            height=bar,
            color=OKABE_ITO[number % len(OKABE_ITO)],
            label=f"period from {start:%Y-%m-%d %H:%M} UTC",
        )
        axes.bar_label(bars, [("no data" if v is None else f"{v:g}") for v in values], padding=3, fontsize=7)
    axes.set_xlabel(f"{panel.lines[0].stat} per {panel.period // 60}-minute period", fontsize=8)
    axes.legend(fontsize=7, loc="lower right", frameon=False)
    axes.margins(x=0.15)


def draw(
    panels: list[Panel], output: Path, run: str = "demo/trails", parameters: str = "its default parameters"
) -> None:
    """The panels on one picture; `run` is what `supportwatch local` ran on, `parameters` the template's."""
    rows = max(panel.y + panel.height for panel in panels)
    with matplotlib.rc_context(STYLE):
        figure = Figure(figsize=(16, rows * 0.55 + 1.2), dpi=80)
        top = 1 - 1.2 / (rows * 0.55 + 1.2)
        title = TITLE.format(run=run)
        figure.suptitle(title, x=0.01, y=0.995, ha="left", fontsize=12 if len(title) < 130 else 10, fontweight="bold")
        figure.text(
            0.01,
            1 - 0.75 / (rows * 0.55 + 1.2),
            f"The template's widgets with {parameters}, "
            "in their places on CloudWatch's 24-column grid; one run lasts seconds, so each metric has "
            "one period. AWS/Lambda and AWS/SQS metrics come from AWS and are left empty.",
            fontsize=9,
            color="#333333",
        )
        for panel in panels:
            _draw_panel(figure, panel, rows, top)
        figure.savefig(output, format="png", metadata={"Software": None})


def shown(path: Path) -> Path:
    """A path as the picture names it: from the repository's root when inside it."""
    whole = path.resolve()
    return whole.relative_to(ROOT) if whole.is_relative_to(ROOT) else path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, default=[ROOT / "demo" / "trails"])
    parser.add_argument("-o", "--output", type=Path, default=ROOT / "docs" / "images" / "dashboard-preview.png")
    parser.add_argument("--template", type=Path, default=ROOT / "template.yaml")
    parser.add_argument("--services", default=",".join(DEFAULT_SERVICES), help="WatchedServices (default: support)")
    args = parser.parse_args(argv)
    widgets = dashboard_widgets(args.template, {"WatchedServices": args.services})
    run = " ".join(str(shown(path)) for path in args.paths)
    watched = parse_services(args.services)
    parameters = f"WatchedServices={','.join(watched)}" if extended(watched) else "its default parameters"
    if extended(watched):
        run += f" --services {','.join(watched)}"
    draw(preview_panels(widgets, emitted_documents(args.paths, args.services)), args.output, run, parameters)
    print(args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
