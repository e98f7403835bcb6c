"""All of doctor's checks over what was read, and the command's exit code (contract section 9)."""

from __future__ import annotations

from collections.abc import Sequence

from supportwatch.doctor.delivery import delivery_checks
from supportwatch.doctor.models import Check, Observed, Unread
from supportwatch.doctor.trails import coverage_check, trail_checks, unknown_regions

POLICY = "docs/doctor.md lists the policy"


def permission_checks(observed: Observed) -> list[Check]:
    """One warning per action doctor could not use: what it left unchecked, and the grant that fixes it."""
    first: dict[str, Unread] = {}
    targets: dict[str, set[str]] = {}
    for unread in observed.unread:
        first.setdefault(unread.action, unread)
        targets.setdefault(unread.action, set()).add(unread.target)
    checks = []
    for action, unread in sorted(first.items()):
        shown = ", ".join(sorted(targets[action])[:2]) + (" …" if len(targets[action]) > 2 else "")
        if unread.denied:
            checks.append(
                Check(
                    f"permission {action}",
                    "warn",
                    f"denied ({unread.code}) on {shown}: not checked",
                    f"allow {action} to the caller ({POLICY})",
                )
            )
        else:
            checks.append(
                Check(
                    f"read {action}",
                    "warn",
                    f"failed ({unread.code}) on {shown}: not checked",
                    "supportwatch doctor again (a transient error), else see AWS's error code",
                )
            )
    return checks


def diagnose(observed: Observed) -> list[Check]:
    """Trails, then delivery (with a stack), then what could not be read."""
    checks: list[Check] = []
    if observed.trails_read:
        bucket = observed.deployment.bucket if observed.deployment else "BUCKET"
        checks += trail_checks(observed)
        checks.append(coverage_check(observed, bucket))
        checks += delivery_checks(observed)
    return checks + permission_checks(observed)


def exit_code(checks: Sequence[Check], observed: Observed) -> int:
    """1: a check failed; 2: whether the calls are delivered could not be told (trails, their status or
    selectors unreadable); 0 otherwise, warnings included."""
    if any(check.status == "fail" for check in checks):
        return 1
    return 2 if not observed.trails_read or unknown_regions(observed) else 0
