"""A hostile-input battery against the scenario loader: each case once gave a traceback
where one line is promised, accepted a value its key refuses, or blocked for ever.

Documents are ``conftest.REALISTIC_YAML`` with one key changed, written to a file and read
with ``load_scenario``; each error must be one ``ScenarioError`` line naming the file, the
line and the key path. A few go through ``run.py`` too (exit 2, one ``error:`` line).

Lines of REALISTIC_YAML used below: 1 name, 2 start, 3 horizon_days, 7 the ban's date,
10 extension_days, 11 max_extensions, 13 plaintiffs, 18 reservation_bn,
19 concession_exponent, 28 Oracle's security_assurance, 30 - name: Microsoft,
31 arrives_day, 32 Microsoft's valuation_bn, 36 review_days; appended text starts on 37.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import REALISTIC_YAML, ROOT

from sim import limits
from sim.errors import ScenarioError
from sim.outputs.narration import stories
from sim.provenance import scenario_record
from sim.running.montecarlo import simulate
from sim.scenario.loading import load_scenario
from sim.scenario.schema import Scenario

U_MAX = 1 - 2**-53  # the largest uniform the streams give (Generator.random() is on [0, 1))


def edit(old: str, new: str, text: str = REALISTIC_YAML) -> str:
    """The realistic scenario with one key changed (``old`` must occur exactly once)."""
    assert text.count(old) == 1, old
    return text.replace(old, new)


def write(folder: Path, text: str, name: str = "hostile.yaml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def refused(folder: Path, text: str, name: str = "hostile.yaml") -> tuple[Path, str]:
    """The file written and the one line ``load_scenario`` refuses it with."""
    path = write(folder, text, name)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    message = str(info.value)
    assert message.isprintable() and "Traceback" not in message, repr(message)
    return path, message


def expect(folder: Path, text: str, line: int, key: str, *says: str) -> str:
    """Refused at ``file:line: key: `` saying each of ``says``."""
    path, message = refused(folder, text)
    prefix = f"{path}:{line}: {key}: "
    assert message.startswith(prefix), f"{message!r} does not start with {prefix!r}"
    for s in says:
        assert s in message, f"{s!r} not in {message!r}"
    return message


def loads(folder: Path, text: str) -> Scenario:
    return load_scenario(write(folder, text))


# --- 1. a YAML tag whose constructor fails -------------------------------------------------

@pytest.mark.parametrize(("value", "says"), [
    ("!!timestamp garbage", "not a valid timestamp"),
    ("!!timestamp 2020-13-45", "not a valid timestamp"),
    ("!!float nope", "not a valid float"),
    ("!!bool maybe", "not a valid bool"),
    ("!!set [1, 2]", ""), ("!!omap [1]", ""), ("!!pairs {a: 1}", ""), ("!!binary '!!!'", ""),
])
def test_a_failing_yaml_constructor_is_one_line(tmp_path: Path, value: str, says: str) -> None:
    path, message = refused(tmp_path, edit("name: test", f"name: {value}"))
    assert message.startswith(f"{path}:1: "), message
    assert says in message, message


# --- 2, 3, 6. numbers too large to compute with ---------------------------------------------

def test_choice_weights_that_overflow_their_sum_are_normalised(tmp_path: Path) -> None:
    """[1e308, 1e308] are equal weights: their sum overflows, their ratio does not."""
    heavy = "{dist: choice, values: [1, 2], weights: [1.0e+308, 1.0e+308]}"
    s = loads(tmp_path, edit("concession_exponent: 0.4", f"concession_exponent: {heavy}"))
    np.testing.assert_array_equal(s.parent.concession_exponent.ppf(np.array([0.25, 0.75])),
                                  [1, 2])
    s = loads(tmp_path, edit("arrives_day: {dist: exponential, mean: 20}",
                             f"arrives_day: {heavy}"))
    assert len(simulate(s, 3, 1)) == 3


@pytest.mark.parametrize("beta", ["{dist: beta, mean: 1e-320, sd: 1e308}",
                                  "{dist: beta, mean: 0.5, sd: 1.0e+200}"])
def test_beta_with_an_enormous_sd_is_one_line(tmp_path: Path, beta: str) -> None:
    expect(tmp_path, edit("{dist: beta, mean: 0.6, sd: 0.15}", beta), 28,
           "bidders[0].security_assurance", "sd too large")


@pytest.mark.parametrize("dist", [
    "{dist: lognormal, median: 1e308, sigma: 0.25}",
    "{dist: lognormal, median: 30, sigma: 1000}",
    "{dist: exponential, mean: 1e308}",
    "{dist: normal, mean: 1e308, sd: 1e308, low: 1}",
    "{dist: normal, mean: 1, sd: 1e308, low: 0}",
    "{dist: uniform, low: -1.7e308, high: 1.7e308}",
])
def test_distributions_with_non_finite_draws_or_mean_are_refused(tmp_path: Path,
                                                                  dist: str) -> None:
    """Such a lognormal once ran and priced deals at infinity."""
    expect(tmp_path, edit("valuation_bn: {dist: uniform, low: 20, high: 35}",
                          f"valuation_bn: {dist}"), 32, "bidders[1].valuation_bn",
           "range overflows")


# --- 4. dates and day counts inside the calendar ---------------------------------------------

def test_a_day_count_past_the_cap_is_refused(tmp_path: Path) -> None:
    """An extension of 3,000,000 days once crashed narration after the whole run (a date
    past 9999-12-31); every day count is capped at limits.MAX_DAYS."""
    expect(tmp_path, edit("extension_days: {dist: triangular, low: 7, mode: 7, high: 30}",
                          "extension_days: 3000000"), 10,
           "instruments[0].enforcement.extension_days", f"at most {limits.MAX_DAYS:,} days")
    expect(tmp_path, edit("review_days: {dist: uniform, low: 3, high: 10}",
                          "review_days: {dist: uniform, low: 3, high: 4000}"), 36,
           "committee.review_days", f"at most {limits.MAX_DAYS:,} days", "[3, 4000]")
    expect(tmp_path, edit("max_extensions: 2", "max_extensions: 2\n"
                          "      max_total_extension_days: 5000"), 12,
           "instruments[0].enforcement.max_total_extension_days", "3650")
    expect(tmp_path, REALISTIC_YAML + "entrants:\n  gap_days: 4000\n"
           "  template: {name: E, valuation_bn: 10}\n", 38, "entrants.gap_days",
           f"at most {limits.MAX_DAYS:,} days")


@pytest.mark.parametrize(("old", "new", "line", "key", "says"), [
    ("start: 2020-09-14", "start: 1899-12-31", 2, "start", "before 1900-01-01"),
    ("date: 2020-09-20", "date: 2320-09-20", 7, "instruments[0].date", "after 2200-12-31"),
    ("start: 2020-09-14", "start: 2200-06-01", 3, "horizon_days", "after 2200-12-31"),
    ("date: 2020-09-20", "date: 2020-09-20\n    issued: 1850-01-01", 8,
     "instruments[0].issued", "before 1900-01-01"),
    ("date: 2020-09-20", "date: 2020-09-20\n    tiers: [{id: t, date: 2201-01-01}]", 8,
     "instruments[0].tiers[0].date", "after 2200-12-31"),
])
def test_dates_stay_inside_the_calendar_window(tmp_path: Path, old: str, new: str, line: int,
                                               key: str, says: str) -> None:
    """A deadline 300 years away is refused: every date lies in 1900-01-01..2200-12-31."""
    expect(tmp_path, edit(old, new), line, key, says)


def test_event_and_record_dates_stay_inside_the_window(tmp_path: Path) -> None:
    expect(tmp_path, REALISTIC_YAML + "politics:\n  - {id: e, date: 2201-01-01}\n", 38,
           "politics[0].date", "after 2200-12-31")
    expect(tmp_path, REALISTIC_YAML + "actual:\n  outcome: sale\n  date: 2201-01-01\n"
           "  source: x\n", 39, "actual.date", "after 2200-12-31")


@pytest.mark.parametrize("value", ["20200914", "0"])
def test_a_number_is_not_a_date(tmp_path: Path, value: str) -> None:
    """20200914 was read as seconds since 1970 (1970-08-23)."""
    expect(tmp_path, edit("start: 2020-09-14", f"start: {value}"), 2, "start",
           "expected a date")


def test_every_date_the_model_can_reach_is_narrated(tmp_path: Path) -> None:
    """Everything at its cap at the end of the window: the horizon ends on 2200-12-31, the
    ban falls due on its last day, twenty extensions of 3,650 days: narration (which once
    crashed after a whole run) gives a date for every event."""
    cap = limits.MAX_DAYS
    last = dt.date(limits.LAST_YEAR, 12, 31)
    text = (edit("start: 2020-09-14", f"start: {last - dt.timedelta(days=cap)}")
            .replace("horizon_days: 365", f"horizon_days: {cap}")
            .replace("date: 2020-09-20", f"date: {last - dt.timedelta(days=1)}")
            .replace("extend: {otherwise: 0.1, signed: 0.7, under_review: 0.7, "
                     "approved_in_concept: 0.7}", "extend: {otherwise: 1}")
            .replace("{dist: triangular, low: 7, mode: 7, high: 30}", str(cap))
            .replace("max_extensions: 2", "max_extensions: 20")
            .replace("arrives_day: {dist: exponential, mean: 20}", f"arrives_day: {cap}"))
    s = loads(tmp_path, text)
    told = " ".join(line.text for story in stories(s, 1, 10, range(10))
                    for line in story.lines)
    assert "2210" in told  # the ban extended ten years past the window's end


# --- 5. a distribution's draws obey the bounds of its key -----------------------------------

def test_choice_values_obey_the_bound_of_a_plain_value(tmp_path: Path) -> None:
    """review_days: 0 is refused, so a choice that draws 0 half the time is too."""
    expect(tmp_path, edit("review_days: {dist: uniform, low: 3, high: 10}",
                          "review_days: {dist: choice, values: [45, 0]}"), 36,
           "committee.review_days", "must be > 0 days")
    expect(tmp_path, edit("valuation_bn: {dist: uniform, low: 20, high: 35}",
                          "valuation_bn: {dist: choice, values: [20, 0], weights: [1, 0]}"),
           32, "bidders[1].valuation_bn", "must be > 0 (USD bn)")


def test_an_unbounded_tail_of_days_is_cut_at_the_cap(tmp_path: Path) -> None:
    """An exponential or lognormal number of days has no upper end: its draws past the
    cap are the cap (a day past any horizon), unless most of them would be."""
    s = loads(tmp_path, edit("arrives_day: {dist: exponential, mean: 20}",
                             "arrives_day: {dist: exponential, mean: 2000}"))
    arrives = s.bidders[1].arrives_day
    assert arrives.support() == (0.0, limits.MAX_DAYS)
    assert float(arrives.ppf(np.array([U_MAX]))[0]) == limits.MAX_DAYS
    assert float(arrives.ppf(np.array([0.5]))[0]) == pytest.approx(2000 * np.log(2))
    expect(tmp_path, edit("arrives_day: {dist: exponential, mean: 20}",
                          "arrives_day: {dist: lognormal, median: 5000, sigma: 0.5}"), 31,
           "bidders[1].arrives_day", "more than half")
    # a bounded range past the cap is refused, not cut
    expect(tmp_path, edit("arrives_day: {dist: exponential, mean: 20}",
                          "arrives_day: {dist: normal, mean: 10, sd: 3, low: 0, high: 9999}"),
           31, "bidders[1].arrives_day", f"at most {limits.MAX_DAYS:,} days")


# --- 7. the same id or name twice in one file's list ---------------------------------------

def test_duplicate_items_in_an_extending_file_are_refused(tmp_path: Path) -> None:
    """Two Microsofts in a child once merged silently, the second's price winning."""
    write(tmp_path, REALISTIC_YAML, "base.yaml")
    child = write(tmp_path, "extends: base.yaml\nbidders:\n"
                  "  - {name: Microsoft, valuation_bn: 20}\n"
                  "  - {name: Microsoft, valuation_bn: 99}\n", "child.yaml")
    with pytest.raises(ScenarioError) as info:
        load_scenario(child)
    assert str(info.value).startswith(
        f"{child}:4: bidders[1].name: duplicate bidder name 'Microsoft'"), str(info.value)
    for block, first, second, noun in [
            ("instruments", "{id: ban, date: 2020-09-21}", "{id: ban, date: 2020-09-22}",
             "instrument id 'ban'"),
            ("politics", "{id: e, date: 2020-10-01}", "{id: e, date: 2020-10-02}",
             "event id 'e'")]:
        child = write(tmp_path, f"extends: base.yaml\n{block}:\n  - {first}\n  - {second}\n",
                      "child.yaml")
        with pytest.raises(ScenarioError) as info:
            load_scenario(child)
        assert str(info.value).startswith(f"{child}:4: {block}[1].id: duplicate {noun}"), \
            str(info.value)


