"""Outputs that cannot blow up, inject or warn, whatever a valid scenario holds: figures of
a bounded size for a deadline centuries out, dates past 9999-12-31 told as days, names
with terminal escapes shown escaped, spreadsheet formulas neutralised in every CSV,
edge cases drawn without a library warning, the record written from what ran (not from
files that changed since), and memory per replication kept small."""

from __future__ import annotations

import csv
import datetime as dt
import math
import os
import signal
import struct
import subprocess
import sys
import textwrap
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
import yaml
from conftest import ROOT
from matplotlib.figure import Figure

import sim.api as api
from sim.analysis.backtest import load_cases, run_cases
from sim.analysis.compare import compare_runs
from sim.model import events as ev
from sim.model.outcome import OUTCOMES, SALE, Outcome
from sim.outputs import narration, report_page, safe
from sim.outputs.backtest_folder import write_backtest
from sim.outputs.style import save_figure
from sim.outputs.sweep_folder import save_table
from sim.outputs.text.backtest import format_table
from sim.outputs.text.compare import format_comparison
from sim.outputs.text.run import format_summary, when
from sim.outputs.text.sweep import summary_lines
from sim.running.results import Run

EXAMPLE = ROOT / "scenarios" / "example.yaml"
CASES = ROOT / "scenarios" / "cases"
ESCAPES = "\x1b[2J\x1b]0;pwned\x07"
MAX_SIDE = 5000  # pixels: the largest figure is some 2,000 wide
FORMULAS = ["=2+3", "+SUM(A1:A9)", "-2+3", "@cmd", "\tTAB", "\rCR"]


def example(edit: Any = None) -> dict[str, Any]:
    """scenarios/example.yaml as a dict, changed by ``edit(data)`` if given."""
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    if edit is not None:
        edit(data)
    return data


def run_of(data: dict[str, Any], runs: int = 200) -> Run:
    return api.run(api.load(data), runs=runs, seed=7, workers=1)


def png_size(path: Path) -> tuple[int, int]:
    """A PNG's width and height from its header (no pixels decoded, however many)."""
    width, height = struct.unpack(">II", path.read_bytes()[16:24])
    return width, height


def printable_lines(text: str) -> bool:
    return all(line.isprintable() for line in text.split("\n"))


# -- 1. figures: bounded whatever the dates ------------------------------------------------

FAR_FIGURES = textwrap.dedent("""\
    import datetime as dt, resource, sys
    from pathlib import Path
    import sim.api as api
    from sim.analysis.compare import compare_runs
    from sim.outputs.compare_folder import write_comparison
    from sim.outputs.figures import run as run_figures
    from sim.running.results import Run

    out, base = Path(sys.argv[1]), api.load(sys.argv[2])
    # the deadline 300 years out, set past the schema (the outputs must not rely on it)
    ban = base.instruments[0].model_copy(update={"date": dt.date(2324, 4, 30)})
    far = base.model_copy(update={"instruments": [ban, *base.instruments[1:]]})
    plain = api.run(base, runs=200, seed=7, workers=1)
    # the same figures for today's dates first, so the measure below is what the far dates
    # add (imports, fonts and BLAS buffers differ from machine to machine; they are not it)
    run_figures.draw_all(plain, api.summarise(plain), out.parent / (out.name + "-warm"))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    run = Run(far, Path("far.yaml"), plain.results, 7, 1)
    run_figures.draw_all(run, api.summarise(run), out / "run")
    write_comparison(compare_runs([plain, run]), out / "compare")
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    print(grown // 1024)  # MB more than the near figures took (Linux: KB)
""")


