"""The scenario file: its schema (pydantic, frozen, unknown keys rejected) and its loader.

A scenario is everything one replication needs to know, one block per actor. Every number
may be a constant or a distribution (``sim.distributions``), checked against the range
that makes sense for it. The loader reads YAML safely and turns any problem into one
``ScenarioError`` line: ``path:line: key.path: problem (allowed: ...)``.
"""

from __future__ import annotations

import datetime as dt
import typing
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from sim.distributions import (
    DISTRIBUTIONS,
    Days,
    Dist,
    Exponent,
    Money,
    PositiveDays,
    Probability,
    Share,
)
from sim.limits import MAX_BIDDERS, MAX_DEADLINES, MAX_FILE_BYTES, MAX_HORIZON_DAYS

Structure = Literal["full_acquisition", "majority", "minority_partnership"]
STRUCTURES: tuple[Structure, ...] = typing.get_args(Structure)
Name = Annotated[str, Field(min_length=1, max_length=120)]
Identifier = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_\-]*$", max_length=60)]



def _fail(loc: tuple[str | int, ...], message: str) -> typing.NoReturn:
    """Raise a cross-field problem with the key path it belongs to (pydantic gives none)."""
    raise PydanticCustomError("scenario", "{message}",
                              {"message": message, "at": ".".join(map(str, loc))})


