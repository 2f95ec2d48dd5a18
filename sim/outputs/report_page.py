"""``report.html``: one self-contained page to hand a colleague — what was assumed, what
came out, what it looks like, and how it happens.

Self-contained means readable offline and as a single attachment: the figures are
embedded as base64 PNG, the style is inline, nothing is fetched. The assumptions table
lists every input with its distribution and the comment the scenario file gives as its
source, found through the YAML nodes' line marks (PyYAML drops comments, so they are read
from the lines the marks point at).
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import yaml
from pydantic import BaseModel

from sim.analysis import stats
from sim.errors import ScenarioError
from sim.files import atomic_write_text
from sim.model.outcome import OUTCOMES, STATE_WORDS
from sim.running.results import INPUT_PREFIX, Run, due_words
from sim.scenario.inputs import NOT_INPUTS
from sim.scenario.yaml_tree import load_tree

if TYPE_CHECKING:  # narration re-runs the model: imported when a page is written
    from sim.outputs.narration import Story

REPORT_NAME = "report.html"
OUTCOME_COLOURS = {"sale": "#009E73", "shutdown": "#D55E00", "abandoned": "#CC79A7",
                   "unresolved": "#0072B2"}  # sim.outputs.figures.run.COLOURS (no matplotlib here)
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


def file_sources(path: Path) -> dict[str, Source]:
    """``source_comments`` of a scenario file as loaded: with ``extends``, of the merged
    tree, each key's comment read from the file it came from (its node's mark names it)."""
    cache: dict[str, list[str]] = {}

    def lines_of(mark: yaml.Mark) -> list[str]:
        if mark.name not in cache:
            cache[mark.name] = Path(mark.name).read_text(encoding="utf-8").splitlines()
        return cache[mark.name]

    root = load_tree(path, str(path), ())
    return _sources(root, lines_of, str(path))


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


# -- the page ---------------------------------------------------------------------------

STYLE = """
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue",
       Arial, sans-serif; color: #1a1a1a; max-width: 68rem; margin: 2rem auto;
       padding: 0 1.2rem; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; }
