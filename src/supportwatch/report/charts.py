"""The report's charts: matplotlib figures rendered as inline SVG with a text alternative.

Colours are the Okabe-Ito palette (told apart with any colour vision); text stays text (no glyph
paths, no web fonts) and mathtext is off, so a `$` in a name is printed, never parsed.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from html import escape

import matplotlib
from matplotlib.axes import Axes
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure  # drawn without pyplot: no GUI backend, no global figure state

OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
STYLE = {
    "svg.fonttype": "none",  # text as <text>, in the page's own sans-serif font
    "svg.hashsalt": "supportwatch",  # stable element ids: the same data gives the same file
    "text.parse_math": False,
    "font.family": "sans-serif",
    "font.size": 9,
    "axes.prop_cycle": matplotlib.cycler(color=OKABE_ITO),
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.grid.axis": "y",
    "grid.color": "#dddddd",
}
_PROLOGUE = re.compile(r"^.*?(?=<svg\b)", re.DOTALL)  # the XML declaration and DOCTYPE
_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.DOTALL)  # RDF that names matplotlib
_ROOT = re.compile(r"<svg\b([^>]*)>")


@dataclass(frozen=True, slots=True)
class Chart:
    """One chart: its inline SVG and what it shows, in words."""

    ident: str
    title: str
    description: str
    svg: str


def _svg(figure: Figure, ident: str, title: str, description: str) -> str:
    """The figure as an `<svg>` element labelled by its own <title> and <desc>."""
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": ident}):
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None}, bbox_inches="tight")
    svg = _METADATA.sub("", _PROLOGUE.sub("", buffer.getvalue(), count=1), count=1)
    label = f'<title id="{ident}-title">{escape(title)}</title><desc id="{ident}-desc">{escape(description)}</desc>'
    attributes = f' role="img" aria-labelledby="{ident}-title {ident}-desc"'
    return _ROOT.sub(lambda match: f"<svg{match.group(1)}{attributes}>{label}", svg, count=1)


def _axes(height: float = 2.6) -> tuple[Figure, Axes]:
    figure = Figure(figsize=(8, height), layout="constrained")
    axes = figure.subplots()
    axes.xaxis.set_major_locator(locator := AutoDateLocator(minticks=2, maxticks=10))
    axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    return figure, axes


def _legend(axes: Axes) -> None:
    """Above the plot, where it hides no bar (the section's heading is the chart's title)."""
    axes.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncols=3, frameon=False)


def _width(starts: Sequence[date]) -> float:
    """Bar width in days: the spacing of the buckets, a little narrower."""
    return 0.8 * ((starts[1] - starts[0]).days if len(starts) > 1 else 1)


def active_chart(starts: Sequence[date], identities: Sequence[int], principals: Sequence[int], by: str) -> Chart:
    title = f"Active identities and principals per {by}"
    with matplotlib.rc_context(STYLE):
        figure, axes = _axes()
        half = _width(starts) / 2
        axes.bar(starts, identities, width=half, align="edge", label="identities")
        offset = [start + timedelta(days=half) for start in starts]
        axes.bar(offset, principals, width=half, align="edge", label="principals (the sessions of a role count once)")
        axes.set_ylabel("active")
        axes.yaxis.get_major_locator().set_params(integer=True)
        _legend(axes)
        peak = max(range(len(starts)), key=lambda i: identities[i])
        description = (
            f"{len(starts)} {by}s from {starts[0]} to {starts[-1]}; at most {identities[peak]} identities "
            f"(the {by} of {starts[peak]}) and {max(principals)} principals were active in one {by}."
        )
        return Chart("active", title, description, _svg(figure, "active", title, description))


def calls_chart(
    starts: Sequence[date], series: dict[str, list[int]], by: str, stacked_by: str = "event name", ident: str = "calls"
) -> Chart:
    """Calls per bucket, one bar part per key of `series` (an event name, or a service's label)."""
    title = f"Calls per {by}, stacked by {stacked_by}"
    with matplotlib.rc_context(STYLE):
        figure, axes = _axes()
        bottom = [0] * len(starts)
        for name, counts in series.items():
            axes.bar(starts, counts, width=_width(starts), bottom=bottom, label=name, align="edge")
            bottom = [low + count for low, count in zip(bottom, counts, strict=True)]
        axes.set_ylabel("calls")
        axes.yaxis.get_major_locator().set_params(integer=True)
        _legend(axes)
        totals = ", ".join(f"{name}: {sum(counts)}" for name, counts in series.items())
        busiest = max(range(len(starts)), key=lambda i: bottom[i])
        description = (
            f"{sum(bottom)} calls from {starts[0]} to {starts[-1]} ({totals}); the busiest {by}, "
            f"{starts[busiest]}, had {bottom[busiest]}."
        )
        return Chart(ident, title, description, _svg(figure, ident, title, description))
