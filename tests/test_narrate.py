"""Narrated runs: a story is the replication's own event log, it reproduces the results
row it tells, tracing changes nothing, every event type the model logs has a sentence,
and known histories read as they should."""

from __future__ import annotations

import csv
import subprocess
import sys
import typing
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from conftest import RICH_YAML, realistic, rich, scenario, scenario_from

from sim.model import events
from sim.model.events import EVENTS, Event
from sim.model.outcome import OUTCOMES, SALE, SHUTDOWN, UNRESOLVED
from sim.model.replication import Model
from sim.outputs.narration import (
    HANDLERS,
    Narrator,
    example_runs,
    format_story,
    narrate,
    replay,
    run_stories,
    story,
)
from sim.running.montecarlo import simulate
from sim.running.results import Run
from sim.running.sampling import sample_block
from sim.running.streams import BLOCK_SIZE

ROOT = Path(__file__).resolve().parents[1]
SEED = 31


@pytest.fixture(scope="module")
def rich_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("narrate") / "rich.yaml"
    path.write_text(RICH_YAML, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def rich_run(rich_file: Path) -> Run:
    s = scenario_from(rich())
    return Run(s, rich_file, simulate(s, 2300, SEED, workers=2), SEED, 2)


def pending_twin() -> dict:
    """The rich scenario as a pending transaction with a termination date instead of the
    divestiture order: blocks and the date end it as ``abandoned``."""
    doc = rich()
    doc["subject"] = "pending_transaction"
    doc["instruments"][1] = {"id": "s721", "kind": "transaction_termination",
                             "date": "2020-11-12"}
    return doc


@pytest.mark.slow
def test_tracing_changes_no_outcome() -> None:
    """Logging is observation only: every field of every row is the same with it on."""
    for s in (scenario_from(realistic()), scenario_from(rich())):
        model = Model(s)
        for values, draws, row in sample_block(s, SEED, 0, 400).rows():
            plain, traced = model.run(values, draws, row), model.run(values, draws, row, trace=[])
            assert np.array_equal(np.array(plain, float), np.array(traced, float),
                                  equal_nan=True)


@pytest.mark.slow
@pytest.mark.parametrize("k", [0, 1, 999, 1000, 1777, 2000, 2299])
def test_story_reproduces_its_row(rich_run: Run, k: int) -> None:
    """Replication K is block K // BLOCK_SIZE, row K % BLOCK_SIZE: re-run alone with tracing
    on, it ends exactly as row K of the results (the last block here is a short one)."""
    r = rich_run.results
    told = story(rich_run.scenario, SEED, k, runs=len(r))
    assert told.replication == k
    for field in ("outcome", "day", "winner", "state", "days_dark", "extensions",
                  "forbearances", "suits", "deals_signed"):
        assert getattr(told.outcome, field) == r[field][k], field  # bit-identical
    if told.outcome.outcome == SALE:
        assert told.outcome.price_bn == r["price_bn"][k]
    assert OUTCOMES[told.outcome.outcome].upper() in told.headline
    last = told.lines[-1].day
    # the story ends when the run ends (a shutdown is dated when the service went dark)
    assert last == (rich_run.scenario.horizon_days if told.outcome.outcome == SHUTDOWN
                    else told.outcome.day)


@pytest.mark.slow
def test_examples_are_the_first_of_each_outcome(rich_run: Run) -> None:
    outcomes = rich_run.results["outcome"]
    found = example_runs(outcomes)
    assert set(found) == {SALE, SHUTDOWN, UNRESOLVED}
    for code, k in found.items():
        assert outcomes[k] == code and not np.any(outcomes[:k] == code)
    told = run_stories(rich_run, list(found.values()))
    assert [s.outcome.outcome for s in told] == list(found)


@pytest.mark.slow
def test_run_stories_refuses_a_story_that_does_not_reproduce_its_row(rich_run: Run) -> None:
    """run_stories checks each story against the table: a row changed after the run is
    caught, not narrated."""
    r = rich_run.results
    k = int(np.flatnonzero(r["outcome"] == SALE)[0])
    forged = dict(r.columns)
    forged["day"] = r["day"].copy()
    forged["day"][k] += 1.0
    bad = Run(rich_run.scenario, rich_run.path, type(r)(forged), SEED, 2)
    with pytest.raises(RuntimeError, match=f"replication {k} did not reproduce its row"):
        run_stories(bad, [k])


@pytest.mark.slow
def test_replay_rejects_a_replication_outside_the_run(rich_run: Run) -> None:
    with pytest.raises(ValueError, match="between 0 and 2299"):
        replay(rich_run.scenario, SEED, 2300, runs=2300)


def test_every_event_type_has_a_narration_handler() -> None:
    """Each registered event type has its sentence (a type the narrator cannot tell fails
    here, not when some story happens to reach it)."""
    missing = [kind.__name__ for kind in EVENTS if kind not in HANDLERS]
    assert missing == [], f"no narration for {missing}"


def test_every_handler_tells_a_registered_event_of_its_own_type() -> None:
    """No handler is left for a type that is not a registered event any more, and each
    method is registered for the very type its argument is annotated with."""
    assert set(HANDLERS) <= set(EVENTS), set(HANDLERS) - set(EVENTS)
    for kind, handler in HANDLERS.items():
        assert typing.get_type_hints(handler)["e"] is kind, handler.__name__


def test_the_registry_holds_every_event_type_once() -> None:
    """``EVENTS`` lists every Event subclass in sim.model.events, each once, each with its
    own kind (the name the earlier tuple view of the log gives it)."""
    defined = {obj for obj in vars(events).values()
               if isinstance(obj, type) and issubclass(obj, Event) and obj is not Event}
    assert len(EVENTS) == len(set(EVENTS)) and set(EVENTS) == defined
    kinds = [kind.kind for kind in EVENTS]
    assert len(set(kinds)) == len(kinds) and all(kinds)


@pytest.mark.slow
def test_an_event_type_without_a_handler_is_refused_by_name(rich_run: Run) -> None:
    @dataclass(frozen=True, slots=True)
    class Unknown(Event):
        pass

    with pytest.raises(TypeError, match="no narration for event type Unknown"):
        Narrator(rich_run.scenario).tell(Unknown(0.0))


@pytest.mark.slow
def test_many_rich_replications_are_told_and_every_type_occurs() -> None:
    """2,000 replications of the rich scenario and its pending-transaction twin, traced
    and narrated: each story is dated in order, every sentence says something, and between
    them every event type the model logs occurs (so each handler above is exercised)."""
    seen: set[type[Event]] = set()
    for s in (scenario_from(rich()), scenario_from(pending_twin())):
        model = Model(s)
        for values, draws, row in sample_block(s, SEED, 0, 1000).rows():
            trace: list[Event] = []
            model.run(values, draws, row, trace=trace)
            lines = narrate(s, trace)  # raises on an event type it cannot tell
            assert lines and all(line.text.strip() for line in lines)
            assert [line.day for line in lines] == sorted(line.day for line in lines)
            seen |= {type(event) for event in trace}
    assert seen == set(EVENTS), set(EVENTS) - seen


@pytest.mark.slow
def test_run_stories_reproduces_rows_of_every_outcome(rich_run: Run) -> None:
    """Twenty replications of each outcome of the rich run, told and checked against
    their rows by run_stories (which raises on any mismatch)."""
    r = rich_run.results["outcome"]
    wanted = [int(k) for code in (SALE, SHUTDOWN, UNRESOLVED)
              for k in np.flatnonzero(r == code)[:20]]
    told = run_stories(rich_run, wanted)
    assert [s.replication for s in told] == wanted
    assert all(s.lines for s in told)


def texts(s, k: int = 0) -> list[str]:
    _, trace = replay(s, 1, k)
    return [f"{line.date} {line.text}" for line in narrate(s, trace)]


def test_a_known_shutdown_reads_as_it_happened() -> None:
    """No bidder. The parent sues five days before the ban (day 10) and wins an
    injunction on day 15; the government's appeal reverses it on day 45 and the ban,
    looked at again, bites for good: v2's shutdown, a service dark at the horizon."""
    s = scenario("""
        name: known shutdown
        start: 2021-01-01
        horizon_days: 100
        instruments: [{id: order, kind: service_ban, date: 2021-01-11}]
        parent: {name: P, reservation_bn: 1}
        court:
          plaintiffs: [{name: P, files_day: -5}]
          ruling_days: 10
          injunction_probability: 1
          appeal_probability: 1
          appeal_days: 30
          reversal_probability: 1
    """)
    assert texts(s) == [
        "2021-01-06 A suit by P asks the court to stop the order ban.",
        "2021-01-11 The order ban takes effect (no bidder the parent would deal with).",
        "2021-01-11 The service goes dark in the country.",
        "2021-01-16 The court, in the suit by P, enjoins the order ban: it cannot be "
        "enforced while the injunction stands.",
        "2021-01-16 The service comes back on.",
        "2021-01-16 In the suit by P, the government appeals.",
        "2021-02-15 In the suit by P, the appeals court reverses the ruling.",
        "2021-02-15 The injunction in the suit by P is lifted.",
        "2021-02-15 The order ban takes effect (no bidder the parent would deal with).",
        "2021-02-15 The service goes dark in the country.",
        "2021-04-11 The horizon is reached with the service still dark: a shutdown.",
    ]


def test_a_known_sale_reads_as_it_happened() -> None:
    """A bidder meets the parent by linear concession on day 100/3, is cleared, approved,
    and closes: offer 10·(0.5 + 0.5τ) meets demand 5·(1.5 − 0.5τ) at τ = 1/3, price 6.67."""
    s = scenario("""
        name: known sale
        start: 2021-01-01
        horizon_days: 365
        instruments: [{id: order, kind: service_ban, date: 2021-04-11}]
        parent: {name: P, reservation_bn: 5, aspiration_multiple: 1.5}
        bidders:
          - {name: B, valuation_bn: 10, opening_fraction: 0.5, security_assurance: 0.9}
        committee: {name: CFIUS, review_days: 10, investigation_probability: 0}
        president: {decision_days: 5}
        closing: {days: 10}
    """)
    lines = texts(s)
    assert lines[0] == ("2021-01-01 B enters the bidding for a full acquisition (it values "
                        "the business at up to USD 10.0 bn).")
    assert lines[1] == ("2021-01-01 B offers USD 5.0 bn against P's ask of USD 7.5 bn; "
                        "conceding toward the threat in force (11 Apr 2021), they are on "
                        "course to meet on 03 Feb 2021 at USD 6.7 bn.")
    assert lines[2] == ("2021-02-03 Offer and demand meet 67 days before the threat in "
                        "force, 11 Apr 2021: B offers USD 6.7 bn, P asks USD 6.7 bn.")
    assert lines[3] == ("2021-02-03 P and B sign a full acquisition at USD 6.7 bn; the deal "
                        "goes to the approvals.")
    assert lines[4:] == [
        "2021-02-03 CFIUS opens its review of the B deal.",
        "2021-02-13 CFIUS recommends clearing the deal.",
        "2021-02-18 The president approves the B deal (on a clearing recommendation).",
        "2021-02-18 Every approval is in: the B deal starts closing.",
        "2021-02-28 The B deal closes: a sale valuing the business at USD 6.7 bn.",
    ]


@pytest.mark.slow
def test_format_story_dates_each_moment_once(rich_run: Run) -> None:
    told = run_stories(rich_run, [0])[0]
    text = format_story(rich_run.scenario, told)
    lines = text.splitlines()
    assert lines[0] == told.headline
    assert "Mon 14 Sep 2020  day   0.0" in lines[1]
    assert all(len(line) <= 110 for line in lines[1:])


def run_cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "run.py"), *map(str, args)],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)