h2 { font-size: 1.25rem; margin-top: 2.4rem; border-bottom: 1px solid #ccc; }
h3 { font-size: 1.02rem; margin: 1.6rem 0 .4rem; }
.meta, .note, figcaption { color: #555; font-size: .9rem; }
table { border-collapse: collapse; width: 100%; margin: .6rem 0; font-size: .9rem; }
th, td { text-align: left; vertical-align: top; padding: .3rem .5rem;
         border-bottom: 1px solid #e3e3e3; }
th { background: #f3f3f3; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.assumptions { table-layout: fixed; }
table.assumptions td { overflow-wrap: anywhere; }
table.assumptions td.num { white-space: normal; }
tr.group td { background: #fafafa; font-weight: 600; padding-top: .7rem; }
code { font: .85rem ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; }
.swatch { display: inline-block; width: .9rem; height: .9rem; border-radius: 2px;
          vertical-align: -.1rem; margin-right: .4rem; }
.default { color: #777; font-style: italic; }
figure { margin: 1.4rem 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
table.story td.when { white-space: nowrap; color: #444; font-variant-numeric: tabular-nums; }
.big { font-size: 1.15rem; font-weight: 600; }
@media print { body { max-width: none; } figure { break-inside: avoid; } }
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _pct(p: float) -> str:
    return f"{100 * p:.1f}%"


def _outcomes_table(data: dict[str, Any]) -> str:
    rows = []
    for name in OUTCOMES:
        o = data["outcomes"][name]
        low, high = o["ci95"]
        rows.append(
            f'<tr id="outcome-{name}"><td><span class="swatch" style="background:'
            f'{OUTCOME_COLOURS[name]}"></span><b>{name}</b></td>'
            f'<td class="num big">{_pct(o["probability"])}</td>'
            f'<td class="num">{_pct(low)} – {_pct(high)}</td>'
            f'<td class="num">{o["count"]:,}</td><td>{_e(OUTCOME_MEANING[name])}</td></tr>')
    for state, o in data["unresolved_by_state"].items():
        if o["count"]:
            low, high = o["ci95"]
            rows.append(
                f'<tr class="state" id="state-{state}"><td>&emsp;<code>{_e(state)}</code></td>'
                f'<td class="num">{_pct(o["probability"])}</td>'
                f'<td class="num">{_pct(low)} – {_pct(high)}</td>'
                f'<td class="num">{o["count"]:,}</td><td>unresolved: '
                f"{_e(STATE_WORDS[state])}</td></tr>")
    return ("<table><thead><tr><th>outcome</th><th>probability</th><th>95% interval"
            "</th><th>runs</th><th>meaning</th></tr></thead><tbody>" + "".join(rows)
            + "</tbody></table>")


def _when(run: Run, day: float | None) -> str:
    return "beyond the horizon" if day is None else f"day {day:.0f} ({run.date(day)})"


def _timing(run: Run, data: dict[str, Any]) -> str:
    items = []
    res = data["days_to_resolution"]["all_runs_censored_at_horizon"]["days"]
    items.append("Resolved (any outcome; open runs censored at the horizon): "
                 f"10%: {_when(run, res['p10'])} · 50%: {_when(run, res['p50'])} · "
                 f"90%: {_when(run, res['p90'])}.")
    for _, name in stats.RESOLVED:
        given = data["days_to_resolution"][f"given_{name}"]
        if given is not None:
            d = given["days"]
            items.append(f"Day of resolution, {name}: median {_when(run, d['p50'])}, "
                         f"10–90% between day {d['p10']:.0f} and day {d['p90']:.0f}.")
    if data["winners"]:
        items.append("Buyer (share of all runs): " + ", ".join(
            f"{_e(k)} {_pct(v['probability'])}" for k, v in data["winners"].items()) + ".")
    control = data["sale_parent_keeps_control"]["probability"]
    if control > 0:
        items.append(f"Sales in which the parent keeps 50% or more (a partnership closing once "
                     f"no test it fails is in force, not a divestiture): {_pct(control)} of "
                     "all runs.")
    price = data["price_bn_given_sale"]
    if price is not None:
        stake = data["stake_price_bn_given_sale"]
        items.append(f"Price given a sale, per 100% of the business: median USD "
                     f"{price['p50']:.1f} bn, 10–90% USD {price['p10']:.1f}–{price['p90']:.1f} "
                     "bn" + ("" if stake is None else f"; for the stake sold: median USD "
                             f"{stake['p50']:.1f} bn, 10–90% USD {stake['p10']:.1f}–"
                             f"{stake['p90']:.1f} bn") + ".")
    items.append(f"Per run, on average: {data['extensions_mean']:.2f} deadline extensions, "
                 f"{data['forbearances_mean']:.2f} forbearances, "
                 f"{data['days_dark_mean']:.1f} days with the service dark.")
    items.append("Share of runs with " + ", ".join(
        f"{what}: {_pct(data[key]['probability'])}" for key, what in stats.SHARES) + ".")
    return "<ul>" + "".join(f"<li>{_e(i)}</li>" for i in items) + "</ul>"


def _figures(out: Path, files: Sequence[str]) -> str:
    pngs = [f for f in files if f.endswith(".png")]
    if not pngs:
        return '<p class="note">Figures were not drawn for this run (--no-figures).</p>'
    parts = []
    for name in pngs:
        encoded = base64.b64encode((out / name).read_bytes()).decode("ascii")
        caption = FIGURE_CAPTIONS.get(name, name)
        parts.append(f'<figure><img src="data:image/png;base64,{encoded}" alt="{_e(caption)}"'
                     f' data-file="{_e(name)}"><figcaption>{_e(caption)} '
                     f'(<code>{_e(name)}</code>)</figcaption></figure>')
    return "".join(parts)


def _stories(run: Run, told: Sequence[Story]) -> str:
    parts = [f'<p class="note">The first replication ending in each outcome, told from the '
             f"model's own event log. Re-tell any replication K with <code>python run.py "
             f"{_e(run.path)} --runs {len(run.results)} --seed {run.seed} --trace-run K"
             f"</code> (K is the row of <code>replications.csv</code>).</p>"]
    for story in told:
        rows = []
        last = None
        for line in story.lines:
            stamp = f"{line.date:%a %d %b %Y} · day {line.day:.1f}"
            shown = stamp if stamp != last else ""
            rows.append(f'<tr><td class="when">{_e(shown)}</td><td>{_e(line.text)}</td></tr>')
            last = stamp
        colour = OUTCOME_COLOURS[story.outcome_name]
        parts.append(f'<section class="story" id="story-{story.outcome_name}"><h3>'
                     f'<span class="swatch" style="background:{colour}"></span>'
                     f"{_e(story.headline)}</h3><table class=\"story\"><tbody>"
                     + "".join(rows) + "</tbody></table></section>")
    return "".join(parts)


def _assumptions(rows: Sequence[Assumption], path: Path, read: bool = True) -> str:
    body = []
    group = None
    for row in rows:
        if row.group != group:
            group = row.group
            body.append(f'<tr class="group"><td colspan="4"><code>{_e(group)}</code></td></tr>')
        if not read:
            source = '<span class="default">(the file could not be read again)</span>'
        elif row.source is None:
            source = '<span class="default">not in the file: the schema default</span>'
        else:
            where = (f"{row.source.file}, line {row.source.line}" if row.source.file
                     else f"line {row.source.line}")
            said = (_e(row.source.comment) if row.source.comment
                    else '<span class="default">no comment in the file</span>')
            source = f'{said} <span class="note">({_e(where)})</span>'

        short = row.key.removeprefix(group + ".") if group != "scenario" else row.key
        body.append(f'<tr><td><code title="{_e(row.key)}">{_e(short)}</code></td>'
                    f"<td>{_e(row.value)}</td>"
                    f'<td class="num">{_e(row.sampled)}</td><td>{source}</td></tr>')
    return (f'<p class="note">Every setting of <code>{_e(path)}</code>, by its key path (the '
            f"<code>input.&lt;key&gt;</code> columns of <code>replications.csv</code>). "
            f"“Source” is the file's own comment on or above the key (for a key inherited "
            f"through <code>extends</code>, the comment in the file it comes from); “§n” "
            f"refers to a section "
            f"of docs/domain.md. “Drawn” is the median and 10–90% range of the values this run "
            f'sampled.</p><table class="assumptions"><colgroup><col style="width:24%">'
            f'<col style="width:21%"><col style="width:15%"><col style="width:40%">'
            f"</colgroup><thead><tr><th>input</th><th>value or distribution</th>"
            f"<th>drawn: median [10–90%]</th><th>source</th></tr></thead><tbody>"
            + "".join(body) + "</tbody></table>")


def _provenance(data: dict[str, Any]) -> str:
    s = data["scenario"]
    versions = ", ".join(f"{k} {v}" for k, v in data["versions"].items() if v)
    items = [("scenario file", s["path"]), ("sha256", s["sha256"]),
             ("command", " ".join(data["command"] or [])), ("seed", data["seed"]),
             ("runs", f"{data['runs']:,}"), ("workers", data["workers"]),
             ("created", data["created"]), ("git commit", data["git_commit"] or "unknown"),
             ("versions", versions)]
    return ("<table><tbody>" + "".join(f"<tr><th>{_e(k)}</th><td><code>{_e(v)}</code></td></tr>"
                                       for k, v in items) + "</tbody></table>")


def render(run: Run, data: dict[str, Any], out: Path, files: Sequence[str],
           told: Sequence[Story], sources: dict[str, Source] | None) -> str:
    s = run.scenario
    due = "; ".join(f"{d.label}: {d.date:%d %b %Y} ({due_words(d)})" for d in s.due_dates)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>dealsim — {_e(s.name)}</title>
<style>{STYLE}</style></head>
<body>
<header>
<h1>{_e(s.name)}</h1>
<p class="meta">dealsim report · {data['runs']:,} runs · seed {data['seed']} ·
start {s.start:%d %b %Y} · horizon {s.horizon_days:g} days
({_e(data['scenario']['horizon_date'])}) · created {_e(data['created'])}</p>
<p>{_e(s.description.strip())}</p>
<p class="meta">Due dates: {_e(due or 'none')}.</p>
</header>
<main>
<h2 id="outcomes">How it ends</h2>
{_outcomes_table(data)}
<p class="note">The states of the unresolved runs are shares of all runs: they add up to
the unresolved outcome. The interval is the 95% Wilson interval of the Monte Carlo estimate: it
measures simulation noise only. The uncertainty about the inputs is already inside the
probabilities, through the distributions below.</p>
<h2 id="timing">When, to whom, at what price</h2>
{_timing(run, data)}
<h2 id="figures">Figures</h2>
{_figures(out, files)}
<h2 id="stories">How it happens: narrated runs</h2>
{_stories(run, told)}
<h2 id="assumptions">Assumptions</h2>
{_assumptions(assumptions(run, sources or {}), run.path, sources is not None)}
<h2 id="provenance">Provenance</h2>
{_provenance(data)}
<p class="note">Beside this page: <a href="summary.json">summary.json</a> (every number
above) and <a href="replications.csv">replications.csv</a> (one row per run).</p>
</main>
</body></html>
"""


def write_report(run: Run, out: Path, data: dict[str, Any], files: Sequence[str]) -> Path:
    """Write ``report.html`` into ``out`` atomically; ``files`` are the outputs already there."""
    from sim.outputs.narration import example_runs, run_stories

    told = run_stories(run, list(example_runs(run.results["outcome"]).values()))
    try:
        sources: dict[str, Source] | None = file_sources(run.path)
    except (OSError, yaml.YAMLError, ScenarioError):
        sources = None  # the file changed or went since it was loaded: values without sources
    path = out / REPORT_NAME
    atomic_write_text(path, render(run, data, out, files, told, sources))
    return path
