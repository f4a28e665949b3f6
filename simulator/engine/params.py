"""Settings described as data: every number a run takes, with its sane range, in one place.

A :class:`Param` says what a setting is (its kind, range, default and a line of help) and
holds the function that checks a value of it. The engine validates with these descriptions
(``SimConfig``, ``TierConfig``, ``LatencyModel`` in ``config.py``; each workload generator's
parameters in ``workloads.py``), and every face of the lab is derived from the same tuples:
the web form's fields, the JSON Schema of the API (:func:`json_schema`), the command line's
flags and help. The ranges are documented for users in docs/parameters.md.

:class:`Problems` collects errors so that a validation reports every bad field at once.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import ConfigError, join_field
from .validation import INVALID, Problems


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


#: the default of a parameter that must be given
REQUIRED: Any = _Required()

#: kinds of parameters (they decide the JSON Schema, the form widget and the CLI type)
KINDS = ("int", "number", "fraction", "bool", "choice", "text", "tokens", "pair", "phases",
         "object")

Checker = Callable[["Param", Any, str], Any]


@dataclass(frozen=True)
class Param:
    """One setting: ``name``, ``kind`` (one of :data:`KINDS`), a line of ``help``, its
    ``default`` (:data:`REQUIRED` when it must be given), the range ``minimum``..``maximum``
    (for numbers; for ``tokens``/``pair`` the range of each size), ``choices`` (a tuple or a
    function returning one, for registries that grow), whether ``None`` is allowed
    (``nullable``; the help says what it means), a ``unit`` and a short ``label`` for forms.

    ``checker(param, value, field)`` validates a value and returns it normalised, raising
    :class:`ConfigError` that names ``field``.
    """

    name: str
    kind: str
    help: str
    checker: Checker
    default: Any = REQUIRED
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] | Callable[[], Sequence[str]] = ()
    nullable: bool = False
    exclusive_minimum: bool = False
    unit: str = ""
    label: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown parameter kind {self.kind!r}")

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    @property
    def title(self) -> str:
        """A short name for a person (the form's label)."""
        return self.label or self.name.replace("_", " ").capitalize()

    def options(self) -> list[str]:
        return list(self.choices() if callable(self.choices) else self.choices)

    def check(self, value: Any, field: str | None = None) -> Any:
        """``value`` checked and normalised (``None`` passes when ``nullable``)."""
        if value is None and self.nullable:
            return None
        return self.checker(self, value, field or self.name)

    # --- text for people ------------------------------------------------------------------

    def range_text(self) -> str:
        """``"1 to 10,000,000"``, ``"at least 0"``, ``""`` when unbounded or not a number."""
        low, high = self.minimum, self.maximum
        if self.kind in ("text", "phases"):
            what = "characters" if self.kind == "text" else "phases"
            return f"at most {figure(high or 200)} {what}"
        if low is None and high is None:
            return ""
        if (low, high) == (-(2**63), 2**63 - 1):
            return "any 64-bit integer"
        shown = [figure(x) if x is not None else None for x in (low, high)]
        if low is not None and high is not None:
            above = "above" if self.exclusive_minimum else "from"
            return f"{above} {shown[0]} to {shown[1]}"
        if low is not None:
            return f"{'above' if self.exclusive_minimum else 'at least'} {shown[0]}"
        return f"at most {shown[1]}"

    def describe(self) -> str:
        """The help line with the unit and the range, e.g. for ``--help`` and form help."""
        parts = [self.help.rstrip(".")]
        limits = self.range_text()
        if limits:
            parts.append(f"{limits}{' ' + self.unit if self.unit else ''}")
        return "; ".join(parts) + "."

    # --- JSON Schema ----------------------------------------------------------------------

    def json_schema(self) -> dict[str, Any]:
        """The JSON Schema (2020-12, as OpenAPI 3.1 uses it) of a value of this parameter."""
        schema = _SCHEMAS[self.kind](self)
        if self.nullable:
            schema = {"anyOf": [schema, {"type": "null"}]}
        schema["description"] = self.describe()
        if not self.required and _plain_json(self.default):
            schema["default"] = list(self.default) if isinstance(self.default, tuple) \
                else self.default
        return schema


def figure(x: float) -> str:
    """A bound for people: ``10,000,000``, ``0.5``."""
    if isinstance(x, int):
        return f"{x:,}"
    return f"{int(x):,}" if x.is_integer() and abs(x) < 1e16 else f"{x:g}"


def _plain_json(value: Any) -> bool:
    if value is None or isinstance(value, bool | int | str):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, tuple | list):
        return all(_plain_json(item) for item in value)
    return False


def _bounded(schema: dict[str, Any], param: Param) -> dict[str, Any]:
    if param.minimum is not None:
        schema["exclusiveMinimum" if param.exclusive_minimum else "minimum"] = param.minimum
    if param.maximum is not None:
        schema["maximum"] = param.maximum
    return schema


