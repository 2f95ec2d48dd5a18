"""Scenario variants by dotted key path: ``committee.clear_threshold = 0.8``.

A path names a number in the scenario as a user reads the file: blocks by key, list items
by their ``id`` or ``name`` (or index), a distribution's parameter by its key
(``parent.reservation_bn.median``). A date takes a shift in days. Setting a number where
a distribution stands fixes that input at the number. The variant is validated like a
file, so an out-of-range value is the same one-line error.
"""

from __future__ import annotations

import copy
import datetime as dt
import difflib
from typing import Any

from pydantic import ValidationError

from sim.errors import ScenarioError
from sim.scenario.distributions import DISTRIBUTIONS
from sim.scenario.schema import Scenario

NUMERIC = (int, float)


def _document(scenario: Scenario) -> dict[str, Any]:
    return scenario.model_dump(mode="python", exclude_none=True)


def _children(node: Any) -> list[tuple[str, Any]]:
    if isinstance(node, dict):
        return [(str(k), v) for k, v in node.items()]
    if isinstance(node, list):
        return [(str(item.get("id") or item.get("name") or i), item)
                if isinstance(item, dict) else (str(i), item) for i, item in enumerate(node)]
    return []


def valid_paths(scenario: Scenario) -> dict[str, str]:
    """Every path a sweep may set, with what it holds (number, date or distribution)."""
    found: dict[str, str] = {}

    def walk(node: Any, path: str) -> None:
        if isinstance(node, bool):
            return
        if isinstance(node, NUMERIC):
            found[path] = "number"
        elif isinstance(node, dt.date):
            found[path] = "date (value: shift in days)"
        elif isinstance(node, dict) and node.get("dist") == "fixed":
            found[path] = "number"
        elif isinstance(node, dict) and "dist" in node:
            found[path] = f"{node['dist']} distribution (value: fixes it)"
            for key, value in node.items():
                if isinstance(value, NUMERIC) and not isinstance(value, bool):
                    found[f"{path}.{key}"] = f"parameter of {node['dist']}"
        else:
            for key, child in _children(node):
                walk(child, f"{path}.{key}" if path else key)

    walk(_document(scenario), "")
    return found


def check_path(scenario: Scenario, path: str, source: str = "sweep") -> None:
    paths = valid_paths(scenario)
    if path in paths:
        return
    close = difflib.get_close_matches(path, list(paths), n=1, cutoff=0.4)
    hint = f" (closest valid path: {close[0]})" if close else ""
    raise ScenarioError(f"{source}: {path}: no such number in scenario "
                        f"{scenario.name!r}{hint}")


def _locate(document: dict[str, Any], path: str) -> tuple[Any, str | int]:
    """The container holding the value at ``path``, and the value's key in it."""
    parts = path.split(".")
    node: Any = document
    for part in parts[:-1]:
        node = dict(_children(node))[part]
    last = parts[-1]
    if isinstance(node, list):
        index = next(i for i, (k, _) in enumerate(_children(node)) if k == last)
        return node, index
    return node, last


def apply(scenario: Scenario, values: dict[str, float], source: str = "sweep") -> Scenario:
    """The scenario with each path set to its value, validated."""
    if not values:
        return scenario
    document = copy.deepcopy(_document(scenario))
    for path, value in values.items():
        check_path(scenario, path, source)
        container, key = _locate(document, path)
        current = container[key]
        if isinstance(current, dt.date):
            container[key] = current + dt.timedelta(days=round(float(value)))
        else:
            container[key] = float(value)
    try:
        return Scenario.model_validate(document)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = [str(p) for p in error["loc"] if p not in DISTRIBUTIONS]
        if error["type"] == "scenario":
            loc.append(error["ctx"]["at"])
        where, message = ".".join(loc), error["msg"].removeprefix("Value error, ")
        setting = ", ".join(f"{k}={v:g}" for k, v in values.items())
        raise ScenarioError(f"{source}: {setting}: {where}: {message}") from None