@pytest.mark.slow
def test_a_deadline_centuries_out_draws_small_figures_in_little_memory(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", FAR_FIGURES, str(tmp_path), str(EXAMPLE)],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "Warning" not in done.stderr, done.stderr  # e.g. tight_layout not applied
    assert int(done.stdout.split()[-1]) < 100, done.stdout  # 9999-01-01 once took 16 GB
    pngs = sorted(tmp_path.rglob("*.png"))
    assert len(pngs) == 6
    for png in pngs:
        width, height = png_size(png)
        assert width <= MAX_SIDE and height <= MAX_SIDE, (png.name, width, height)


def test_the_compare_figure_names_a_due_date_after_the_horizon(tmp_path: Path) -> None:
    from sim.outputs.figures import compare as compare_figures

    base = api.load(example())
    ban = base.instruments[0].model_copy(update={"date": dt.date(2324, 4, 30)})
    far = base.model_copy(update={"instruments": [ban, *base.instruments[1:]]})
    plain = api.run(base, runs=50, seed=7, workers=1)
    runs = [plain, Run(far, Path("far.yaml"), plain.results, 7, 1)]
    texts: list[str] = []
    original = compare_figures.save_figure

    def spy(fig: Figure, path: Path) -> Path:
        texts.extend(t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text")))
        return original(fig, path)

    compare_figures.save_figure = spy  # type: ignore[assignment]
    try:
        compare_figures.resolution_figure(runs, ["example", "far"], tmp_path / "t.png")
    finally:
        compare_figures.save_figure = original  # type: ignore[assignment]
    assert any("after the horizon" in t and "2324" in t for t in texts), texts
    assert max(png_size(tmp_path / "t.png")) <= MAX_SIDE


def test_a_label_far_outside_the_axes_cannot_grow_the_image(tmp_path: Path) -> None:
    fig = Figure(figsize=(6, 4))
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1])
    ax.text(40, 0.5, "far right", clip_on=False)  # 40 axes widths out: ~10,000 px
    ax.text(0.5, -30, "far below", clip_on=False)
    save_figure(fig, tmp_path / "far.png")
    width, height = png_size(tmp_path / "far.png")  # at most a figure's size beyond each edge
    assert width <= 3 * 6 * 110 + 2 and height <= 3 * 4 * 110 + 2, (width, height)


# -- 2. dates past 9999-12-31 ----------------------------------------------------------------

START = dt.date(2024, 1, 1)


def test_a_day_past_the_last_date_is_told_as_a_day() -> None:
    assert safe.date_text(START, 10.0) == "11 Jan 2024"
    assert safe.date_text(START, 3e6) == "day 3000000 (after 9999-12-31)"
    assert safe.date_text(START, 1e300).endswith("(after 9999-12-31)")
    assert safe.date_text(START, -1e6) == "day -1000000 (before 0001-01-01)"
    assert "after 9999-12-31" in safe.date_text(START, math.inf)
    assert safe.date_text(START, math.nan) == "no day"
    assert safe.day_and_date(START, 10.0) == "day 10 (2024-01-11)"
    assert safe.day_and_date(START, 3e6) == "day 3000000 (after 9999-12-31)"


def test_narration_tells_days_past_9999_without_raising() -> None:
    scenario = api.load(example())
    huge = 3e6
    extended = ev.DeadlineExtended(day=5.0, tier=0, days=huge, stage="signed",
                                   until_day=huge, extensions=1, lifted=False, fails=False)
    trustee = ev.TrusteeAppointed(day=huge, tier=0, days=huge, ready_day=2 * huge)
    lines = narration.narrate(scenario, [extended, trustee])
    assert "after 9999-12-31" in lines[0].text
    outcome = Outcome(SALE, huge, 0, 2.0, 2.0, 0, 0.0, 0, 0, 0.0, 0, 0, False, 0, False,
                      1, -1, 1.0, -1.0, 1, 0, 0)
    story = narration.Story(0, 7, outcome,
                            narration.headline(scenario, outcome, 0, 7), tuple(lines))
    told = narration.format_story(scenario, story)
    assert "day 3000000 (after 9999-12-31)" in told and "day 6000000" in told
    assert "after 9999-12-31" in story.headline
    view = report_page._story(story)  # the page's view of the same story
    assert "after 9999-12-31" in view.lines[1][0]


def test_the_printed_summary_tells_a_day_past_9999() -> None:
    run = run_of(example(), runs=20)
    assert when(run, 3e6) == "day 3000000 (after 9999-12-31)"
    assert when(run, 12.0) == "day 12 (2024-01-13)"


# -- 3. terminal escapes in names ------------------------------------------------------------

def hostile(data: dict[str, Any]) -> None:
    data["name"] = "Example" + ESCAPES
    data["parent"]["name"] = "Parent" + ESCAPES
    data["bidders"][0]["name"] = "Buyer A" + ESCAPES
    data["bidders"][1]["name"] = "Buyer B\nsale 100%"
    data["instruments"][0]["court"]["plaintiffs"][0]["name"] = "Parent" + ESCAPES


@pytest.fixture(scope="module")
def hostile_run() -> Run:
    return run_of(example(hostile))


@pytest.mark.slow
def test_the_printed_summary_escapes_terminal_sequences(hostile_run: Run) -> None:
    text = format_summary(hostile_run, api.summarise(hostile_run))
    assert printable_lines(text), text
    assert "Buyer A\\x1b[2J\\x1b]0;pwned\\x07" in text and "Example\\x1b[2J" in text
    assert "Buyer B\\nsale 100%" in text  # a line break in a name cannot fake a row


