"""Narrated runs: a story is the replication's own event log, it reproduces the results
row it tells, tracing changes nothing, and known histories read as they should."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import realistic, scenario, scenario_from

from sim.model import Model
from sim.montecarlo import simulate
from sim.narrate import example_runs, format_story, narrate, replay, run_stories, story
from sim.outcome import OUTCOMES, SALE, SHUTDOWN, UNRESOLVED
from sim.results import Run
from sim.rng import BLOCK_SIZE
from sim.sampling import sample_block
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
ORACLE = ROOT / "scenarios" / "oracle.yaml"
SEED = 31


@pytest.fixture(scope="module")
def oracle_run() -> Run:
    s = load_scenario(ORACLE)
    return Run(s, ORACLE, simulate(s, 2300, SEED, workers=2), SEED, 2)


def test_tracing_changes_no_outcome() -> None:
    """Logging is observation only: every field of every row is the same with it on."""
    for s in (scenario_from(realistic()), load_scenario(ORACLE)):
        model = Model(s)
        keys, values = sample_block(s, SEED, 0, 400)
        for row in values.tolist():
            v = dict(zip(keys, row, strict=True))
            plain, traced = model.run(v), model.run(v, trace=[])
            assert np.array_equal(np.array(plain, float), np.array(traced, float),
                                  equal_nan=True)


@pytest.mark.parametrize("k", [0, 1, 999, 1000, 1777, 2000, 2299])
def test_story_reproduces_its_row(oracle_run: Run, k: int) -> None:
    """Replication K is block K // BLOCK_SIZE, row K % BLOCK_SIZE: re-run alone with tracing
    on, it ends exactly as row K of the results (the last block here is a short one)."""
    r = oracle_run.results
    told = story(oracle_run.scenario, SEED, k, runs=len(r))
    assert told.replication == k
    assert told.outcome.outcome == r["outcome"][k]
    assert told.outcome.day == r["day"][k]  # bit-identical, not approximately
    assert told.outcome.winner == r["winner"][k]
    if told.outcome.outcome == SALE:
        assert told.outcome.price_bn == r["price_bn"][k]
    assert OUTCOMES[told.outcome.outcome].upper() in told.headline
    assert told.lines[-1].day == told.outcome.day  # the story ends when the run ends


def test_examples_are_the_first_of_each_outcome(oracle_run: Run) -> None:
    outcomes = oracle_run.results["outcome"]
    found = example_runs(outcomes)
    assert set(found) == {SALE, SHUTDOWN, UNRESOLVED}
    for code, k in found.items():
        assert outcomes[k] == code and not np.any(outcomes[:k] == code)
    told = run_stories(oracle_run, list(found.values()))
    assert [s.outcome.outcome for s in told] == list(found)


def test_replay_rejects_a_replication_outside_the_run(oracle_run: Run) -> None:
    with pytest.raises(ValueError, match="between 0 and 2299"):
        replay(oracle_run.scenario, SEED, 2300, runs=2300)


# Every kind of event the actors log, so no event can go untold.
EVERY_KIND = {
    "bidder_arrives", "bidder_withdraws", "positions", "offers_cross", "signed",
    "review_starts", "investigation_starts", "review_extended", "recommendation",
    "mitigation_agreed", "president_decides", "licence_requested", "licence_decided",
    "deal_failed", "closing_starts", "deadline_extended", "deadline_expires",
    "deadline_lapses", "enforcement", "lawsuit", "injunction", "injunction_lifted", "end",
}


def test_every_event_kind_is_told() -> None:
    data = realistic()
    data["committee"].update(extension_probability=0.5, investigation_probability=0.7,
                             mitigation_threshold=0.3)
    data["deadlines"][0]["court"]["injunction_days"] = {"dist": "uniform", "low": 5,
                                                        "high": 200}
    data["bidders"][1]["withdraws_day"] = {"dist": "uniform", "low": 10, "high": 300}
    data["deadlines"].append({"id": "target", "date": "2020-10-30", "on_expiry": "lapse"})
    seen: set[str] = set()
    for s in (scenario_from(data), load_scenario(ORACLE),
              load_scenario(ROOT / "scenarios" / "microsoft.yaml")):
        model = Model(s)
        keys, values = sample_block(s, SEED, 0, 300)
        for row in values.tolist():
            trace: list = []
            model.run(dict(zip(keys, row, strict=True)), trace=trace)
            lines = narrate(s, trace)  # raises on an event kind it cannot tell
            assert lines and all(line.text.strip() for line in lines)
            assert [line.day for line in lines] == sorted(line.day for line in lines)
            seen |= {kind for _, kind, _ in trace}
    assert seen == EVERY_KIND


def texts(s, k: int = 0) -> list[str]:
    _, trace = replay(s, 1, k)
    return [f"{line.date} {line.text}" for line in narrate(s, trace)]


def test_a_known_shutdown_reads_as_it_happened() -> None:
    """No bidder; the ban at day 10 is sued against and enjoined for 5 days, then bites."""
    s = scenario("""
        name: known shutdown
        start: 2021-01-01
        horizon_days: 100
        deadlines: [{id: order, date: 2021-01-11}]
        parent: {name: P, reservation_bn: 1}
        court: {sue_probability: 1, injunction_probability: 1, injunction_days: 5}
    """)
    assert texts(s) == [
        "2021-01-11 The order deadline expires (not extended).",
        "2021-01-11 Enforcement starts: the ban takes effect.",
        "2021-01-11 P sues to stop it.",
        "2021-01-11 The court enjoins the ban (for 5 days, to 16 Jan 2021); the case goes on.",
        "2021-01-16 The injunction is lifted: the ban bites.",
        "2021-01-16 Nothing stops the ban any more: the business shuts down.",
    ]


def test_a_known_sale_reads_as_it_happened() -> None:
    """A bidder meets the parent by linear concession on day 100/3, is cleared, approved,
    and closes: offer 10·(0.5 + 0.5τ) meets demand 5·(1.5 − 0.5τ) at τ = 1/3, price 6.67."""
    s = scenario("""
        name: known sale
        start: 2021-01-01
        horizon_days: 365
        deadlines: [{id: order, date: 2021-04-11}]
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
                        "conceding toward the deadline in force (11 Apr 2021), they are on "
                        "course to meet on 03 Feb 2021 at USD 6.7 bn.")
    assert lines[2] == ("2021-02-03 Offer and demand meet 67 days before the deadline in "
                        "force, 11 Apr 2021: B offers USD 6.7 bn, P asks USD 6.7 bn.")
    assert lines[3] == ("2021-02-03 P and B sign a full acquisition at USD 6.7 bn; the deal "
                        "goes to the approvals.")
    assert lines[4:] == [
        "2021-02-03 CFIUS opens its review of the B deal.",
        "2021-02-13 CFIUS recommends clearing the deal.",
        "2021-02-18 The president approves the B deal (as recommended).",
        "2021-02-18 Every approval is in: the B deal starts closing.",
        "2021-02-28 The B deal closes: a sale at USD 6.7 bn.",
    ]