def test_duplicate_items_in_nested_lists_name_the_second(tmp_path: Path) -> None:
    expect(tmp_path, edit("plaintiffs: [{name: ByteDance, sue_probability: 0.9}]",
                          "plaintiffs:\n        - {name: ByteDance}\n        - {name: ByteDance}"),
           15, "instruments[0].court.plaintiffs[1].name", "duplicate plaintiff name 'ByteDance'")
    expect(tmp_path, edit("date: 2020-09-20", "date: 2020-09-20\n    tiers:\n"
                          "      - {id: a, date: 2020-09-20}\n      - {id: a, date: 2020-10-20}"),
           10, "instruments[0].tiers[1].id", "duplicate tier id 'a'", "line 9")
    # a long name is cut short in the message (found by the fuzzer: 601 characters)
    long = "x" * 500
    message = expect(tmp_path, edit("plaintiffs: [{name: ByteDance, sue_probability: 0.9}]",
                                    f"plaintiffs: [{{name: {long}}}, {{name: {long}}}]"),
                     13, "instruments[0].court.plaintiffs[1].name", "duplicate plaintiff name")
    assert len(message) < 300, message


def test_a_long_unknown_key_is_cut_short(tmp_path: Path) -> None:
    """A 20,000-character key once made a 20,000-character line (the hostile battery)."""
    key = "k" * 20_000  # longer than a plain key may be: written as an explicit one
    message = expect(tmp_path, edit("  review_days:", f"  ? {key}\n  : 1\n  review_days:"),
                     36, "committee." + "k" * 60 + "…", "unknown key")
    assert len(message) < 400, len(message)


