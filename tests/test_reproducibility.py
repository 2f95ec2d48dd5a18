"""Reproducibility: keyed random streams make results a function of (scenario, seed) only.

Bit-identical whatever the number of workers, prefixes of longer runs, and one actor's
draws untouched by another actor's presence or parameters.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import realistic, rich, run, scenario_from

from sim.running.results import Results

SEED = 77


def assert_identical(a: Results, b: Results, columns: list[str] | None = None) -> None:
    names = columns if columns is not None else list(a.columns)
    if columns is None:
        assert list(a.columns) == list(b.columns)
    for name in names:
        x, y = a[name], b[name]
        assert x.dtype == y.dtype, name
        assert np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), f"column {name} differs"


@pytest.fixture(scope="module")
def realistic_scenario():
    return scenario_from(realistic())


@pytest.fixture(scope="module")
def serial(realistic_scenario):
    return run(realistic_scenario, 2500, SEED, workers=1)


@pytest.mark.slow
def test_same_seed_same_results_whatever_the_workers(realistic_scenario, serial):
    """2,500 runs are three blocks (1000, 1000, 500); two processes share them out."""
    parallel = run(realistic_scenario, 2500, SEED, workers=2)
    assert len(parallel) == len(serial) == 2500
    assert_identical(serial, parallel)
    assert_identical(serial, run(realistic_scenario, 2500, SEED, workers=1))


def test_more_workers_than_blocks(realistic_scenario):
    small = run(realistic_scenario, 700, SEED, workers=1)
    assert_identical(small, run(realistic_scenario, 700, SEED, workers=4))


@pytest.mark.slow
def test_different_seed_different_results(realistic_scenario, serial):
    other = run(realistic_scenario, 2500, SEED + 1, workers=1)
    for name in serial.columns:
        if name.startswith("input."):
            # a continuous input never repeats a value across seeds
            assert not np.any(serial[name] == other[name]), name
    assert not np.array_equal(serial["outcome"], other["outcome"])
    assert not np.array_equal(serial["day"], other["day"])
    # but the two estimates agree statistically (same model)
    p1, p2 = (np.mean(r["outcome"] == 0) for r in (serial, other))
    assert abs(p1 - p2) < 0.05


@pytest.mark.slow
def test_short_run_is_a_prefix_of_a_long_one(realistic_scenario, serial):
    short = run(realistic_scenario, 300, SEED)
    assert len(short) == 300
    for name in serial.columns:
        assert np.array_equal(short[name], serial[name][:300], equal_nan=True), name
    # and across a block boundary
    longer = run(realistic_scenario, 1300, SEED)
    for name in serial.columns:
        assert np.array_equal(longer[name], serial[name][:1300], equal_nan=True), name


@pytest.mark.slow
def test_bidder_who_never_arrives_changes_nothing(realistic_scenario, serial):
    """A third bidder arriving after the horizon: every existing column is bit-identical
    (draws are keyed by actor name, not position), and only its own input is added."""
    doc = realistic()
    doc["bidders"].append({"name": "Latecomer", "arrives_day": 1000,
                           "valuation_bn": {"dist": "uniform", "low": 40, "high": 60}})
    more = run(scenario_from(doc), 2500, SEED)
    assert set(more.columns) - set(serial.columns) == {"input.bidders.Latecomer.valuation_bn"}
    assert_identical(serial, more, columns=list(serial.columns))


@pytest.mark.slow
def test_new_bidder_does_not_shift_other_actors_draws(realistic_scenario, serial):
    """A bidder who does take part changes outcomes, but no other actor's sampled input."""
    doc = realistic()
    doc["bidders"].insert(0, {"name": "Walmart", "arrives_day": {"dist": "uniform",
                                                                 "low": 0, "high": 30},
                              "valuation_bn": {"dist": "uniform", "low": 40, "high": 60}})
    more = run(scenario_from(doc), 2500, SEED)
    inputs = [n for n in serial.columns if n.startswith("input.")]
    assert_identical(serial, more, columns=inputs)
    assert not np.array_equal(serial["outcome"], more["outcome"])  # it does matter


