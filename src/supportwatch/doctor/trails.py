"""Trail checks: does a logging trail deliver the watched services' calls in every region (pure)."""

from __future__ import annotations

import shlex
from collections.abc import Callable, Sequence

from supportwatch.doctor.models import Check, Observed, Status, Trail
from supportwatch.doctor.selectors import fixed, logged_kinds, verdict
from supportwatch.services import SERVICES

Services = Sequence[str]


def reach(trail: Trail, services: Services) -> str:
    """`all`, `some` or `none` of the calls, or `unknown` when the trail's selectors could not be read."""
    return verdict(trail.selectors, services).reach if trail.selectors is not None else "unknown"


def _logs(trail: Trail) -> bool:
    """The trail logs and delivers without error."""
    status = trail.status
    return bool(status and status.logging and not status.delivery_error)


def delivering(trail: Trail, services: Services) -> bool:
    """The trail logs, delivers without error and selects every call of the watched services."""
    return _logs(trail) and reach(trail, services) == "all"


def delivers_some(trail: Trail, services: Services) -> bool:
    """The trail delivers every call of at least one of the watched services."""
    return any(delivering(trail, (service,)) for service in services)


def covers(trail: Trail, region: str) -> bool:
    return trail.multi_region or trail.home_region == region


def _cli(trail: Trail, command: str, *options: str) -> str:
    return shlex.join(["aws", "cloudtrail", command, "--region", trail.home_region, *options])


def _owner(trail: Trail) -> str:
    return " (organization trail: change it from the management account)" if trail.organization else ""


def _gap(trail: Trail, observed: Observed) -> bool:
    """No other trail delivers the calls of a watched service this trail misses, in some region it would cover."""
    regions = [region for region in observed.regions if covers(trail, region)]
    for service in (s for s in observed.services if not delivering(trail, (s,))):
        others = [other for other in observed.trails if other is not trail and delivering(other, (service,))]
        if any(not any(covers(other, region) for other in others) for region in regions):
            return True
    return False


def trail_checks(observed: Observed) -> list[Check]:
    """Per trail: its selectors, logging and log file validation."""
    checks: list[Check] = []
    for trail in sorted(observed.trails, key=lambda t: (t.name, t.arn)):
        severity: Status = "fail" if _gap(trail, observed) else "warn"
        checks += _rows(trail, severity, observed.services)
        if _seen(trail, observed.services):
            checks.append(_validation(trail, f"trail {trail.name}"))
    return checks


def _seen(trail: Trail, services: Services) -> bool:
    """The trail's selectors let through some call of some watched service."""
    return any(reach(trail, (service,)) in ("all", "some") for service in services)


def _rows(trail: Trail, severity: Status, services: Services) -> list[Check]:
    """The trail's selectors and logging checks, where they could be read."""
    rows = [_events(trail, f"trail {trail.name}", severity, services)] if trail.selectors is not None else []
    return rows + ([_logging(trail, f"trail {trail.name}", severity)] if trail.status is not None else [])


def _repair(trail: Trail, services: Services) -> str:
    """The first fix the trail needs to deliver the calls."""
    return next((row.fix for row in _rows(trail, "fail", services) if row.status != "pass"), "")


def _events(trail: Trail, name: str, severity: Status, services: Services) -> Check:
    assert trail.selectors is not None
    found = verdict(trail.selectors, services)
    if found.reach == "all":
        scope = ("organization, " if trail.organization else "") + (
            "all regions" if trail.multi_region else f"{trail.home_region} only"
        )
        return Check(f"{name} events", "pass", f"logs {logged_kinds(services)} management events ({scope})")
    option, document = fixed(trail.selectors, services)
    return Check(
        f"{name} events",
        severity if found.reach == "none" else "warn",
        f"{found.reason}{_owner(trail)}",
        _cli(trail, "put-event-selectors", "--trail-name", trail.name, option, document),
    )


def _logging(trail: Trail, name: str, severity: Status) -> Check:
    status = trail.status
    assert status is not None
    if not status.logging:
        return Check(
            f"{name} logging",
            severity,
            f"stopped (IsLogging false): nothing is delivered{_owner(trail)}",
            _cli(trail, "start-logging", "--name", trail.name),
        )
    if status.delivery_error:
        return Check(
            f"{name} logging",
            severity,
            f"delivery to s3://{trail.bucket} fails: {status.delivery_error}",
            f"let cloudtrail.amazonaws.com s3:PutObject into s3://{trail.bucket}/{trail.key_root}* "
            "(bucket policy, docs/doctor.md)",
        )
    when = f", last delivery {status.latest_delivery:%Y-%m-%d %H:%M} UTC" if status.latest_delivery else ""
    return Check(f"{name} logging", "pass", f"logging to s3://{trail.bucket}/{trail.key_root}{when}")