# --- 8. booleans are not numbers -----------------------------------------------------------

@pytest.mark.parametrize(("old", "new", "line", "key"), [
    ("horizon_days: 365", "horizon_days: true", 3, "horizon_days"),
    ("max_extensions: 2", "max_extensions: true", 11, "instruments[0].enforcement.max_extensions"),
    ("concession_exponent: 0.4", "concession_exponent: {dist: choice, values: [true, false]}",
     19, "parent.concession_exponent.values[0]"),
    ("concession_exponent: 0.4",
     "concession_exponent: {dist: choice, values: [1, 2], weights: [true, 1]}", 19,
     "parent.concession_exponent.weights[0]"),
    ("review_days: {dist: uniform, low: 3, high: 10}",
     "review_days: {dist: uniform, low: true, high: 10}", 36, "committee.review_days.low"),
    ("date: 2020-09-20", "date: 2020-09-20\n    qualifying: {max_parent_stake: false}", 8,
     "instruments[0].qualifying.max_parent_stake"),
])
def test_booleans_are_never_numbers(tmp_path: Path, old: str, new: str, line: int,
                                    key: str) -> None:
    """``horizon_days: true`` once ran as one day."""
    expect(tmp_path, edit(old, new), line, key, "true/false")


def test_numbers_are_not_booleans(tmp_path: Path) -> None:
    expect(tmp_path, edit("needs_export_licence: true", "needs_export_licence: 1"), 29,
           "bidders[0].needs_export_licence", "true or false")


