"""Bad scenario files: one ScenarioError line naming the file, the line and the key path.

Every case edits a small multi-line document whose line numbers are known, and checks
the message's prefix ``source:line: key.path: `` exactly, then what it says.
"""

from __future__ import annotations

import re
import sys

import pytest
from conftest import ROOT, scenario

from sim.scenario import Scenario, ScenarioError, load_scenario, parse_scenario

SRC = "case.yaml"

#                              line
BASE = """\
name: errors
start: 2021-01-01
horizon_days: 200
deadlines:
  - id: ban
    date: 2021-03-01
parent:
  name: P
  reservation_bn: 10
bidders:
  - name: A
    valuation_bn: 12
committee:
  review_days: 30
"""
# lines: 1 name, 2 start, 3 horizon_days, 4 deadlines, 5 - id, 6 date, 7 parent, 8 name,
# 9 reservation_bn, 10 bidders, 11 - name, 12 valuation_bn, 13 committee, 14 review_days


def error(text: str, source: str = SRC) -> str:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, source)
    message = str(info.value)
    assert "\n" not in message and message.strip() == message, repr(message)
    assert "Traceback" not in message
    return message


def edit(old: str, new: str) -> str:
    assert BASE.count(old) == 1, old
    return BASE.replace(old, new)


def expect(message: str, line: int, path: str, *says: str) -> None:
    prefix = f"{SRC}:{line}: {path}: "
    assert message.startswith(prefix), f"{message!r} does not start with {prefix!r}"
    for s in says:
        assert s in message, f"{s!r} not in {message!r}"


def test_base_document_is_valid():
    s = parse_scenario(BASE, SRC)
    assert isinstance(s, Scenario)
    assert s.deadline_day(s.deadlines[0]) == 59


