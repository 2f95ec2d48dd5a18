"""Bad scenario files: one ScenarioError line naming the file, the line and the key path.

Every case edits a small multi-line document whose line numbers are known, and checks
the message's prefix ``source:line: key.path: `` exactly, then what it says.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, scenario

from sim.errors import ScenarioError
from sim.scenario.loading import load_scenario, parse_scenario
from sim.scenario.schema import Scenario

SRC = "case.yaml"

#                              line
BASE = """\
name: errors
start: 2021-01-01
horizon_days: 200
instruments:
  - id: ban
    kind: service_ban
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
# lines: 1 name, 2 start, 3 horizon_days, 4 instruments, 5 - id, 6 kind, 7 date, 8 parent,
# 9 name, 10 reservation_bn, 11 bidders, 12 - name, 13 valuation_bn, 14 committee,
# 15 review_days; text appended to BASE starts on line 16


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
    assert [d.day for d in s.due_dates] == [59]


# (edited text, line, key path, fragments of the message)
CASES = {
    "wrong type": (
        edit("horizon_days: 200", "horizon_days: soon"), 3, "horizon_days",
        ["valid number", "'soon'"]),
    "wrong type nested": (
        edit("    valuation_bn: 12", "    valuation_bn: [12]"), 13, "bidders[0].valuation_bn",
        ["expected a number or a mapping"]),
    "true for a number": (
        edit("  review_days: 30", "  review_days: true"), 15, "committee.review_days",
        ["not true/false"]),
    "block not a mapping": (
        edit("parent:\n  name: P\n  reservation_bn: 10\n", "parent: 3\n"), 8, "parent",
        ["valid dictionary"]),
    "list not a list": (
        edit("bidders:\n  - name: A\n    valuation_bn: 12\n", "bidders: 3\n"), 11, "bidders",
        ["valid list"]),
    "unknown top-level key": (
        BASE + "colour: red\n", 16, "colour",
        ["unknown key", "allowed: name, description, start, horizon_days, subject, "
         "instruments, politics, parent, bidders, entrants, home_government, committee, president, "
         "court, closing, actual, correlations"]),
    "unknown nested key": (
        edit("  reservation_bn: 10", "  reservation_bn: 10\n  reserve: 5"), 11,
        "parent.reserve",
        ["unknown key", "(allowed: name, reservation_bn, aspiration_multiple, "
         "concession_exponent, accepts, accepts_technology, follows_home_government, "
         "threat_discount, delay_cost_per_year)"]),
    "unknown key in a list item": (
        edit("    valuation_bn: 12", "    valuation_bn: 12\n    arrives: 3"), 14,
        "bidders[0].arrives", ["unknown key", "arrives_day", "withdraws_day"]),
    "missing required key": (
        edit("  reservation_bn: 10\n", ""), 8, "parent.reservation_bn",
        ["required key is missing"]),
    "missing top-level key": (
        edit("start: 2021-01-01\n", ""), 1, "start", ["required key is missing"]),
    "probability above 1": (
        BASE + "  investigation_probability: 1.5\n", 16,
        "committee.investigation_probability", ["must lie in [0, 1]", "1.5"]),
    "probability below 0": (
        BASE + "court:\n  injunction_probability: -0.1\n", 17,
        "court.injunction_probability", ["must lie in [0, 1]"]),
    "probability distribution partly above 1": (
        BASE + "  investigation_probability: {dist: uniform, low: 0.5, high: 1.5}\n", 16,
        "committee.investigation_probability", ["must lie in [0, 1]", "[0.5, 1.5]"]),
    "probability in an instrument's court": (
        edit("    date: 2021-03-01", "    date: 2021-03-01\n    court:\n"
             "      plaintiffs: [{name: P, sue_probability: 2}]"), 9,
        "instruments[0].court.plaintiffs[0].sue_probability", ["must lie in [0, 1]"]),
    "zero review days": (
        edit("  review_days: 30", "  review_days: 0"), 15, "committee.review_days",
        ["must be > 0 days"]),
    "negative review days": (
        edit("  review_days: 30", "  review_days: -3"), 15, "committee.review_days",
        ["must be > 0 days", "-3"]),
    "negative decision days": (
        BASE + "president:\n  decision_days: -1\n", 17, "president.decision_days",
        ["must be >= 0 days"]),
    "zero valuation": (
        edit("    valuation_bn: 12", "    valuation_bn: 0"), 13, "bidders[0].valuation_bn",
        ["must be > 0 (USD bn)"]),
    "zero horizon": (
        edit("horizon_days: 200", "horizon_days: 0"), 3, "horizon_days",
        ["greater than 0"]),
    "instrument at the start": (
        edit("    date: 2021-03-01", "    date: 2021-01-01"), 7, "instruments[0].date",
        ["2021-01-01 is not after start 2021-01-01"]),
    "instrument before the start": (
        edit("    date: 2021-03-01", "    date: 2020-12-01"), 7, "instruments[0].date",
        ["is not after start"]),
    "unbounded normal for a duration": (
        edit("  review_days: 30", "  review_days: {dist: normal, mean: 30, sd: 5}"), 15,
        "committee.review_days", ["must be > 0 days", "bound it with low/high"]),
    "unknown distribution": (
        edit("  review_days: 30", "  review_days: {dist: gamma, a: 2}"), 15,
        "committee.review_days", ["unknown distribution gamma", "'uniform'", "'pert'"]),
    "distribution without dist": (
        edit("  review_days: 30", "  review_days: {low: 1, high: 2}"), 15,
        "committee.review_days", ["needs 'dist'", "uniform"]),
    "structure not allowed": (
        edit("    valuation_bn: 12", "    valuation_bn: 12\n    structure: merger"), 14,
        "bidders[0].structure",
        ["'merger' is not allowed", "full_acquisition", "minority_partnership"]),
    "duplicate key": (
        BASE + "horizon_days: 300\n", 16, "horizon_days", ["duplicate key"]),
    "duplicate nested key": (
        edit("  reservation_bn: 10", "  reservation_bn: 10\n  name: Q"), 11, "parent.name",
        ["duplicate key"]),
    "duplicate key in a list item": (
        edit("    valuation_bn: 12", "    valuation_bn: 12\n    valuation_bn: 13"), 14,
        "bidders[0].valuation_bn", ["duplicate key"]),
    "duplicate bidder name": (
        BASE.replace("committee:", "  - name: A\n    valuation_bn: 13\ncommittee:"), 14,
        "bidders[1].name", ["duplicate bidder name 'A'"]),
    "licence without home government": (
        edit("    valuation_bn: 12", "    valuation_bn: 12\n    needs_export_licence: true"),
        14, "bidders[0].needs_export_licence", ["home_government"]),
    "agreed without a price": (
        edit("    valuation_bn: 12", "    valuation_bn: 12\n    agreed_at_start: true"), 12,
        "bidders[0].agreed_price_bn", ["required when agreed_at_start is true"]),
    "mitigation threshold above clear": (
        BASE + "  clear_threshold: 0.3\n  mitigation_threshold: 0.5\n", 17,
        "committee.mitigation_threshold", ["must not exceed clear_threshold"]),
    "bad instrument id": (
        edit("  - id: ban", "  - id: 1ban"), 5, "instruments[0].id", ["pattern"]),
    "bad date": (
        edit("start: 2021-01-01", "start: yesterday"), 2, "start", ["valid date"]),
    # --- model v2's keys ---------------------------------------------------------------
    "unknown instrument kind": (
        edit("    kind: service_ban", "    kind: embargo"), 6, "instruments[0].kind",
        ["'embargo' is not allowed", "'service_ban', 'divestiture_order', "
         "'transaction_termination' or 'lapse'"]),
    "instrument without a kind": (
        edit("    kind: service_ban\n", ""), 5, "instruments[0].kind",
        ["required key is missing"]),
    "tiers on a non-ban": (
        edit("    kind: service_ban\n    date: 2021-03-01", "    kind: divestiture_order\n"
             "    date: 2021-03-01\n    tiers: [{id: a, date: 2021-03-01}]"), 8,
        "instruments[0].tiers", ["only a service_ban has tiers", "divestiture_order"]),
    "duplicate tier id": (
        edit("    date: 2021-03-01", "    date: 2021-03-01\n    tiers:\n"
             "      - {id: a, date: 2021-03-01}\n      - {id: a, date: 2021-04-01}"), 10,
        "instruments[0].tiers[1].id", ["duplicate tier id 'a'", "the first is on line 9"]),
    "tier date not after start": (
        edit("    date: 2021-03-01", "    date: 2021-03-01\n    tiers:\n"
             "      - {id: a, date: 2021-03-01}\n      - {id: b, date: 2020-12-01}"), 10,
        "instruments[0].tiers[1].date",
        ["2020-12-01 is not after start 2021-01-01"]),
    "duplicate instrument id": (
        edit("parent:", "  - id: ban\n    kind: lapse\n    date: 2021-04-01\nparent:"), 8,
        "instruments[1].id", ["duplicate instrument id 'ban'"]),
    "issued after the date": (
        edit("    date: 2021-03-01", "    date: 2021-03-01\n    issued: 2021-03-02"), 8,
        "instruments[0].issued", ["2021-03-02 is after the instrument's date 2021-03-01"]),
    "extend + forbear + lapse above 1 at a stage": (
        edit("    date: 2021-03-01", "    date: 2021-03-01\n    enforcement:\n"
             "      extend: {otherwise: 0.5}\n      forbear: {under_review: 0.4}\n"
             "      lapse: {otherwise: 0.2}\n      max_extensions: 1\n"
             "      max_forbearances: 1"), 8, "instruments[0].enforcement.under_review",
        ["extend + forbear + lapse can reach 1.1 at stage under_review",
         "at most 1 together"]),
    "a stage chance as a distribution reaching above 1": (
        edit("    date: 2021-03-01", "    date: 2021-03-01\n    enforcement:\n"
             "      extend: {otherwise: 0.5}\n      max_extensions: 1\n"
             "      lapse: {otherwise: {dist: uniform, low: 0.2, high: 0.6}}"), 8,
        "instruments[0].enforcement.none", ["can reach 1.1 at stage none"]),
    "max_extensions 0 with an extend chance": (
        edit("    date: 2021-03-01", "    date: 2021-03-01\n    enforcement:\n"
             "      extend: {signed: 0.5}"), 8, "instruments[0].enforcement.max_extensions",
        ["is 0, so the extend chances would never apply", "1 to 20"]),
    "max_forbearances 0 with a forbear chance": (
        edit("    date: 2021-03-01", "    date: 2021-03-01\n    enforcement:\n"
             "      forbear: {otherwise: 0.5}\n      max_forbearances: 0"), 10,
        "instruments[0].enforcement.max_forbearances",
        ["is 0, so the forbear chances would never apply"]),
    "too many extensions": (
        edit("    date: 2021-03-01", "    date: 2021-03-01\n    enforcement:\n"
             "      max_extensions: 21"), 9, "instruments[0].enforcement.max_extensions",
        ["less than or equal to 20"]),
    "duplicate event id": (
        BASE + "politics:\n  - {id: e, date: 2021-02-01}\n  - {id: e, date: 2021-02-02}\n",
        18, "politics[1].id", ["duplicate event id 'e'"]),
    "event not after start": (
        BASE + "politics:\n  - {id: e, date: 2020-12-01}\n", 17, "politics[0].date",
        ["2020-12-01 is not after start 2021-01-01"]),
    "event requires an unknown event": (
        BASE + "politics:\n  - {id: e, date: 2021-02-01, requires: x}\n", 17,
        "politics[0].requires", ["'x' is not an event listed before this one",
                                 "(allowed: none)"]),
    "event requires one listed later": (
        BASE + "politics:\n  - {id: a, date: 2021-02-01, requires: b}\n"
        "  - {id: b, date: 2021-01-15}\n", 17, "politics[0].requires",
        ["'b' is not an event listed before this one"]),
    "event requires one dated later": (
        BASE + "politics:\n  - {id: b, date: 2021-03-15}\n"
        "  - {id: a, date: 2021-02-01, requires: b}\n", 18, "politics[1].requires", ["'b'"]),
    "event revokes an unknown instrument": (
        BASE + "politics:\n  - id: e\n    date: 2021-02-01\n    revoke: [ban, order]\n", 19,
        "politics[0].revoke[1]", ["no instrument 'order'", "(allowed: ban)"]),
    "event sets a path that is not a chance": (
        BASE + "politics:\n  - id: e\n    date: 2021-02-01\n"
        "    set: {instruments.ban.enforcement.lapse.otherwis: 0.5}\n", 19,
        "politics[0].set.instruments.ban.enforcement.lapse.otherwis",
        ["is not a chance this scenario names",
         "closest: instruments.ban.enforcement.lapse.otherwise"]),
    "event sets a duration": (
        BASE + "politics:\n  - id: e\n    date: 2021-02-01\n"
        "    set: {committee.review_days: 0.5}\n", 19, "politics[0].set.committee.review_days",
        ["is not a chance this scenario names", "not a duration"]),
    "event sets a bidder's terms": (
        BASE + "politics:\n  - id: e\n    date: 2021-02-01\n"
        "    set: {bidders.A.security_assurance: 0.9}\n", 19,
        "politics[0].set.bidders.A.security_assurance", ["not a bidder's own terms"]),
    "event sets a chance out of range": (
        BASE + "politics:\n  - id: e\n    date: 2021-02-01\n"
        "    set: {committee.investigation_probability: 1.5}\n", 19,
        "politics[0].set.committee.investigation_probability", ["must lie in [0, 1]"]),
    "on_clear shares above on_block": (
        BASE + "president:\n  on_clear: {block: 0.3}\n  on_block: {block: 0.2}\n", 17,
        "president.on_clear", ["block can reach 0.3, above its 0.2 on_block"]),
    "on_clear nothing above on_block": (
        BASE + "president:\n  on_clear: {nothing: 0.5}\n"
        "  on_block: {block: 0.2, nothing: 0.1}\n", 17, "president.on_clear",
        ["block + nothing can reach 0.5, above its 0.3 on_block"]),
    "shares summing over 1": (
        BASE + "president:\n  on_block: {block: 0.6, nothing: 0.3, in_concept: 0.2}\n", 17,
        "president.on_block", ["block + nothing + in_concept can exceed 1",
                               "at most 1 together"]),
    "shares per structure summing over 1": (
        BASE + "president:\n  by_structure:\n    majority:\n"
        "      on_clear: {block: 0.6, nothing: 0.6}\n", 19,
        "president.by_structure.majority.on_clear", ["can exceed 1"]),
    "files_day out of range": (
        BASE + "court:\n  plaintiffs:\n    - {name: P, files_day: 4000}\n", 18,
        "court.plaintiffs[0].files_day", ["must lie within 3650 days either side"]),
    "files_day distribution out of range": (
        BASE + "court:\n  plaintiffs:\n"
        "    - {name: P, files_day: {dist: uniform, low: -4000, high: 10}}\n", 18,
        "court.plaintiffs[0].files_day", ["must lie within 3650 days either side"]),
    "duplicate plaintiff": (
        BASE + "court:\n  plaintiffs:\n    - {name: P}\n    - {name: P}\n", 19,
        "court.plaintiffs[1].name", ["duplicate plaintiff name 'P'"]),
    "zero ruling days": (
        BASE + "court:\n  ruling_days: 0\n", 17, "court.ruling_days", ["must be > 0 days"]),
    "trustee floor above 1": (
        edit("    date: 2021-03-01", "    date: 2021-03-01\n    enforcement:\n"
             "      trustee_floor: 1.2"), 9, "instruments[0].enforcement.trustee_floor",
        ["must lie in [0, 1]"]),
    "unknown stage": (
        edit("    date: 2021-03-01", "    date: 2021-03-01\n    enforcement:\n"
             "      lapse: {pending: 0.5}"), 9, "instruments[0].enforcement.lapse.pending",
        ["unknown key", "otherwise, none, negotiating, signed, under_review"]),
    # --- model v1's keys: each named as such, with what replaced it -------------------
    "v1 deadlines": (
        BASE + "deadlines: []\n", 16, "deadlines",
        ["a key of an earlier model", "deadlines are now instruments", "'From v1'"]),
    "v1 court.sue_probability": (
        BASE + "court:\n  sue_probability: 0.5\n", 17, "court.sue_probability",
        ["a key of an earlier model", "court.plaintiffs"]),
    "v1 court.sue_probability in an instrument": (
        edit("    date: 2021-03-01", "    date: 2021-03-01\n    court: {sue_probability: 0.5}"),
        8, "instruments[0].court.sue_probability", ["a key of an earlier model", "plaintiffs"]),
    "v1 court.injunction_days": (
        BASE + "court:\n  injunction_days: 30\n", 17, "court.injunction_days",
        ["a key of an earlier model", "until an appeal reverses it"]),
    "v1 president.follows_recommendation_probability": (
        BASE + "president:\n  follows_recommendation_probability: 0.9\n", 17,
        "president.follows_recommendation_probability",
        ["a key of an earlier model", "president.on_clear and on_block"]),
    "v1 on_expiry in an instrument": (
        edit("    date: 2021-03-01", "    date: 2021-03-01\n    on_expiry: ban"), 8,
        "instruments[0].on_expiry",
        ["a key of an earlier model", "the instrument's kind", "From v1"]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_error_names_line_and_key_path(case):
    text, line, path, says = CASES[case]
    expect(error(text), line, path, *says)


def test_requiring_an_event_dated_later_says_why():
    """b is listed before a but dated after it (15 March against 1 February): the one
    line says so, and does not list b among the allowed events it refuses. (Found by this
    test: it said 'b' is not an event listed before this one (allowed: b).)"""
    message = error(CASES["event requires one dated later"][0])
    expect(message, 18, "politics[1].requires", "2021-03-15")
    assert "(allowed: b)" not in message, message


def test_a_whole_v1_file_is_one_line_naming_a_v1_key():
    """Model v1's realistic scenario, unchanged: one line, naming the first v1 key the
    loader meets and what replaced it."""
    v1 = """\
name: v1
start: 2020-09-14
horizon_days: 365
deadlines:
  - id: ban
    date: 2020-09-20
    extension: {probability_if_deal_in_progress: 0.7, probability_otherwise: 0.1}
    court: {sue_probability: 0.9, injunction_probability: 0.6, injunction_days: 30}
parent: {name: ByteDance, reservation_bn: 30}
bidders:
  - {name: Oracle, agreed_at_start: true, agreed_price_bn: 20}
president: {follows_recommendation_probability: 0.9}
"""
    message = error(v1)
    assert re.match(rf"{SRC}:\d+: [a-z_.]+: a key of an earlier model: ", message), message
    assert "(see docs/scenario-format.md, 'From v1')" in message


def run_cli(tmp_path: Path, texts: dict[str, str]) -> dict[str, tuple[Path, str, str, int]]:
    """Each text as a file given to ``run.py FILE``, all started together."""
    running = {}
    for i, (case, text) in enumerate(texts.items()):
        path = tmp_path / f"case{i}.yaml"
        path.write_text(text, encoding="utf-8")
        running[case] = (path, subprocess.Popen(
            [sys.executable, str(ROOT / "run.py"), str(path), "--runs", "10", "--out",
             str(tmp_path / f"out{i}"), "--quiet"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path))
    done = {}
    for case, (path, process) in running.items():
        stdout, stderr = process.communicate(timeout=120)
        done[case] = (path, stdout, stderr, process.returncode)
    return done


# ~7 s: four Python start-ups, side by side
@pytest.mark.slow
def test_cli_refuses_bad_v2_and_v1_keys_in_one_line(tmp_path):
    """``run.py FILE`` exits 2 with the loader's one line on stderr, no traceback and
    nothing written, for new keys and for v1 keys alike."""
    cases = {k: CASES[k] for k in ("unknown instrument kind",
                                   "extend + forbear + lapse above 1 at a stage",
                                   "event sets a path that is not a chance", "v1 deadlines")}
    done = run_cli(tmp_path, {k: text for k, (text, *_) in cases.items()})
    for case, (path, stdout, stderr, code) in done.items():
        _, line, key, says = cases[case]
        assert code == 2, (case, stderr)
        assert stdout == "" and "Traceback" not in stderr, (case, stderr)
        lines = stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"error: {path}:{line}: {key}: "), \
            (case, stderr)
        assert all(s in lines[0] for s in says), (case, stderr)
    assert not any(tmp_path.glob("out*")), "nothing is written for a bad scenario"


def test_yaml_syntax_error_has_its_line():
    message = error(edit("  name: P", "  name: [P"))
    assert message.startswith(f"{SRC}:10: YAML syntax error: "), message
    message = error(edit("  review_days: 30", "\treview_days: 30"))
    assert message.startswith(f"{SRC}:15: YAML syntax error: "), message


def test_unsafe_yaml_tag_is_refused():
    message = error(BASE + "description: !!python/object/apply:os.system [echo hi]\n")
    assert message.startswith(f"{SRC}:16: YAML syntax error: "), message
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
    assert str(info.value).startswith(f"{path}:15: committee.review_days: ")
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
    assert all(d.day > 0 for d in s.due_dates)


def test_scenario_helper_dedents():
    s = scenario("""
        name: indented
        start: 2021-01-01
        horizon_days: 10
        parent: {name: P, reservation_bn: 1}
    """)
    assert s.bidders == [] and s.instruments == [] and s.politics == []


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
    line = 13 if path.startswith("bidders") else 15
    assert message.startswith(f"{SRC}:{line}: {path}: "), message


def test_unknown_key_in_a_distribution_lists_allowed_keys():
    message = error(edit("  review_days: 30",
                         "  review_days: {dist: uniform, low: 1, high: 2, mode: 3}"))
    expect(message, 15, "committee.review_days.mode", "unknown key", "dist, low, high")


def test_non_string_key_has_its_line():
    message = error(BASE + "1: x\n")
    assert message.startswith(f"{SRC}:16: "), message


def test_recursive_alias_is_a_scenario_error():
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(300)  # fail fast
    try:
        message = error(BASE + "description: &a [*a]\n")
    finally:
        sys.setrecursionlimit(limit)
    assert re.match(rf"{SRC}:16: ", message)