class Block(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class Court(Block):
    """Whether enforcement is stopped in court: the parent sues, a judge may enjoin."""

    sue_probability: Probability = 1.0
    injunction_probability: Probability = 0.0
    injunction_days: PositiveDays | None = None  # None: lasts past the horizon


class Extension(Block):
    """The issuing authority's choice to push a deadline back instead of enforcing."""

    probability_if_deal_in_progress: Probability = 0.0
    probability_otherwise: Probability = 0.0
    days: PositiveDays = 30.0
    max_extensions: Annotated[int, Field(ge=0, le=20)] = 0
    max_total_days: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None

    @model_validator(mode="after")
    def _reachable(self) -> Extension:
        chance = (self.probability_if_deal_in_progress.support()[1],
                  self.probability_otherwise.support()[1])
        if self.max_extensions == 0 and max(chance) > 0:
            _fail(("max_extensions",), "is 0, so the extension probabilities would never "
                                       "apply (allowed: 1 to 20)")
        return self


class Deadline(Block):
    id: Identifier
    date: dt.date
    on_expiry: Literal["ban", "lapse"] = "ban"
    enforcement_probability: Probability = 1.0
    extension: Extension = Extension()
    court: Court | None = None  # None: the scenario's court block


class Parent(Block):
    name: Name
    reservation_bn: Money
    aspiration_multiple: Exponent = 1.5
    concession_exponent: Exponent = 1.0
    accepts: dict[Structure, Probability] = {}


class Bidder(Block):
    name: Name
    arrives_day: Days = 0.0
    withdraws_day: PositiveDays | None = None
    structure: Structure = "full_acquisition"
    us_share: Share = 1.0
    valuation_bn: Money | None = None  # required unless agreed_at_start
    opening_fraction: Probability = 0.7
    concession_exponent: Exponent = 1.0
    security_assurance: Probability = 0.5
    mitigation_acceptance_probability: Probability = 1.0
    needs_export_licence: bool = False
    agreed_at_start: bool = False
    agreed_price_bn: Money | None = None

    @model_validator(mode="after")
    def _agreed_price(self) -> Bidder:
        if self.agreed_at_start and self.agreed_price_bn is None:
            _fail(("agreed_price_bn",), "required when agreed_at_start is true")
        if not self.agreed_at_start and self.valuation_bn is None:
            _fail(("valuation_bn",), "required for a bidder that bargains "
                                     "(one with agreed_at_start: true needs agreed_price_bn)")
        return self


class HomeGovernment(Block):
    name: Name = "home government"
    approval_probability: Probability = 1.0
    decision_days: Days = 0.0


class Committee(Block):
    name: Name = "review committee"
    review_days: PositiveDays = 45.0
    investigation_probability: Probability = 0.5
    investigation_days: PositiveDays = 45.0
    extension_probability: Probability = 0.0
    extension_days: PositiveDays = 15.0
    clear_threshold: Probability = 0.7
    mitigation_threshold: Probability = 0.4
    mitigation_days: Days = 14.0

    @model_validator(mode="after")
    def _thresholds(self) -> Committee:
        if self.mitigation_threshold.support()[1] > self.clear_threshold.support()[0]:
            _fail(("mitigation_threshold",), "must not exceed clear_threshold")
        return self


class President(Block):
    name: Name = "president"
    follows_recommendation_probability: Probability = 1.0
    decision_days: Days = 15.0

    @model_validator(mode="after")
    def _follows(self) -> President:
        if self.follows_recommendation_probability.support()[0] < 0.5:
            _fail(("follows_recommendation_probability",),
                  "must be >= 0.5 (below, the president would favour blocked deals)")
        return self


class Closing(Block):
    days: Days = 30.0


class Scenario(Block):
    name: Name
    description: str = ""
    start: dt.date
    horizon_days: Annotated[float, Field(gt=0, le=MAX_HORIZON_DAYS, allow_inf_nan=False)]
    deadlines: Annotated[list[Deadline], Field(max_length=MAX_DEADLINES)] = []
    parent: Parent
    bidders: Annotated[list[Bidder], Field(max_length=MAX_BIDDERS)] = []
    home_government: HomeGovernment | None = None
    committee: Committee = Committee()
    president: President = President()
    court: Court = Court()
    closing: Closing = Closing()

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        seen: set[str] = set()
        for i, d in enumerate(self.deadlines):
            if d.date <= self.start:
                _fail(("deadlines", i, "date"), f"{d.date} is not after start {self.start}")
            if d.id in seen:
                _fail(("deadlines", i, "id"), f"duplicate deadline id {d.id!r}")
            seen.add(d.id)
        names: set[str] = set()
        for i, b in enumerate(self.bidders):
            if b.name in names:
                _fail(("bidders", i, "name"), f"duplicate bidder name {b.name!r}")
            names.add(b.name)
            if b.needs_export_licence and self.home_government is None:
                _fail(("bidders", i, "needs_export_licence"),
                      "needs a home_government block to decide the licence")
        if sum(b.agreed_at_start for b in self.bidders) > 1:
            _fail(("bidders",), "at most one bidder can have agreed_at_start: true")
        return self

    def deadline_day(self, deadline: Deadline) -> float:
        return float((deadline.date - self.start).days)

    def date_of(self, day: float) -> dt.date:
        return self.start + dt.timedelta(days=int(day))


class ScenarioError(Exception):
    """A problem with a scenario file, already phrased as the one line a user should see."""


def load_scenario(path: str | Path) -> Scenario:
    path = Path(path)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ScenarioError(f"{path}: file is larger than {MAX_FILE_BYTES:,} bytes")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read ({exc.strerror})") from None
    return parse_scenario(text, str(path))


def parse_scenario(text: str, source: str = "<scenario>") -> Scenario:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        if root is not None:
            _check_nodes(root, source)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"{mark.line + 1}:" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ScenarioError(f"{source}:{line} YAML syntax error: {problem}") from None
    if root is None:
        raise ScenarioError(f"{source}:1: file is empty (expected a scenario mapping)")
    if not isinstance(data, dict):
        raise ScenarioError(f"{source}:1: top level must be a mapping of keys, "
                            f"not {type(data).__name__}")
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(_describe(exc.errors()[0], root, source)) from None


MAX_NODES = 100_000  # a scenario is a few hundred nodes; far more means an alias bomb


def _check_nodes(root: yaml.Node, source: str) -> None:
    """Refuse what safe_load lets through silently: duplicate or non-text keys, recursive
    aliases, and alias bombs (a few lines expanding to millions of nodes)."""
    sizes: dict[int, int] = {}
    open_: set[int] = set()

    def fail(node: yaml.Node, path: str, problem: str) -> typing.NoReturn:
        where = f" {path}:" if path else ""
        raise ScenarioError(f"{source}:{node.start_mark.line + 1}:{where} {problem}")

    def size(node: yaml.Node, path: str) -> int:
        if id(node) in sizes:
            return sizes[id(node)]
        if id(node) in open_:
            fail(node, path, "recursive alias (an anchor used inside itself)")
        open_.add(id(node))
        total = 1
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key, value in node.value:
                name = str(key.value)
                where = f"{path}.{name}" if path else name
                if key.tag != "tag:yaml.org,2002:str":
                    fail(key, where, "keys must be text (quote it)")
                if name in seen:
                    fail(key, where, "duplicate key (each key may appear once)")
                seen.add(name)
                total += size(value, where)
        elif isinstance(node, yaml.SequenceNode):
            total += sum(size(item, f"{path}[{i}]") for i, item in enumerate(node.value))
        if total > MAX_NODES:
            fail(node, path, f"expands to over {MAX_NODES:,} values (alias bomb?)")
        open_.discard(id(node))
        sizes[id(node)] = total
        return total

    size(root, "")


def _locate(root: yaml.Node, loc: tuple[str | int, ...]) -> tuple[int, str]:
    """The line and dotted key path of the deepest part of ``loc`` present in the file."""
    node, line, parts = root, root.start_mark.line + 1, []
    for part in loc:
        child = None
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            child = next((v for k, v in node.value if str(k.value) == part), None)
            key_node = next((k for k, _ in node.value if str(k.value) == part), None)
            if key_node is not None:
                line = key_node.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            child = node.value[part] if part < len(node.value) else None
            if child is not None:
                line = child.start_mark.line + 1
        if child is None:
            if isinstance(part, str) and part not in DISTRIBUTIONS:
                parts.append(part)  # a missing key: name it, point at its parent
            continue  # a distribution's type tag is no key of the file
        parts.append(f"[{part}]" if isinstance(part, int) else part)
        node = child
    dotted = ".".join(parts).replace(".[", "[") or "(top level)"
    return line, dotted


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


def _describe(error: dict[str, Any], root: yaml.Node, source: str) -> str:
    loc = tuple(error["loc"])
    kind, ctx = error["type"], error.get("ctx") or {}
    message = error["msg"].removeprefix("Value error, ")
    if kind == "scenario":
        loc = loc + tuple(int(p) if p.isdigit() else p for p in ctx["at"].split("."))
        message = ctx["message"]
    elif kind == "extra_forbidden":
        model = _model_at(loc[:-1])
        allowed = ", ".join(model.model_fields) if model else "see docs/scenario-format.md"
        message = f"unknown key (allowed: {allowed})"
    elif kind == "missing":
        message = "required key is missing"
    elif kind == "literal_error":
        message = f"{error['input']!r} is not allowed (allowed: {ctx['expected']})"
    elif kind == "union_tag_invalid":
        message = f"unknown distribution {ctx['tag']} (allowed: {ctx['expected_tags']})"
    elif "input" in error and not isinstance(error["input"], dict | list):
        message = f"{message} (got {error['input']!r})"
    line, dotted = _locate(root, loc)
    return f"{source}:{line}: {dotted}: {message}"


def uncertain_inputs(scenario: Scenario) -> dict[str, Dist]:
    """Every number of the scenario by a stable key path (bidders and deadlines by name).

    Keys name what a value serves, not its position, so a draw keeps its random stream
    when another bidder is added or the file is reordered.
    """
    found: dict[str, Dist] = {}

    def walk(obj: Any, prefix: str) -> None:
        if isinstance(obj, BaseModel) and hasattr(obj, "ppf"):
            found[prefix] = obj  # a distribution
        elif isinstance(obj, BaseModel):
            for field in type(obj).model_fields:
                walk(getattr(obj, field), f"{prefix}.{field}" if prefix else field)
        elif isinstance(obj, dict):
            for key, value in obj.items():
                walk(value, f"{prefix}.{key}")
        elif isinstance(obj, list):
            for item in obj:
                walk(item, f"{prefix}.{getattr(item, 'id', None) or item.name}")

    walk(scenario, "")
    return found