def test_a_correlation_rank_is_not_a_boolean(tmp_path: Path) -> None:
    expect(tmp_path, REALISTIC_YAML + "correlations:\n  - inputs: [parent.reservation_bn, "
           "bidders.Microsoft.valuation_bn]\n    rank: true\n", 39, "correlations[0].rank",
           "true/false")


# --- 9. YAML 1.1's base-60 numbers ---------------------------------------------------------

def test_a_base_60_number_is_text(tmp_path: Path) -> None:
    """``1:20`` was 80 (YAML 1.1 sexagesimal): it is read as the text it looks like."""
    expect(tmp_path, edit("horizon_days: 365", "horizon_days: 1:20"), 3, "horizon_days",
           "'1:20'")
    expect(tmp_path, edit("review_days: {dist: uniform, low: 3, high: 10}",
                          "review_days: {dist: uniform, low: 3, high: 1:20:30.5}"), 36,
           "committee.review_days.high", "'1:20:30.5'")
    s = loads(tmp_path, REALISTIC_YAML + "description: 1:20\n")
    assert s.description == "1:20"


# --- 10, 11. extends: the chain's length and merge keys --------------------------------------

def test_an_extends_chain_holds_at_most_ten_files(tmp_path: Path) -> None:
    write(tmp_path, REALISTIC_YAML, "f0.yaml")
    for i in range(1, 11):
        write(tmp_path, f"extends: f{i - 1}.yaml\n", f"f{i}.yaml")
    assert load_scenario(tmp_path / "f9.yaml").name == "test"  # ten files: f9 … f0
    with pytest.raises(ScenarioError) as info:
        load_scenario(tmp_path / "f10.yaml")
    message = str(info.value)
    assert message.startswith(f"{tmp_path / 'f1.yaml'}:1: extends: ") and \
        "at most 10 files" in message, message