# (edited text, line, key path, fragments of the message)
CASES = {
    "wrong type": (
        edit("horizon_days: 200", "horizon_days: soon"), 3, "horizon_days",
        ["valid number", "'soon'"]),
    "wrong type nested": (
        edit("    valuation_bn: 12", "    valuation_bn: [12]"), 12, "bidders[0].valuation_bn",
        ["expected a number or a mapping"]),
    "true for a number": (
        edit("  review_days: 30", "  review_days: true"), 14, "committee.review_days",
        ["not true/false"]),
    "block not a mapping": (
        edit("parent:\n  name: P\n  reservation_bn: 10\n", "parent: 3\n"), 7, "parent",
        ["valid dictionary"]),
    "list not a list": (
        edit("bidders:\n  - name: A\n    valuation_bn: 12\n", "bidders: 3\n"), 10, "bidders",
        ["valid list"]),
    "unknown top-level key": (
        BASE + "colour: red\n", 15, "colour",
        ["unknown key", "allowed: name, description, start, horizon_days, deadlines, "
         "parent, bidders, home_government, committee, president, court, closing"]),
    "unknown nested key": (
        edit("  reservation_bn: 10", "  reservation_bn: 10\n  reserve: 5"), 10,
        "parent.reserve",
        ["unknown key", "(allowed: name, reservation_bn, aspiration_multiple, "
         "concession_exponent, accepts)"]),
    "unknown key in a list item": (
        edit("    valuation_bn: 12", "    valuation_bn: 12\n    arrives: 3"), 13,
        "bidders[0].arrives", ["unknown key", "arrives_day", "withdraws_day"]),
    "missing required key": (
        edit("  reservation_bn: 10\n", ""), 7, "parent.reservation_bn",
        ["required key is missing"]),
    "missing top-level key": (
        edit("start: 2021-01-01\n", ""), 1, "start", ["required key is missing"]),
    "probability above 1": (
        BASE + "  investigation_probability: 1.5\n", 15,
        "committee.investigation_probability", ["must lie in [0, 1]", "1.5"]),
    "probability below 0": (
        BASE + "court:\n  injunction_probability: -0.1\n", 16,
        "court.injunction_probability", ["must lie in [0, 1]"]),
    "probability distribution partly above 1": (
        BASE + "  investigation_probability: {dist: uniform, low: 0.5, high: 1.5}\n", 15,
        "committee.investigation_probability", ["must lie in [0, 1]", "[0.5, 1.5]"]),
    "probability in a deadline's court": (
        edit("    date: 2021-03-01", "    date: 2021-03-01\n    court:\n"
             "      sue_probability: 2"), 8, "deadlines[0].court.sue_probability",
        ["must lie in [0, 1]"]),
    "zero review days": (
        edit("  review_days: 30", "  review_days: 0"), 14, "committee.review_days",
        ["must be > 0 days"]),
    "negative review days": (
        edit("  review_days: 30", "  review_days: -3"), 14, "committee.review_days",
        ["must be > 0 days", "-3"]),
    "negative decision days": (
        BASE + "president:\n  decision_days: -1\n", 16, "president.decision_days",
        ["must be >= 0 days"]),
    "zero valuation": (
        edit("    valuation_bn: 12", "    valuation_bn: 0"), 12, "bidders[0].valuation_bn",
        ["must be > 0 (USD bn)"]),
    "zero horizon": (
        edit("horizon_days: 200", "horizon_days: 0"), 3, "horizon_days",
        ["greater than 0"]),
    "deadline at the start": (
        edit("    date: 2021-03-01", "    date: 2021-01-01"), 6, "deadlines[0].date",
        ["2021-01-01 is not after start 2021-01-01"]),
    "deadline before the start": (
        edit("    date: 2021-03-01", "    date: 2020-12-01"), 6, "deadlines[0].date",
        ["is not after start"]),
    "unbounded normal for a duration": (
        edit("  review_days: 30", "  review_days: {dist: normal, mean: 30, sd: 5}"), 14,
        "committee.review_days", ["must be > 0 days", "bound it with low/high"]),
    "unknown distribution": (
        edit("  review_days: 30", "  review_days: {dist: gamma, a: 2}"), 14,
        "committee.review_days", ["unknown distribution gamma", "'uniform'", "'pert'"]),
    "distribution without dist": (
        edit("  review_days: 30", "  review_days: {low: 1, high: 2}"), 14,
        "committee.review_days", ["needs 'dist'", "uniform"]),
    "structure not allowed": (
        edit("    valuation_bn: 12", "    valuation_bn: 12\n    structure: merger"), 13,
        "bidders[0].structure",
        ["'merger' is not allowed", "full_acquisition", "minority_partnership"]),
    "duplicate key": (
        BASE + "horizon_days: 300\n", 15, "horizon_days", ["duplicate key"]),
    "duplicate nested key": (
        edit("  reservation_bn: 10", "  reservation_bn: 10\n  name: Q"), 10, "parent.name",
        ["duplicate key"]),
    "duplicate key in a list item": (
        edit("    valuation_bn: 12", "    valuation_bn: 12\n    valuation_bn: 13"), 13,
        "bidders[0].valuation_bn", ["duplicate key"]),
    "duplicate bidder name": (
        BASE.replace("committee:", "  - name: A\n    valuation_bn: 13\ncommittee:"), 13,
        "bidders[1].name", ["duplicate bidder name 'A'"]),
    "duplicate deadline id": (
        edit("parent:", "  - id: ban\n    date: 2021-04-01\nparent:"), 7,
        "deadlines[1].id", ["duplicate deadline id 'ban'"]),
    "licence without home government": (
        edit("    valuation_bn: 12", "    valuation_bn: 12\n    needs_export_licence: true"),
        13, "bidders[0].needs_export_licence", ["home_government"]),
    "agreed without a price": (
        edit("    valuation_bn: 12", "    valuation_bn: 12\n    agreed_at_start: true"), 11,
        "bidders[0].agreed_price_bn", ["required when agreed_at_start is true"]),
    "mitigation threshold above clear": (
        BASE + "  clear_threshold: 0.3\n  mitigation_threshold: 0.5\n", 16,
        "committee.mitigation_threshold", ["must not exceed clear_threshold"]),
    "president favouring blocked deals": (
        BASE + "president:\n  follows_recommendation_probability: 0.3\n", 16,
        "president.follows_recommendation_probability", [">= 0.5"]),
    "bad deadline id": (
        edit("  - id: ban", "  - id: 1ban"), 5, "deadlines[0].id", ["pattern"]),
    "bad date": (
        edit("start: 2021-01-01", "start: yesterday"), 2, "start", ["valid date"]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_error_names_line_and_key_path(case):
    text, line, path, says = CASES[case]
    expect(error(text), line, path, *says)


def test_yaml_syntax_error_has_its_line():
    message = error(edit("  name: P", "  name: [P"))
    assert message.startswith(f"{SRC}:9: YAML syntax error: "), message
    message = error(edit("  review_days: 30", "\treview_days: 30"))
    assert message.startswith(f"{SRC}:14: YAML syntax error: "), message


def test_unsafe_yaml_tag_is_refused():
    message = error(BASE + "description: !!python/object/apply:os.system [echo hi]\n")
    assert message.startswith(f"{SRC}:15: YAML syntax error: "), message
    assert "constructor" in message


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n"])
def test_empty_file(text):
    assert error(text) == f"{SRC}:1: file is empty (expected a scenario mapping)"


@pytest.mark.parametrize(("text", "kind"), [("- a\n- b\n", "list"), ("hello\n", "str"),
                                            ("42\n", "int")])
def test_top_level_not_a_mapping(text, kind):
    assert error(text) == f"{SRC}:1: top level must be a mapping of keys, not {kind}"


def test_first_error_only_and_source_named():
    """Two problems: one line, about the first one, with the caller's source name."""
    text = edit("horizon_days: 200", "horizon_days: -1").replace("review_days: 30",
                                                                  "review_days: -3")
    message = error(text, source="scenarios/x.yaml")
    assert message.startswith("scenarios/x.yaml:3: horizon_days: ")


def test_load_scenario_names_the_path(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(edit("  review_days: 30", "  review_days: 0"), encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(info.value).startswith(f"{path}:14: committee.review_days: ")
    good = tmp_path / "good.yaml"
    good.write_text(BASE, encoding="utf-8")
    assert load_scenario(good) == parse_scenario(BASE, SRC)


def test_missing_file(tmp_path):
    path = tmp_path / "nope.yaml"
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(info.value) == f"{path}: no such file"


def test_unreadable_files(tmp_path):
    binary = tmp_path / "latin1.yaml"
    binary.write_bytes("name: caf\xe9\n".encode("latin-1"))
    with pytest.raises(ScenarioError) as info:
        load_scenario(binary)
    assert str(info.value).startswith(f"{binary}:1: not UTF-8 text")
    with pytest.raises(ScenarioError) as info:
        load_scenario(tmp_path)  # a directory
    assert str(info.value).startswith(f"{tmp_path}: cannot read")
    big = tmp_path / "big.yaml"
    big.write_text(BASE + "#" * 1_000_001 + "\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(big)
    assert str(info.value) == f"{big}: file is larger than 1,000,000 bytes"


@pytest.mark.parametrize("path", sorted((ROOT / "scenarios").glob("*.yaml")),
                         ids=lambda p: p.name)
def test_shipped_scenarios_are_valid(path):
    s = load_scenario(path)
    assert s.horizon_days > 0
    assert all(s.deadline_day(d) > 0 for d in s.deadlines)


def test_scenario_helper_dedents():
    s = scenario("""
        name: indented
        start: 2021-01-01
        horizon_days: 10
        parent: {name: P, reservation_bn: 1}
    """)
    assert s.bidders == [] and s.deadlines == []


# --- fixed bugs (once found by these tests) ---------------------------------------------

@pytest.mark.parametrize(("text", "path"), [
    (edit("  review_days: 30", "  review_days: {dist: uniform, low: 5}"),
     "committee.review_days.high"),
    (edit("  review_days: 30", "  review_days: {dist: triangular, low: 5, mode: 3, high: 9}"),
     "committee.review_days"),
    (edit("    valuation_bn: 12", "    valuation_bn: {dist: beta, mean: 5, sd: 1}"),
     "bidders[0].valuation_bn"),
])
def test_error_inside_a_distribution_has_a_file_key_path(text, path):
    message = error(text)
    line = 12 if path.startswith("bidders") else 14
    assert message.startswith(f"{SRC}:{line}: {path}: "), message


def test_unknown_key_in_a_distribution_lists_allowed_keys():
    message = error(edit("  review_days: 30",
                         "  review_days: {dist: uniform, low: 1, high: 2, mode: 3}"))
    expect(message, 14, "committee.review_days.mode", "unknown key", "dist, low, high")


def test_non_string_key_has_its_line():
    message = error(BASE + "1: x\n")
    assert message.startswith(f"{SRC}:15: "), message


def test_recursive_alias_is_a_scenario_error():
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(300)  # fail fast
    try:
        message = error(BASE + "description: &a [*a]\n")
    finally:
        sys.setrecursionlimit(limit)
    assert re.match(rf"{SRC}:15: ", message)
