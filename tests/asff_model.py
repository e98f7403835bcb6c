"""Checks a finding against botocore's own Security Hub model: the AwsSecurityFinding shape walked
member by member (required members, no unknown ones, types, min/max lengths, enums, patterns), and
botocore's ParamValidator on the BatchImportFindings request that carries it."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import botocore.session
from botocore.model import ServiceModel, Shape
from botocore.validate import ParamValidator

TYPES = {"string": str, "integer": int, "long": int, "double": (int, float), "boolean": bool}


@cache
def model() -> ServiceModel:
    return botocore.session.get_session().get_service_model("securityhub")


def _limits(shape: Shape, size: int, where: str) -> list[str]:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if (low is not None and size < low) or (high is not None and size > high):
        return [f"{where}: size {size} outside [{low}, {high}]"]
    return []


def problems(value: Any, shape: Shape | None = None, where: str = "finding") -> list[str]:
    """What in `value` the model refuses (empty: valid)."""
    shape = shape or model().shape_for("AwsSecurityFinding")
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            return [f"{where}: not an object"]
        found = [f"{where}: {name} is required" for name in shape.required_members if name not in value]
        for name, member in value.items():
            if name not in shape.members:
                found.append(f"{where}: unknown member {name}")
            else:
                found += problems(member, shape.members[name], f"{where}.{name}")
        return found
    if kind == "list":
        if not isinstance(value, list):
            return [f"{where}: not a list"]
        found = _limits(shape, len(value), where)
        for number, item in enumerate(value):
            found += problems(item, shape.member, f"{where}[{number}]")
        return found
    if kind == "map":
        if not isinstance(value, dict):
            return [f"{where}: not a map"]
        found = _limits(shape, len(value), where)
        for key, item in value.items():
            found += problems(key, shape.key, f"{where} key {key!r}") + problems(item, shape.value, f"{where}[{key}]")
        return found
    if not isinstance(value, TYPES[kind]):
        return [f"{where}: not a {kind}"]
    if kind != "string":
        return []
    found = _limits(shape, len(value), where)
    if shape.enum and value not in shape.enum:
        found.append(f"{where}: {value!r} not one of {shape.enum}")
    if (pattern := shape.metadata.get("pattern")) and not re.fullmatch(pattern, value):
        found.append(f"{where}: {value!r} does not match {pattern}")
    return found


def request_problems(findings: list[dict[str, Any]]) -> str:
    """botocore's own validation of a BatchImportFindings request holding `findings` ('' when valid)."""
    shape = model().operation_model("BatchImportFindings").input_shape
    report = ParamValidator().validate({"Findings": findings}, shape)
    return report.generate_report() if report.has_errors() else ""


def invalid(findings: list[dict[str, Any]]) -> list[str]:
    """Everything the model refuses in `findings`, each finding on its own and in one request."""
    found = [problem for item in findings for problem in problems(item)]
    return found + ([request_problems(findings)] if findings and request_problems(findings) else [])