def _validation(trail: Trail, name: str) -> Check:
    if trail.validation:
        return Check(f"{name} validation", "pass", "log file validation on (digests for supportwatch verify)")
    return Check(
        f"{name} validation",
        "warn",
        "log file validation off: supportwatch verify cannot prove the logs unchanged",
        _cli(trail, "update-trail", "--name", trail.name, "--enable-log-file-validation"),
    )


def _where(observed: Observed, test: Callable[[Trail], bool]) -> list[str]:
    """The regions covered by a trail that passes `test`."""
    return [r for r in observed.regions if any(test(t) and covers(t, r) for t in observed.trails)]


def _served(observed: Observed, reaches: tuple[str, ...] = ("all",)) -> dict[str, set[str]]:
    """Per watched service, the regions where a logging trail delivers all (or, with "some", some) of its calls."""
    return {
        service: set(_where(observed, lambda t, s=service: _logs(t) and reach(t, (s,)) in reaches))
        for service in observed.services
    }


def _everywhere(observed: Observed, served: dict[str, set[str]]) -> list[str]:
    """The regions where every watched service is served."""
    return [r for r in observed.regions if all(r in regions for regions in served.values())]


def unknown_regions(observed: Observed) -> list[str]:
    """Regions no trail is known to cover, where a trail whose status or selectors were unread might."""
    covered = _everywhere(observed, _served(observed, ("all", "some")))
    unread = _where(observed, lambda t: t.status is None or t.selectors is None)
    return [r for r in unread if r not in covered]


def coverage_check(observed: Observed, bucket: str = "BUCKET") -> Check:
    """Every region has a trail delivering every call: pass; some regions or calls only: warn; none: fail."""
    regions = observed.regions
    services = observed.services
    full = _everywhere(observed, _served(observed))
    partial = [r for r in _everywhere(observed, _served(observed, ("all", "some"))) if r not in full]
    unknown = unknown_regions(observed)
    missing = [r for r in regions if r not in full and r not in partial and r not in unknown]
    if missing:
        return _missing(observed, missing, "warn" if full or partial else "fail", bucket)
    if partial:
        trail = next(t for t in observed.trails if _logs(t) and any(reach(t, (s,)) == "some" for s in services))
        detail = f"selectors of {trail.name} may drop some calls in {len(partial)} regions: {_regions(partial)}"
        return Check("regions", "warn", detail, _repair(trail, services))
    if unknown:
        return Check("regions", "warn", f"could not tell for {len(unknown)} regions: {_regions(unknown)}")
    names = sorted({t.name for t in observed.trails if delivers_some(t, services)})
    return Check("regions", "pass", f"all {len(regions)} regions delivered by {', '.join(names)}")


def _missing(observed: Observed, missing: Sequence[str], status: Status, bucket: str) -> Check:
    services = observed.services
    served = _served(observed)
    missed = [SERVICES[service].source for service in services if set(missing) - served[service]]
    detail = f"{', '.join(missed)} calls not delivered in {len(missing)} of {len(observed.regions)} regions: "
    detail += _regions(missing)
    single = [t for t in observed.trails if delivering(t, services) and not t.multi_region]
    broken = sorted((t for t in observed.trails if any(covers(t, r) for r in missing)), key=lambda t: t.name)
    if single:
        detail += f" ({single[0].name} covers {single[0].home_region} only)"
        fix = _cli(single[0], "update-trail", "--name", single[0].name, "--is-multi-region-trail")
    elif repairs := [repair for t in broken if (repair := _repair(t, services))]:
        fix = repairs[0]
    else:
        create = ["aws", "cloudtrail", "create-trail", "--name", "supportwatch", "--s3-bucket-name", bucket]
        options = ["--is-multi-region-trail", "--enable-log-file-validation"]
        fix = f"{shlex.join(create + options)} && aws cloudtrail start-logging --name supportwatch"
    return Check("regions", status, detail, fix)


def _regions(regions: Sequence[str]) -> str:
    return ", ".join(regions[:4]) + (f" and {len(regions) - 4} more" if len(regions) > 4 else "")
