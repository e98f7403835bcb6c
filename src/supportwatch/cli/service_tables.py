"""`query`'s tables by service and by Bedrock model, when more than `support` is watched (contract
section 12): a calls column per service beside each identity, and a period's breakdown under its tables."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from supportwatch.cli.render import Column, clip, print_table
from supportwatch.models import Summary
from supportwatch.report.breakdown import listed, service_use, services_of, top_models
from supportwatch.report.insights import Period

CALLS, IDENTITIES = Column("CALLS", right=True), Column("IDENTITIES", right=True)


def service_columns(watched: tuple[str, ...], summaries: Sequence[Summary]) -> tuple[list[Column], list[list[str]]]:
    """A calls column per service (watched, or held by the summaries) and each summary's cells in them."""
    names = listed(watched, (name for summary in summaries for name in services_of(summary)))
    columns = [Column(name.upper(), right=True) for name in names]
    return columns, [[str(services_of(summary).get(name, 0)) for name in names] for summary in summaries]


def print_breakdown(period: Period, watched: tuple[str, ...], wide: bool, models: int | None = None) -> None:
    """The period per service (calls, active identities and days), then its top `models` Bedrock models."""
    rows = [
        [use.label, str(use.calls), str(use.identities), str(use.active_days)] for use in service_use(period, watched)
    ]
    sys.stdout.write("\n")
    print_table([Column("SERVICE"), CALLS, IDENTITIES, Column("DAYS", right=True)], rows, wide)
    if ranked := top_models(period, models):
        rows = [[model.model, str(model.calls), str(model.identities)] for model in ranked]
        sys.stdout.write("\n")
        print_table([Column("BEDROCK MODEL", shrink=clip, least=24), CALLS, IDENTITIES], rows, wide)