def test_merge_keys_say_to_use_extends(tmp_path: Path) -> None:
    message = expect(tmp_path, edit("committee:\n", "defaults: &d {review_days: 5}\n"
                                    "committee:\n  <<: *d\n"), 37, "committee.<<",
                     "merge keys", "extends")
    assert "quote" not in message
    expect(tmp_path, edit("committee:\n", 'committee:\n  "<<": {review_days: 5}\n'), 36,
           "committee.<<", "unknown key")


# --- 12. reading never blocks ---------------------------------------------------------------

@pytest.fixture
def short_wait(monkeypatch: pytest.MonkeyPatch) -> float:
    """A pipe's wait cut to a fraction of a second, so these tests stay fast."""
    monkeypatch.setattr(limits, "READ_TIMEOUT_SECONDS", 0.3)
    return 0.3


def load_in_thread(path: Path | str) -> tuple[threading.Thread, list[object]]:
    """``load_scenario`` in a daemon thread: the old loader blocked on a FIFO for ever."""
    result: list[object] = []

    def target() -> None:
        try:
            result.append(load_scenario(path))
        except ScenarioError as exc:
            result.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, result


def test_a_fifo_without_a_writer_times_out(tmp_path: Path, short_wait: float) -> None:
    fifo = tmp_path / "scenario.yaml"
    os.mkfifo(fifo)
    began = time.monotonic()
    thread, result = load_in_thread(fifo)
    thread.join(10)
    try:
        assert not thread.is_alive(), "still waiting for a writer"
    finally:
        if thread.is_alive():  # release the old loader's blocking open
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    assert time.monotonic() - began < 5
    assert isinstance(result[0], ScenarioError)
    assert str(result[0]).startswith(f"{fifo}: cannot read (no end of file"), result[0]


def test_a_pipe_with_a_writer_is_read_like_a_file(short_wait: float) -> None:
    """``run.py <(cat file)``: an anonymous pipe whose writer writes, then closes."""
    read, write_end = os.pipe()
    writer = threading.Thread(target=lambda: (os.write(write_end, REALISTIC_YAML.encode()),
                                              os.close(write_end)))
    writer.start()
    try:
        s = load_scenario(f"/dev/fd/{read}")
    finally:
        writer.join()
        os.close(read)
    assert s.name == "test" and s.source.text == REALISTIC_YAML