@pytest.mark.slow
def test_reordering_bidders_keeps_their_draws(serial):
    doc = realistic()
    doc["bidders"].reverse()
    swapped = run(scenario_from(doc), 2500, SEED)
    inputs = [n for n in serial.columns if n.startswith("input.")]
    assert_identical(serial, swapped, columns=inputs)
    # same outcomes; only the winner's index follows the new order (0 <-> 1)
    assert np.array_equal(serial["outcome"], swapped["outcome"])
    assert np.array_equal(serial["day"], swapped["day"])
    flipped = np.where(serial["winner"] >= 0, 1 - serial["winner"], -1)
    assert np.array_equal(flipped, swapped["winner"])


@pytest.mark.slow
def test_common_random_numbers_move_draws_monotonically(serial):
    """Changing one distribution moves each replication's draw the same way (inverse CDF
    of the same uniform) and leaves every other input alone."""
    doc = realistic()
    doc["parent"]["reservation_bn"]["median"] = 36  # was 30: lognormal scales by 1.2
    doc["bidders"][1]["valuation_bn"]["high"] = 45  # was uniform(20, 35)
    moved = run(scenario_from(doc), 2500, SEED)
    key = "input.parent.reservation_bn"
    np.testing.assert_allclose(moved[key], 1.2 * serial[key], rtol=1e-12)
    val = "input.bidders.Microsoft.valuation_bn"
    u_before, u_after = (serial[val] - 20) / 15, (moved[val] - 20) / 25
    np.testing.assert_allclose(u_after, u_before, rtol=1e-9, atol=1e-12)
    others = [n for n in serial.columns if n.startswith("input.") and n not in (key, val)]
    assert_identical(serial, moved, columns=others)


# --- model v2: per-occurrence streams -----------------------------------------------------

@pytest.fixture(scope="module")
def rich_serial():
    return run(scenario_from(rich()), 2500, SEED, workers=1)


@pytest.mark.slow
def test_rich_scenario_is_bit_identical_for_one_and_two_workers(rich_serial):
    """Per-occurrence streams (each extension, forbearance, ruling, appeal, review ... its
    own keyed stream) keep every column bit-identical whatever the number of workers."""
    assert_identical(rich_serial, run(scenario_from(rich()), 2500, SEED, workers=2))
    assert len(np.unique(rich_serial["outcome"])) == 3  # a run with something to differ


@pytest.mark.slow
def test_an_event_that_never_happens_changes_nothing(rich_serial):
    """A political event with probability 0 (a dated event that will not happen) adds
    draw streams but moves none: every column is bit-identical."""
    doc = rich()
    doc["politics"].append({"id": "never", "date": "2020-10-01", "probability": 0,
                            "set": {"instruments.ban.enforcement.lapse.otherwise": 0.3}})
    assert_identical(rich_serial, run(scenario_from(doc), 2500, SEED))


@pytest.mark.slow
def test_a_plaintiff_who_never_sues_changes_nothing(rich_serial):
    """A third plaintiff against the ban with sue_probability 0: more ruling and appeal
    occurrences are sized for the court, but the k-th ruling still takes the k-th draw,
    so every column is bit-identical."""
    doc = rich()
    doc["instruments"][0]["court"]["plaintiffs"].append(
        {"name": "States", "sue_probability": 0, "files_day": 5})
    assert_identical(rich_serial, run(scenario_from(doc), 2500, SEED))


@pytest.mark.slow
def test_a_cap_never_reached_moves_no_draw():
    """With extension_decay 0 the ban is extended once at most (its chance times 0 to the
    power of the extensions so far), so raising max_extensions from 3 to 8 only widens
    its streams (and the authority's decision streams): every column is bit-identical."""
    def with_cap(most: int):
        doc = rich()
        doc["instruments"][0]["enforcement"].update(extension_decay=0.0, max_extensions=most)
        return run(scenario_from(doc), 1500, SEED)
    three = with_cap(3)
    assert three["extensions"].max() >= 1
    assert_identical(three, with_cap(8))
