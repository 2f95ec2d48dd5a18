"""``report.html``: one self-contained page to hand a colleague — what was assumed, what
came out, what it looks like, and how it happens.

Self-contained means readable offline and as a single attachment: the figures are
embedded as base64 PNG, the style is inline, nothing is fetched. The assumptions table
lists every input with its distribution and the comment the scenario file gives as its
source, found through the YAML nodes' line marks (PyYAML drops comments, so they are read
from the lines the marks point at) in the text the scenario was loaded from.

The page is laid out by the jinja2 templates in ``sim/outputs/templates/``, autoescaped:
a scenario name or comment reaches the page as text, never as markup.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
import numpy as np
import yaml
from pydantic import BaseModel

from sim.analysis import stats
from sim.analysis.summary import RunSummary
from sim.errors import ScenarioError
from sim.files import atomic_write_text
from sim.model.outcome import OUTCOMES, STATE_WORDS
from sim.outputs.colours import COLOURS
from sim.outputs.safe import day_and_date, read_regular
from sim.running.results import INPUT_PREFIX, Run, due_words
from sim.scenario import schema
from sim.scenario.inputs import NOT_INPUTS
from sim.scenario.yaml_tree import compose, inherit

if TYPE_CHECKING:  # narration re-runs the model: imported when a page is written
    from sim.outputs.narration import Story

REPORT_NAME = "report.html"
OUTCOME_COLOURS = {name: COLOURS[name] for name in OUTCOMES}
OUTCOME_MEANING = {  # docs/model.md, "Endings"
    "sale": "a qualifying deal closed (buyer, price, structure, stake); dated at closing",
    "shutdown": "a ban ended the service and it was not restored by the horizon; dated the "
                "day it last went dark",
    "abandoned": "a pending transaction was terminated or abandoned: blocked, or its "
                 "termination instrument expired",
    "unresolved": "none of these by the horizon; below, where the runs stood there",
}
FIGURE_CAPTIONS = {
    "outcomes.png": "How it ends: the probability of each outcome, with its 95% interval.",
    "time_to_resolution.png": "When it ends: cumulative share of runs resolved over calendar "
                              "time, by outcome, with the deadlines marked.",
    "buyers_and_prices.png": "Who buys and at what price, given that bidder buys.",
    "agreement_timing.png": "When agreements are reached relative to the deadline in force "
                            "(the deadline effect).",
}
SKIPPED_KEYS = {"name", "description", "id"}
NOT_ASSUMPTIONS = {"actual"}  # top-level blocks that are no input (the record, for backtests)
_SEPARATOR = re.compile(r"^#\s*[-=#*~]{4,}\s*$")
_COMMENT = re.compile(r"(?:^|\s)#\s?(.*)$")


# -- the scenario file's comments -------------------------------------------------------

@dataclass(frozen=True)
class Source:
    line: int  # 1-based line of the key in its file
    comment: str
    file: str | None = None  # the file the key comes from, when another one (``extends``)


Lines = Callable[[yaml.Mark], Sequence[str]]  # the lines of the file a mark points into


def _above(lines: Sequence[str], line: int) -> list[str]:
    """The comment lines directly above ``line`` (0-based), up to a blank or code line."""
    found: list[str] = []
    i = line - 1
    while i >= 0 and lines[i].lstrip().startswith("#"):
        text = lines[i].strip()
        if not _SEPARATOR.match(text):
            found.append(text.lstrip("#").strip())
        i -= 1
    return found[::-1]


def _trailing(text: str, column: int) -> str:
    """The comment at the end of a line, looking only after ``column`` (past the value, so
    a ``#`` inside a value is never taken for one)."""
    match = _COMMENT.search(text[column:])
    return match.group(1).strip() if match else ""


def _comment(lines_of: Lines, key: yaml.Node, value: yaml.Node) -> list[str]:
    lines = lines_of(key.start_mark)
    parts = _above(lines, key.start_mark.line)
    if isinstance(value, yaml.MappingNode) and not value.flow_style:
        # a block: the comment after the colon; for a distribution, its keys' comments too
        parts.append(_trailing(lines[key.start_mark.line], key.end_mark.column))
        if any(str(k.value) == "dist" for k, _ in value.value):
            for k, v in value.value:
                parts += _comment(lines_of, k, v)
    elif isinstance(value, yaml.SequenceNode) and not value.flow_style:
        parts.append(_trailing(lines[key.start_mark.line], key.end_mark.column))
    else:
        end = value.end_mark
        value_lines = lines_of(end)
        if end.line < len(value_lines):
            parts.append(_trailing(value_lines[end.line], end.column))
    return [p for p in parts if p]


def _sources(root: yaml.Node | None, lines_of: Lines, main: str | None) -> dict[str, Source]:
    found: dict[str, Source] = {}

    def walk(node: yaml.Node, prefix: str) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                path = f"{prefix}.{key.value}" if prefix else str(key.value)
                name = key.start_mark.name
                found[path] = Source(key.start_mark.line + 1,
                                     " ".join(_comment(lines_of, key, value)),
                                     None if name == main else name)
                walk(value, path)
        elif isinstance(node, yaml.SequenceNode):
            for item in node.value:
                ident = _identifier(item)
                if ident is not None:
                    walk(item, f"{prefix}.{ident}")

    if root is not None:
        walk(root, "")
    return found


def source_comments(text: str) -> dict[str, Source]:
    """Every key of one scenario text by the key path ``uncertain_inputs`` uses (bidders
    and instruments by name or id), with its line and the comments on and directly above it."""
    lines = text.splitlines()
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    return _sources(root, lambda mark: lines, root.start_mark.name if root else None)


def scenario_sources(source: schema.Source) -> dict[str, Source]:
    """``source_comments`` of a scenario as loaded, from the text it was read from (the
    file on disk may have changed or gone since): with ``extends``, of the merged tree,
    each inherited key's comment read from the file it came from (its node's mark names
    it, relative to the scenario's folder). A scenario made from text has its own alone."""
    if source.path is None:
        return source_comments(source.text)
    main = source.path
    cache = {main: source.text.splitlines()}

    def lines_of(mark: yaml.Mark) -> list[str]:
        # The lines the node was parsed from (the text a mark keeps), never a second read
        # of a file that may have changed, gone, or become a FIFO since.
        if mark.name not in cache:
            cache[mark.name] = _parsed_text(mark).splitlines()
        return cache[mark.name]

    root = inherit(compose(source.text, main), main, ((Path(main).resolve(), main),))
    return _sources(root, lines_of, main)


def _parsed_text(mark: yaml.Mark) -> str:
    """The text a YAML mark points into, as PyYAML's reader holds it (with a closing NUL);
    a mark without it (a C loader's) reads the file, a regular one only."""
    if isinstance(mark.buffer, str):
        return mark.buffer.removesuffix("\0")
    data = read_regular(Path(mark.name))
    if data is None:
        raise OSError(f"{mark.name}: not a regular file any more")
    return data.decode("utf-8", errors="replace")


def _identifier(item: yaml.Node) -> str | None:
    if not isinstance(item, yaml.MappingNode):
        return None
    keys = {str(k.value): v for k, v in item.value}
    for name in ("id", "name"):
        node = keys.get(name)
        if isinstance(node, yaml.ScalarNode):
            return str(node.value)
    return None


# -- the assumptions table --------------------------------------------------------------

@dataclass(frozen=True)
class Assumption:
    group: str
    key: str
    value: str
    source: Source | None  # None: not in the file, the schema default applies
    sampled: str  # the run's draws (median and 10–90%) for a varying input, else ""


def _leaves(obj: Any, prefix: str) -> Iterator[tuple[str, Any]]:
    """Every setting of the validated scenario by key path, in schema order."""
    if isinstance(obj, BaseModel) and hasattr(obj, "ppf"):
        yield prefix, obj  # a distribution
    elif isinstance(obj, BaseModel):
        skip = (NOT_ASSUMPTIONS | NOT_INPUTS
                if not prefix else set())
        for field in type(obj).model_fields:
            if field in SKIPPED_KEYS or field in skip:
                continue
            yield from _leaves(getattr(obj, field), f"{prefix}.{field}" if prefix else field)
    elif isinstance(obj, dict):
        for key, value in obj.items():
            yield from _leaves(value, f"{prefix}.{key}")
    elif isinstance(obj, list):
        for item in obj:
            ident = getattr(item, "id", None) or getattr(item, "name", None)
            if ident is not None:
                yield from _leaves(item, f"{prefix}.{ident}")
    else:
        yield prefix, obj


def _value(value: Any) -> str:
    if hasattr(value, "describe"):
        return str(value.describe())
    if value is None:
        return "null"  # as the file writes it; docs/scenario-format.md says what it means
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _group(key: str) -> str:
    parts = key.split(".")
    if parts[0] in ("bidders", "instruments", "politics") and len(parts) > 2:
        return ".".join(parts[:2])
    return parts[0] if len(parts) > 1 else "scenario"


def assumptions(run: Run, sources: dict[str, Source]) -> list[Assumption]:
    """Each input of the run's scenario: value or distribution, source comment, draws."""
    rows = []
    for key, value in _leaves(run.scenario, ""):
        source = sources.get(key)
        if value is None and source is None:
            continue  # an optional block or bound left out: nothing to assume
        column = INPUT_PREFIX + key
        sampled = ""
        if column in run.results.columns:
            q10, q50, q90 = np.quantile(run.results[column], [0.1, 0.5, 0.9])
            sampled = f"{q50:.3g} [{q10:.3g} – {q90:.3g}]"
        rows.append(Assumption(_group(key), key, _value(value), source, sampled))
    return rows


# -- what the page shows -----------------------------------------------------------------
# The templates (sim/outputs/templates/) only lay out what these two functions hand them:
# every number is formatted and every ``data[...]`` read here, so the summary's shape is
# known in one place (the context) and the page's look in another (the templates).

@dataclass(frozen=True)
class OutcomeRow:
    name: str
    probability: str
    interval: str
    count: str
    meaning: str
    colour: str = ""  # an outcome's swatch; a state row has none
    state: bool = False  # a state an unresolved run stood in, under the outcome rows


@dataclass(frozen=True)
class Figure:
    name: str
    caption: str
    base64: str


@dataclass(frozen=True)
class StoryView:
    outcome: str
    colour: str
    headline: str
    lines: list[tuple[str, str]]  # (the date and day where they change, else "", the text)


@dataclass(frozen=True)
class AssumptionRow:
    key: str
    short: str  # the key without its group
    value: str
    sampled: str
    comment: str
    where: str | None  # "line 12" or "base.yaml, line 12"; None: the schema default


@dataclass(frozen=True)
class AssumptionGroup:
    name: str
    rows: list[AssumptionRow]


def _pct(p: float) -> str:
    return f"{100 * p:.1f}%"


def _when(run: Run, day: float | None) -> str:
    if day is None:
        return "beyond the horizon"
    return day_and_date(run.scenario.start, day)  # past 9999-12-31: the day alone


def results_context(run: Run, summary: RunSummary) -> dict[str, Any]:
    """What the page says of the run's numbers, from its typed summary (the same one the
    printout and the figures read): the outcome table and the timing sentences."""
    outcomes: list[OutcomeRow] = []
    for name, o in summary.outcomes.items():
        outcomes.append(OutcomeRow(name, _pct(o.probability), f"{_pct(o.low)} – {_pct(o.high)}",
                                   f"{o.count:,}", OUTCOME_MEANING[name],
                                   colour=OUTCOME_COLOURS[name]))
    for state, o in summary.unresolved_by_state.items():
        if o.count:
            outcomes.append(OutcomeRow(state, _pct(o.probability),
                                       f"{_pct(o.low)} – {_pct(o.high)}", f"{o.count:,}",
                                       STATE_WORDS[state], state=True))

    timing: list[str] = []
    res = summary.resolved_by.days
    timing.append("Resolved (any outcome; open runs censored at the horizon): "
                  f"10%: {_when(run, res['p10'])} · 50%: {_when(run, res['p50'])} · "
                  f"90%: {_when(run, res['p90'])}.")
    for name, given in summary.given.items():
        if given is not None:
            d = given.days
            timing.append(f"Day of resolution, {name}: median {_when(run, d['p50'])}, "
                          f"10–90% between day {d['p10']:.0f} and day {d['p90']:.0f}.")
    if summary.winners:
        timing.append("Buyer (share of all runs): " + ", ".join(
            f"{k} {_pct(v.probability)}" for k, v in summary.winners.items()) + ".")
    control = summary.parent_keeps_control.probability
    if control > 0:
        timing.append(f"Sales in which the parent keeps 50% or more (a partnership closing once "
                      f"no test it fails is in force, not a divestiture): {_pct(control)} of "
                      "all runs.")
    price, stake = summary.price_bn, summary.stake_price_bn
    if price is not None:
        timing.append(f"Price given a sale, per 100% of the business: median USD "
                      f"{price.p50:.1f} bn, 10–90% USD {price.p10:.1f}–{price.p90:.1f} bn"
                      + ("" if stake is None else
                         f"; for the stake sold: median USD {stake.p50:.1f} bn, 10–90% USD "
                         f"{stake.p10:.1f}–{stake.p90:.1f} bn") + ".")
    timing.append(f"Per run, on average: {summary.extensions_mean:.2f} deadline extensions, "
                  f"{summary.forbearances_mean:.2f} forbearances, "
                  f"{summary.days_dark_mean:.1f} days with the service dark.")
    timing.append("Share of runs with " + ", ".join(
        f"{what}: {_pct(summary.shares[key].probability)}" for key, what in stats.SHARES) + ".")
    return {"outcomes": outcomes, "timing": timing}


def _figures(out: Path, files: Sequence[str]) -> list[Figure]:
    return [Figure(name, FIGURE_CAPTIONS.get(name, name),
                   base64.b64encode((out / name).read_bytes()).decode("ascii"))
            for name in files if name.endswith(".png")]


def _story(story: Story) -> StoryView:
    lines: list[tuple[str, str]] = []
    last: str | None = None
    for line in story.lines:
        date = f"{line.date:%a %d %b %Y}" if line.date else f"after {dt.date.max}"
        stamp = f"{date} · day {line.day:.1f}"
        lines.append((stamp if stamp != last else "", line.text))
        last = stamp
    return StoryView(story.outcome_name, OUTCOME_COLOURS[story.outcome_name], story.headline,
                     lines)


def _assumption_groups(rows: Sequence[Assumption]) -> list[AssumptionGroup]:
    groups: list[AssumptionGroup] = []
    for row in rows:
        if not groups or groups[-1].name != row.group:
            groups.append(AssumptionGroup(row.group, []))
        short = row.key.removeprefix(row.group + ".") if row.group != "scenario" else row.key
        where: str | None = None
        if row.source is not None:
            where = (f"{row.source.file}, line {row.source.line}" if row.source.file
                     else f"line {row.source.line}")
        groups[-1].rows.append(AssumptionRow(row.key, short, row.value, row.sampled,
                                             row.source.comment if row.source else "", where))
    return groups


def page_context(run: Run, summary: RunSummary, data: dict[str, Any], out: Path,
                 files: Sequence[str], told: Sequence[Story],
                 sources: dict[str, Source] | None) -> dict[str, Any]:
    """Everything ``report.html.j2`` shows, as text ready to escape: the run's numbers from
    its ``summary``, its provenance from ``data`` (the record ``summary.json`` holds).
    ``sources`` None: the comments could not be read."""
    s = run.scenario
    due = "; ".join(f"{d.label}: {d.date:%d %b %Y} ({due_words(d)})" for d in s.due_dates)
    record = data["scenario"]
    versions = ", ".join(f"{k} {v}" for k, v in data["versions"].items() if v)
    return {
        "name": s.name,
        "description": s.description.strip(),
        "runs": f"{data['runs']:,}",
        "seed": str(data["seed"]),
        "start": f"{s.start:%d %b %Y}",
        "horizon_days": f"{s.horizon_days:g}",
        "horizon_date": str(record["horizon_date"]),
        "created": str(data["created"]),
        "due_dates": due or "none",
        **results_context(run, summary),
        "figures": _figures(out, files),
        "replay": {"path": str(run.path), "runs": str(len(run.results)), "seed": str(run.seed)},
        "stories": [_story(story) for story in told],
        "scenario_path": str(run.path),
        "sources_read": sources is not None,
        "assumption_groups": _assumption_groups(assumptions(run, sources or {})),
        "provenance": [
            ("scenario file", str(record["path"])), ("sha256", str(record["sha256"])),
            ("command", " ".join(data["command"] or [])), ("seed", str(data["seed"])),
            ("runs", f"{data['runs']:,}"), ("workers", str(data["workers"])),
            ("created", str(data["created"])),
            ("git commit", str(data["git_commit"] or "unknown")), ("versions", versions)],
    }


# -- the page ---------------------------------------------------------------------------

@functools.cache
def _environment() -> jinja2.Environment:
    """The templates, loaded on first use (not at import: most commands draw no page).
    Autoescape is on for every template and string, and a name the context lacks is an
    error, not an empty cell."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("sim.outputs", "templates"),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",),
                                            default_for_string=True, default=True),
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
        keep_trailing_newline=True)


def render_part(template: str, context: dict[str, Any]) -> str:
    """One template of the page (``report.html.j2`` or one of its partials) with ``context``."""
    return _environment().get_template(template).render(context)


def render(run: Run, summary: RunSummary, data: dict[str, Any], out: Path,
           files: Sequence[str], told: Sequence[Story],
           sources: dict[str, Source] | None) -> str:
    """The whole page; ``sources`` None when the scenario's comments could not be read."""
    return render_part("report.html.j2", page_context(run, summary, data, out, files, told,
                                                      sources))


def write_report(run: Run, summary: RunSummary, out: Path, data: dict[str, Any],
                 files: Sequence[str]) -> Path:
    """Write ``report.html`` into ``out`` atomically; ``files`` are the outputs already there."""
    from sim.outputs.narration import example_runs, run_stories

    told = run_stories(run, list(example_runs(run.results["outcome"]).values()))
    try:
        sources: dict[str, Source] | None = scenario_sources(run.scenario.source)
    except (OSError, yaml.YAMLError, ScenarioError):
        sources = None  # a file it extends changed or went since it was loaded: no sources
    path = out / REPORT_NAME
    atomic_write_text(path, render(run, summary, data, out, files, told, sources))
    return path