def test_a_silent_writer_times_out(short_wait: float) -> None:
    read, write_end = os.pipe()
    try:
        os.write(write_end, b"name: half a scenario\n")
        thread, result = load_in_thread(f"/dev/fd/{read}")
        thread.join(10)
        assert not thread.is_alive()
        assert isinstance(result[0], ScenarioError) and "cannot read" in str(result[0])
    finally:
        os.close(write_end)
        os.close(read)


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_devices_and_folders_are_refused_without_reading(tmp_path: Path) -> None:
    for path, kind in (("/dev/zero", "a device"), (str(tmp_path), "a folder")):
        with pytest.raises(ScenarioError) as info:
            load_scenario(path)
        assert str(info.value).startswith(f"{path}: cannot read ({kind}"), str(info.value)


def test_an_extends_target_that_is_no_file_is_one_line(tmp_path: Path,
                                                       short_wait: float) -> None:
    fifo = tmp_path / "base.yaml"
    os.mkfifo(fifo)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    child = write(tmp_path, "extends: base.yaml\nname: child\n", "child.yaml")
    thread, result = load_in_thread(child)
    thread.join(10)
    assert not thread.is_alive()
    assert str(result[0]).startswith(f"{child}:1: extends: "), result[0]


# --- 13. what is recorded is what was read --------------------------------------------------

def test_the_recorded_text_is_the_text_read_at_load(tmp_path: Path) -> None:
    """Edited, then deleted after loading: the record keeps what the run used."""
    base = write(tmp_path, REALISTIC_YAML, "base.yaml")
    child_text = "extends: base.yaml\nname: child\n"
    child = write(tmp_path, child_text, "child.yaml")
    s = load_scenario(child)
    before = scenario_record(s)
    child.write_text(child_text.replace("child", "edited"), encoding="utf-8")
    base.write_text(REALISTIC_YAML.replace("horizon_days: 365", "horizon_days: 30"),
                    encoding="utf-8")
    assert scenario_record(s) == before
    child.unlink()
    base.unlink()
    record = scenario_record(s)
    assert record == before and record["content"] == child_text
    assert record["sha256"] == hashlib.sha256(child_text.encode()).hexdigest()
    assert record["path"] == str(child) and record["resolved"]["horizon_days"] == 365


# --- the command line: exit 2, one line ------------------------------------------------------

CLI_CASES = {  # file text, the line and key the error names
    "timestamp": (edit("name: test", "name: !!timestamp garbage"), 1, "name"),
    "beta": (edit("{dist: beta, mean: 0.6, sd: 0.15}", "{dist: beta, mean: 1e-320, sd: 1e308}"),
             28, "bidders[0].security_assurance"),
    "extension": (edit("extension_days: {dist: triangular, low: 7, mode: 7, high: 30}",
                       "extension_days: 3000000"), 10,
                  "instruments[0].enforcement.extension_days"),
    "choice": (edit("review_days: {dist: uniform, low: 3, high: 10}",
                    "review_days: {dist: choice, values: [45, 0]}"), 36, "committee.review_days"),
    "boolean": (edit("horizon_days: 365", "horizon_days: true"), 3, "horizon_days"),
}


# ~6 s: five Python start-ups, side by side
@pytest.mark.slow
def test_cli_exits_2_with_one_line(tmp_path: Path) -> None:
    running = {}
    for case, (text, _, _) in CLI_CASES.items():
        path = write(tmp_path, text, f"{case}.yaml")
        running[case] = (path, subprocess.Popen(
            [sys.executable, str(ROOT / "run.py"), str(path), "--runs", "50", "--no-figures",
             "--quiet", "--out", str(tmp_path / f"out-{case}")],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT))
    for case, (path, process) in running.items():
        _, stderr = process.communicate(timeout=120)
        _, line, key = CLI_CASES[case]
        assert process.returncode == 2 and "Traceback" not in stderr, (case, stderr)
        lines = stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"error: {path}:{line}: {key}: "), \
            (case, stderr)
    assert not any((tmp_path / f"out-{case}").exists() for case in CLI_CASES), \
        "nothing is written for a bad scenario"