@pytest.mark.slow
def test_narration_escapes_terminal_sequences(hostile_run: Run) -> None:
    text = api.tell(hostile_run, examples=True)
    assert printable_lines(text), text
    assert "\\x1b[2J" in text


@pytest.mark.slow
def test_the_compare_printout_escapes_terminal_sequences(hostile_run: Run,
                                                         tmp_path: Path) -> None:
    plain = run_of(example(), runs=200)
    evil = Run(hostile_run.scenario, Path("evil" + ESCAPES + ".yaml"), hostile_run.results,
               7, 1)
    found = compare_runs([plain, evil])
    text = format_comparison({"runs": 200, "seed": 7, "files": [], **found.to_dict()},
                             tmp_path / ("out" + ESCAPES))
    assert printable_lines(text), text
    assert "evil\\x1b[2J" in text


def test_the_backtest_and_sweep_printouts_escape_terminal_sequences() -> None:
    actual = SimpleNamespace(outcome="sale", state=None, kind="kind" + ESCAPES, case=None,
                             date=dt.date(2021, 2, 1))
    scenario = SimpleNamespace(name="n" + ESCAPES, start=dt.date(2021, 1, 1),
                               horizon_days=100, actual=actual)
    from sim.analysis import backtest

    cases = [backtest.Case(Path(f"cases/case{i}{ESCAPES}.yaml"), scenario,  # type: ignore[arg-type]
                           f"c{i}") for i in range(2)]
    uniform = np.full(4, 0.25)
    scored = [backtest.Scored(c, uniform * 100, uniform, uniform, uniform, 0.0) for c in cases]
    text = format_table(scored, 100, 7)
    assert printable_lines(text), text
    assert "case0\\x1b[2J" in text and "kind\\x1b[2J" in text

    sweep = SimpleNamespace(name="s" + ESCAPES, design="grid", runs=10, seed=7,
                            names=["bidders.B" + ESCAPES + ".valuation_bn"])
    row = {sweep.names[0]: 1.0, **{f"p_{o}": 0.25 for o in OUTCOMES}}
    run = SimpleNamespace(sweep=sweep, base=SimpleNamespace(name="base" + ESCAPES),
                          rows=[row], points=[{sweep.names[0]: 1.0}], reused=0)
    analysis = SimpleNamespace(tornado={}, tornado_base={}, sobol=[], discovery={},
                               discovery_missing="no inputs" + ESCAPES)
    text = "\n".join(summary_lines(run, analysis))  # type: ignore[arg-type]
    assert printable_lines(text), text
    assert "base\\x1b[2J" in text


# -- 4. spreadsheet formulas in CSV cells ----------------------------------------------------

def formula_names(data: dict[str, Any]) -> None:
    data["bidders"][0]["name"] = "=2+3"
    data["bidders"][1]["name"] = "@SUM(A1)"


