"""Reading template.yaml: CloudFormation's YAML tags and the intrinsic functions the local stack needs.

`supportwatch local` builds its resources from the template's own properties, so the embedded AWS
and a deployed stack cannot drift apart.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

NO_VALUE = object()
_SUB_VARIABLE = re.compile(r"\$\{([^!}][^}]*)\}")


class TemplateError(ValueError):
    """The template lacks something the local stack needs, or uses what it cannot resolve."""


class _CfnLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """SafeLoader that reads `!Ref x` as {"Ref": x}, `!Condition c` as {"Condition": c} and `!Sub ...` as
    {"Fn::Sub": ...}; libyaml's when PyYAML has it (a tenth of the pure-Python parser's time: every
    `local`, `sandbox` and test stack reads the template)."""


def _construct_tag(loader: _CfnLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix in ("Ref", "Condition"):  # not Fn:: functions
        return {suffix: value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _construct_tag)


def load_template(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as stream:
        template = yaml.load(stream, Loader=_CfnLoader)  # a SafeLoader subclass
    if not isinstance(template, dict) or not isinstance(template.get("Resources"), dict):
        raise TemplateError(f"{path}: not a CloudFormation template (no Resources)")
    return template


class Resolver:
    """Evaluates intrinsic functions with parameter defaults, pseudo parameters and known resources."""

    def __init__(
        self,
        template: Mapping[str, Any],
        refs: Mapping[str, str],
        attributes: Mapping[tuple[str, str], str] | None = None,
        parameters: Mapping[str, str] | None = None,
    ) -> None:
        self.template = template
        defaults = {name: str(spec.get("Default", "")) for name, spec in template.get("Parameters", {}).items()}
        self.refs = {**defaults, **(parameters or {}), **refs}
        self.attributes = dict(attributes or {})

    def condition(self, name: str) -> bool:
        conditions = self.template.get("Conditions", {})
        if name not in conditions:
            raise TemplateError(f"unknown condition {name}")
        return bool(self.resolve(conditions[name]))

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [item for item in map(self.resolve, value) if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((function, argument),) = value.items()
            if function == "Ref" or function.startswith("Fn::") or function == "Condition":
                return self._intrinsic(function, argument)
        resolved = {key: self.resolve(item) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not NO_VALUE}

    def _intrinsic(self, function: str, argument: Any) -> Any:
        match function:
            case "Ref":
                return self._ref(argument)
            case "Condition":
                return self.condition(argument)
            case "Fn::If":
                name, when_true, when_false = argument
                return self.resolve(when_true if self.condition(name) else when_false)
            case "Fn::Equals":
                left, right = (self.resolve(item) for item in argument)
                return str(left) == str(right)
            case "Fn::Not":
                return not self.resolve(argument[0])
            case "Fn::And":
                return all(self.resolve(item) for item in argument)
            case "Fn::Or":
                return any(self.resolve(item) for item in argument)
            case "Fn::Sub":
                return self._sub(argument)
            case "Fn::Join":
                separator, items = argument
                return separator.join(str(item) for item in self.resolve(items))
            case "Fn::Split":
                separator, text = argument
                return str(self.resolve(text)).split(separator)
            case "Fn::GetAtt":
                return self._get_att(*self.resolve(argument))
        raise TemplateError(f"{function} is not supported by the local stack")

    def _ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name not in self.refs:
            raise TemplateError(f"Ref {name}: not known to the local stack")
        return self.refs[name]

    def _get_att(self, resource: str, attribute: str) -> str:
        if (resource, attribute) not in self.attributes:
            raise TemplateError(f"GetAtt {resource}.{attribute}: not known to the local stack")
        return self.attributes[(resource, attribute)]

    def _sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else argument
        values = {name: self.resolve(value) for name, value in variables.items()}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in values:
                return str(values[name])
            if "." in name:
                return self._get_att(*name.split(".", 1))
            return str(self._ref(name))

        return _SUB_VARIABLE.sub(replace, text).replace("${!", "${")
