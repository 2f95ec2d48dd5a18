"""Where a validation error is in the file: its line and dotted key path, and the line a
user reads (``path:line: key.path: problem (allowed: ...)``)."""

from __future__ import annotations

import typing
from typing import Any

import yaml
from pydantic import BaseModel
from pydantic_core import ErrorDetails

from sim.scenario.distributions import DISTRIBUTIONS
from sim.scenario.schema import Block, Scenario
from sim.scenario.yaml_tree import NamedList, item_id, quoted_key, shown


def locate(root: yaml.Node, loc: tuple[str | int, ...]) -> tuple[int, str]:
    """The line and dotted key path of the deepest part of ``loc`` present in the file."""
    _, line, dotted = trace(root, loc)
    return line, dotted


def trace(root: yaml.Node, loc: tuple[str | int, ...]) -> tuple[str, int, str]:
    """The file, line and dotted key path of the deepest part of ``loc`` present in the
    (possibly merged) tree: with ``extends``, the file each key came from."""
    node, line, parts = root, root.start_mark.line + 1, []
    where = root.start_mark.name
    for part in loc:
        child = None
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            child = next((v for k, v in node.value if str(k.value) == part), None)
            key_node = next((k for k, _ in node.value if str(k.value) == part), None)
            if key_node is not None:
                line, where = key_node.start_mark.line + 1, key_node.start_mark.name
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            child = node.value[part] if part < len(node.value) else None
            if child is not None:
                line, where = child.start_mark.line + 1, child.start_mark.name
        if child is None:
            if isinstance(part, str) and part not in DISTRIBUTIONS:
                parts.append(quoted_key(part))  # a missing key: name it, point at its parent
            continue  # a distribution's type tag is no key of the file
        if isinstance(node, NamedList) and isinstance(part, int):
            part = item_id(child, node.ident) or part
            parts.append(f"[{part}]")
        else:
            parts.append(f"[{part}]" if isinstance(part, int) else quoted_key(part))
        node = child
    dotted = ".".join(parts).replace(".[", "[") or "(top level)"
    return where, line, dotted


def _model_at(loc: tuple[str | int, ...]) -> type[BaseModel] | None:
    """The schema block or distribution that ``loc`` points into, to list its keys."""
    model: type[BaseModel] | None = Scenario
    for part in loc:
        if isinstance(part, str) and part in DISTRIBUTIONS:
            model = DISTRIBUTIONS[part]
        elif model is not None and isinstance(part, str) and part in model.model_fields:
            model = _find_model(model.model_fields[part].annotation)
    return model


def _find_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, Block):
        return annotation
    for arg in typing.get_args(annotation):
        found = _find_model(arg)
        if found is not None:
            return found
    return None




# Keys model v2 replaced, by (block, key) as the schema sees them: what a v1 file must change.
V1_KEYS = {
    ("", "deadlines"): "deadlines are now instruments (each with a kind: service_ban, "
                       "divestiture_order, transaction_termination or lapse; an enforcement "
                       "block; optional tiers and court)",
    ("court", "sue_probability"): "who sues is now court.plaintiffs (each with its "
                                  "sue_probability and files_day)",
    ("court", "injunction_days"): "an injunction now lasts until an appeal reverses it "
                                  "(court.appeal_probability, appeal_days, reversal_probability)",
    ("president", "follows_recommendation_probability"): "the president now chooses by "
        "president.on_clear and on_block (block, nothing, in_concept; approve is the rest)",
    ("instruments", "on_expiry"): "what expiry does is now the instrument's kind "
                                  "(service_ban, divestiture_order, transaction_termination, "
                                  "lapse)",
    ("instruments", "extension"): "extensions are now enforcement.extend (a chance by the "
                                  "deal's stage), extension_days and max_extensions",
    ("bidders", "us_share"): "the buyers' share is now terms.parent_stake, the stake the "
                             "parent keeps (1 - us_share)",
    ("instruments", "enforcement_probability"): "not enforcing is now enforcement.lapse and "
                                                "enforcement.forbear, by the deal's stage",
}


def _v1quoted_key(loc: tuple[str | int, ...]) -> str | None:
    names = [p for p in loc if isinstance(p, str)]
    block = names[-2] if len(names) > 1 else ""
    return V1_KEYS.get((block, names[-1])) if names else None


def describe(error: ErrorDetails, root: yaml.Node, source: str) -> str:
    loc = tuple(error["loc"])
    kind, ctx = error["type"], error.get("ctx") or {}
    message = error["msg"].removeprefix("Value error, ")
    if kind == "scenario":
        loc = loc + tuple(int(p) if p.isdigit() else p for p in ctx["at"].split("."))
        message = ctx["message"]
    elif kind == "extra_forbidden" and (moved := _v1quoted_key(loc)):
        message = f"a key of an earlier model: {moved} (see docs/scenario-format.md, 'From v1')"
    elif kind == "extra_forbidden":
        model = _model_at(loc[:-1])
        allowed = ", ".join(model.model_fields) if model else "see docs/scenario-format.md"
        message = f"unknown key (allowed: {allowed})"
    elif kind == "missing":
        message = "required key is missing"
    elif kind == "literal_error":
        message = f"{shown(error['input'])} is not allowed (allowed: {ctx['expected']})"
    elif kind == "union_tag_invalid":
        tag = str(ctx["tag"])
        tag = tag if len(tag) <= 80 else tag[:60] + "…"
        message = f"unknown distribution {tag} (allowed: {ctx['expected_tags']})"
    elif "input" in error and not isinstance(error["input"], dict | list):
        message = f"{message} (got {shown(error['input'])})"
    where, line, dotted = trace(root, loc)
    return f"{where}:{line}: {dotted}: {message}"