@pytest.mark.slow
def test_replications_csv_neutralises_formulas_and_keeps_numbers(tmp_path: Path) -> None:
    run = run_of(example(formula_names))
    api.save(run, tmp_path / "out", figures=False)
    with (tmp_path / "out" / "replications.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    winners = {r["winner"] for r in rows}
    assert winners <= {"'=2+3", "'@SUM(A1)", ""} and len(winners) > 1, winners
    negative = [r["agreement_vs_deadline"] for r in rows
                if r["agreement_vs_deadline"].startswith("-")]
    assert negative and all(float(v) < 0 for v in negative)  # numbers untouched
    assert all(not v.startswith("'") for r in rows for k, v in r.items() if k != "winner")


def test_every_formula_start_is_neutralised_and_numbers_are_not() -> None:
    for text in FORMULAS:
        assert safe.csv_cell(text) == "'" + text
    for number in ("-1.5", "-3", "+2", "1e-05", "-1.2345e+10", "-inf", "nan", "0", ""):
        assert safe.csv_cell(number) == number
    assert safe.csv_cell(-1.5) == -1.5 and safe.csv_cell("Buyer A") == "Buyer A"


def test_sweep_points_csv_neutralises_formulas(tmp_path: Path) -> None:
    name = "=HYPERLINK(\"x\")"
    row = {name: -1.5, **{f"p_{o}{s}": 0.25 for o in OUTCOMES for s in ("", "_low", "_high")}}
    run = SimpleNamespace(sweep=SimpleNamespace(names=[name]), rows=[row])
    save_table(run, tmp_path)  # type: ignore[arg-type]
    with (tmp_path / "points.csv").open(encoding="utf-8", newline="") as f:
        header, values = list(csv.reader(f))
    assert header[1] == "'" + name and values[1] == "-1.5"


@pytest.mark.slow
def test_backtest_csv_neutralises_formulas(tmp_path: Path) -> None:
    files = []
    for i, source in enumerate(("grindr-2019-05-13.yaml", "lattice-2017-06-09.yaml")):
        data = yaml.safe_load((CASES / source).read_text(encoding="utf-8"))
        data["name"] = ["=1+1", "-cmd|' /C calc'!A0"][i]
        files.append(tmp_path / f"@case{i}.yaml")
        files[-1].write_text(yaml.safe_dump(data), encoding="utf-8")
    scored = run_cases(load_cases(files), 10, 7, 1)
    write_backtest(scored, 10, 7, 1, tmp_path / "out", figures=False)
    for table in ("backtest.csv", "backtest_by_kind.csv"):
        with (tmp_path / "out" / table).open(encoding="utf-8", newline="") as f:
            cells = [c for row in csv.reader(f) for c in row]
        assert not [c for c in cells if c.startswith(("=", "+", "@", "\t", "\r"))
                    or (c.startswith("-") and not _number(c))], table
    with (tmp_path / "out" / "backtest.csv").open(encoding="utf-8", newline="") as f:
        names = {row["name"] for row in csv.DictReader(f)}
    assert names == {"'=1+1", "'-cmd|' /C calc'!A0"}


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# -- 5. no library warnings on edge cases ----------------------------------------------------

def _no_sale(data: dict[str, Any]) -> None:
    data["parent"]["reservation_bn"] = 100  # above every valuation: sale never happens


def _one_bidder(data: dict[str, Any]) -> None:
    data["bidders"] = data["bidders"][:1]


def _all_sales(data: dict[str, Any]) -> None:
    data["parent"]["reservation_bn"] = 0.1
    for b in data["bidders"]:
        b["security_assurance"] = 1.0
    data["president"] = {"on_clear": {"block": 0}, "on_block": {"block": 0}}


def _odd_names(data: dict[str, Any]) -> None:
    data["name"] = "名字 🚀 $\\frac$ " + "Q" * 90 + ESCAPES
    data["bidders"][0]["name"] = "买家 $x^$ " + "W" * 90 + ESCAPES
    data["bidders"][1]["name"] = "$5 and $\\foo$ " + "M" * 100


def _huge_prices(data: dict[str, Any]) -> None:
    data["parent"]["reservation_bn"] = 1e307
    data["bidders"][0]["valuation_bn"] = 1e308
    data["bidders"][1]["valuation_bn"] = 1.7e308


EDGES = {"no sale": (_no_sale, 200), "one bidder": (_one_bidder, 200), "runs=1": (None, 1),
         "runs=2": (None, 2), "every run a sale": (_all_sales, 200),
         "odd names": (_odd_names, 200), "huge prices": (_huge_prices, 200)}


@contextmanager
def no_warnings() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


@pytest.mark.slow
@pytest.mark.parametrize("edge", list(EDGES))
def test_edge_cases_save_and_print_without_a_warning(edge: str, tmp_path: Path) -> None:
    edit, runs = EDGES[edge]
    run = run_of(example(edit), runs=runs)
    with no_warnings():
        summary = api.summarise(run)
        api.save(run, tmp_path / "out")
        format_summary(run, summary)
        api.tell(run, examples=True)
    assert (tmp_path / "out" / "report.html").exists()
    for png in (tmp_path / "out").glob("*.png"):
        assert max(png_size(png)) <= MAX_SIDE


@pytest.mark.slow
def test_a_backtest_of_one_case_draws_without_a_warning(tmp_path: Path) -> None:
    scored = run_cases(load_cases([CASES / "grindr-2019-05-13.yaml"]), 5, 7, 1)
    with no_warnings():
        write_backtest(scored, 5, 7, 1, tmp_path / "out")
    assert (tmp_path / "out" / "forecasts.png").exists()


# -- 6. the record is what ran ---------------------------------------------------------------

@contextmanager
def deadline(seconds: int) -> Iterator[None]:
    """Fail, not hang, if the block takes longer than ``seconds``."""
    def stop(signum: int, frame: Any) -> None:
        raise TimeoutError(f"still running after {seconds} s: a read that waits forever")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.slow
def test_a_scenario_file_deleted_after_loading_still_gets_its_page(tmp_path: Path) -> None:
    path = tmp_path / "gone.yaml"
    path.write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    run = api.run(api.load(path), runs=200, seed=7, workers=1)
    path.unlink()
    api.save(run, tmp_path / "out", figures=False)
    page = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "sell by this date (day 120)" in page  # its comments, from the text that ran


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
@pytest.mark.slow
def test_a_parent_file_replaced_by_a_fifo_neither_hangs_nor_fails(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    base = tmp_path / "base.yaml"
    base.write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    child = tmp_path / "child.yaml"
    child.write_text("extends: base.yaml\nname: child\n", encoding="utf-8")
    run = api.run(api.load(child), runs=100, seed=7, workers=1)
    real = report_page.inherit

    def then_swapped(*args: Any) -> Any:
        merged = real(*args)  # what it extends was read; now it becomes a FIFO
        base.unlink()
        os.mkfifo(base)
        return merged

    monkeypatch.setattr(report_page, "inherit", then_swapped)
    with deadline(20):
        api.save(run, tmp_path / "out", figures=False)
    page = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "sell by this date (day 120)" in page  # the lines of what was read


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
@pytest.mark.slow
def test_a_backtest_records_the_cases_that_ran_when_their_files_change(
        tmp_path: Path) -> None:
    files = []
    for name in ("grindr-2019-05-13.yaml", "lattice-2017-06-09.yaml"):
        files.append(tmp_path / name)
        files[-1].write_text((CASES / name).read_text(encoding="utf-8"), encoding="utf-8")
    cases = load_cases(files)
    scored = run_cases(cases, 5, 7, 1)
    files[0].unlink()  # deleted since it ran
    files[1].unlink()
    os.mkfifo(files[1])  # replaced by a FIFO: reading it would wait forever
    with deadline(20):
        data = write_backtest(scored, 5, 7, 1, tmp_path / "out", figures=False)
    assert data["scenario_files"] == {str(c.path.resolve()): c.scenario.source.sha256
                                      for c in cases}


# -- 7. memory per replication ---------------------------------------------------------------

def test_the_replications_csv_is_the_same_written_in_chunks(tmp_path: Path) -> None:
    from sim.outputs import tables

    run = run_of(example(formula_names), runs=120)
    whole = tables.replications_csv(run)
    old = tables.CHUNK_ROWS
    try:
        tables.CHUNK_ROWS = 7  # many small chunks, the last one short
        assert tables.replications_csv(run) == whole
    finally:
        tables.CHUNK_ROWS = old
    assert whole.count("\n") == 121


def test_a_block_keeps_its_inputs_not_its_whole_matrix_of_draws() -> None:
    from sim.running.results import DTYPES, Results

    draws = np.random.default_rng(0).random((1000, 90))  # inputs and latent uniforms
    rows = [Outcome(*[0] * len(DTYPES))] * 1000
    kept = Results.from_rows(rows, {"x": draws[:, 3]})["input.x"]
    assert not np.shares_memory(kept, draws)  # a view would hold all 90 columns alive
    np.testing.assert_array_equal(kept, draws[:, 3])


@pytest.mark.slow
def test_writing_replications_csv_holds_its_bytes_and_a_chunk(tmp_path: Path) -> None:
    import tracemalloc

    from sim.outputs.tables import write_replications
    from sim.running.results import Results

    small = run_of(example(), runs=1000)
    columns = {k: np.tile(v, 20) for k, v in small.results.columns.items()}  # 20,000 rows
    big = Run(small.scenario, small.path, Results(columns), 7, 1)
    tracemalloc.start()
    try:
        write_replications(big, tmp_path / "replications.csv")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    table = (tmp_path / "replications.csv").read_bytes()
    assert table.count(b"\n") == 20_001
    # its bytes once and a chunk's strings; a string per cell of the table: some 29 MB
    assert peak < len(table) + 6 * 2**20, (peak, len(table))


def test_gathering_blocks_gives_what_joining_them_gives() -> None:
    from sim.running.results import Gathering, Results

    rng = np.random.default_rng(1)
    parts = [Results({"outcome": rng.integers(0, 4, n).astype(np.int8),
                      "day": rng.random(n), "input.x": rng.random(n)})
             for n in (1000, 1000, 1000, 437)]
    joined = Results.concat(parts)
    for gathered in (Gathering(3437), Gathering(1000, most=3437), Gathering(1000, most=9000)):
        for part in parts:
            gathered.add(part)
        found = gathered.finished()
        assert found.columns.keys() == joined.columns.keys()
        for name, column in joined.columns.items():
            assert found[name].dtype == column.dtype and found[name].size == column.size
            np.testing.assert_array_equal(found[name], column)
    early = Gathering(1000, most=9000)
    early.add(parts[0])
    assert len(early.results()) == 1000 and early.finished()["day"].base is None
    with pytest.raises(ValueError, match="other columns"):
        early.add(Results({"outcome": parts[0]["outcome"]}))