def test_format_story_dates_each_moment_once(oracle_run: Run) -> None:
    told = run_stories(oracle_run, [0])[0]
    text = format_story(oracle_run.scenario, told)
    lines = text.splitlines()
    assert lines[0] == told.headline
    assert "Mon 14 Sep 2020  day   0.0" in lines[1]
    assert all(len(line) <= 110 for line in lines[1:])


def run_cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "run.py"), *map(str, args)],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)


def test_cli_trace_run_tells_the_row_of_the_table(tmp_path: Path) -> None:
    k = BLOCK_SIZE + 234  # in the second, short block
    done = run_cli(ORACLE, "--runs", "1500", "--seed", SEED, "--out", tmp_path, "--quiet",
                   "--no-figures", "--trace-run", k)
    assert done.returncode == 0, done.stderr
    with (tmp_path / "replications.csv").open() as handle:
        row = list(csv.DictReader(handle))[k]
    first = done.stdout.splitlines()[0]
    assert first.startswith(f"Replication {k} (seed {SEED}) ends in {row['outcome'].upper()}")
    assert f"(day {float(row['day']):.0f})" in first


def test_cli_trace_tells_one_run_of_each_outcome(tmp_path: Path) -> None:
    done = run_cli(ORACLE, "--runs", "1000", "--out", tmp_path, "--quiet", "--no-figures",
                   "--trace")
    assert done.returncode == 0, done.stderr
    headlines = [line for line in done.stdout.splitlines() if line.startswith("Replication")]
    assert [h.split(" ends in ")[1].split()[0] for h in headlines] == [
        "SALE", "SHUTDOWN", "UNRESOLVED"]
    for words in ("sues", "CFIUS", "export licence", "deadline", "closes: a sale at USD"):
        assert words in done.stdout


def test_cli_trace_run_outside_the_run_is_an_error(tmp_path: Path) -> None:
    done = run_cli(ORACLE, "--runs", "100", "--out", tmp_path, "--trace-run", "100")
    assert done.returncode == 2
    assert "--trace-run" in done.stderr and "0 to 99" in done.stderr
    assert not (tmp_path / "summary.json").exists()