def _size_schema(param: Param) -> dict[str, Any]:
    return _bounded({"type": "integer"}, param)


def _pair_schema(param: Param) -> dict[str, Any]:
    return {"type": "array", "items": _size_schema(param), "minItems": 2, "maxItems": 2,
            "description": "[min, max]"}


_SCHEMAS: dict[str, Callable[[Param], dict[str, Any]]] = {
    "int": lambda p: _bounded({"type": "integer"}, p),
    "number": lambda p: _bounded({"type": "number"}, p),
    "fraction": lambda p: {"type": "number", "minimum": 0, "maximum": 1},
    "bool": lambda p: {"type": "boolean"},
    "choice": lambda p: {"enum": p.options()},
    "text": lambda p: {"type": "string", "maxLength": int(p.maximum or 200)},
    "tokens": lambda p: {"oneOf": [_size_schema(p), _pair_schema(p)]},
    "pair": _pair_schema,
    "phases": lambda p: {
        "type": "array", "minItems": 1, "maxItems": int(p.maximum or 100),
        "items": {"oneOf": [
            {"type": "array", "minItems": 2, "maxItems": 3,
             "items": {"type": "number"}, "description": "[n_pages, n_accesses, alpha]"},
            {"type": "object", "required": ["n_pages", "n_accesses"],
             "additionalProperties": False,
             "properties": {"n_pages": {"type": "integer", "minimum": 1},
                            "n_accesses": {"type": "integer", "minimum": 0},
                            "alpha": {"type": "number", "minimum": 0}}},
        ]},
    },
    "object": lambda p: {"type": "object"},
}


def json_schema(params: Iterable[Param], *, title: str = "",
                extra: Mapping[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """The JSON Schema of an object made of ``params`` (unknown keys refused)."""
    params = list(params)
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {p.name: p.json_schema() for p in params},
        "additionalProperties": False,
    }
    schema["properties"].update(extra or {})
    required = [p.name for p in params if p.required]
    if required:
        schema["required"] = required
    if title:
        schema["description"] = title
    return schema


def check_object(params: Sequence[Param], data: Any, *, where: str | None = None,
                 problems: Problems, unknown: Callable[[list[str]], ConfigError] | None = None,
                 ) -> dict[str, Any]:
    """Check the mapping ``data`` against ``params``: unknown keys, missing required ones and
    every value given. Returns the values that passed (defaults are not filled in); the
    problems go to ``problems`` with fields under ``where``."""
    if not isinstance(data, Mapping):
        problems.add(f"expected an object, got {type(data).__name__}", where)
        return {}
    by_name = {p.name: p for p in params}
    extra = sorted(str(key) for key in data if key not in by_name)
    if extra:
        if unknown is not None:
            problems.errors.append(unknown(extra))
        else:
            problems.add(f"unknown setting(s) {', '.join(extra)}; known: "
                         f"{', '.join(by_name)}", join_field(where, extra[0]))
    checked: dict[str, Any] = {}
    for param in params:
        field = join_field(where, param.name)
        if param.name not in data:
            if param.required:
                problems.add("is required", field)
            continue
        value = problems.check(param.check, data[param.name], field)
        if value is not INVALID:
            checked[param.name] = value
    return checked


def check_all(pairs: Iterable[tuple[Param, Any]], where: str | None = None) -> list[Any]:
    """Check several (param, value) pairs, raising every problem at once."""
    problems = Problems()
    values = [problems.check(param.check, value, join_field(where, param.name))
              for param, value in pairs]
    problems.raise_any()
    return values


def show(value: Any) -> str:
    """A value in an error message, cut to 40 characters (it may be anything a user sent)."""
    try:
        text = repr(value)
    except ValueError:  # an int too long to print
        text = f"<{type(value).__name__}>"
    return text if len(text) <= 40 else text[:37] + "..."


def markdown_rows(params: Iterable[Param]) -> list[str]:
    """One row of a Markdown table per parameter: name, range, default, meaning (how
    docs/parameters.md shows them; a test keeps that page equal to the descriptions)."""
    rows = []
    for param in params:
        default = "required" if param.required else (
            "—" if param.default is None else f"`{json_text(param.default)}`")
        if callable(param.choices):  # a registry that grows (policies): named elsewhere
            limits = "a registered name"
        else:
            limits = param.range_text() or ", ".join(f"`{o}`" for o in param.options()) or "—"
        if param.unit and param.range_text() and param.kind not in ("text", "phases"):
            limits += f" {param.unit}"
        meaning = param.help.replace("|", "\\|")
        rows.append(f"| `{param.name}` | {limits} | {default} | {meaning} |")
    return rows


def json_text(value: Any) -> str:
    """A default as JSON writes it (tuples as lists)."""
    import json

    return json.dumps(list(value) if isinstance(value, tuple) else value)