@pytest.mark.slow
def test_cli_trace_run_tells_the_row_of_the_table(rich_file: Path, tmp_path: Path) -> None:
    k = BLOCK_SIZE + 234  # in the second, short block
    done = run_cli(rich_file, "--runs", "1500", "--seed", SEED, "--out", tmp_path, "--quiet",
                   "--no-figures", "--trace-run", k)
    assert done.returncode == 0, done.stderr
    with (tmp_path / "replications.csv").open() as handle:
        row = list(csv.DictReader(handle))[k]
    first = done.stdout.splitlines()[0]
    assert first.startswith(f"Replication {k} (seed {SEED}) ends in {row['outcome'].upper()}")
    assert f"(day {float(row['day']):.0f})" in first


@pytest.mark.slow
def test_cli_trace_tells_one_run_of_each_outcome(rich_file: Path, tmp_path: Path) -> None:
    done = run_cli(rich_file, "--runs", "1000", "--seed", SEED, "--out", tmp_path, "--quiet",
                   "--no-figures", "--trace")
    assert done.returncode == 0, done.stderr
    headlines = [line for line in done.stdout.splitlines() if line.startswith("Replication")]
    assert [h.split(" ends in ")[1].split()[0].rstrip(",") for h in headlines] == [
        "SALE", "SHUTDOWN", "UNRESOLVED"]
    for words in ("A suit by", "review committee", "export licence", "goes dark",
                  "closes: a sale valuing the business at USD"):
        assert words in done.stdout


@pytest.mark.slow
def test_cli_trace_run_outside_the_run_is_an_error(rich_file: Path, tmp_path: Path) -> None:
    done = run_cli(rich_file, "--runs", "100", "--out", tmp_path, "--trace-run", "100")
    assert done.returncode == 2
    assert "--trace-run" in done.stderr and "0 to 99" in done.stderr
    assert not (tmp_path / "summary.json").exists()
