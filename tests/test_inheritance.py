"""``extends:``: a scenario inherits another file and overrides keys.

Semantics checked here: blocks merge key by key; instruments, political events and
bidders merge item by item (by ``id`` / ``name``), ``remove: true`` drops an inherited
item, an empty list clears the list; any other value (a number, a distribution, another
list such as an instrument's tiers or a court's plaintiffs, null) replaces what it
covers. The merged scenario is validated like any other, and an error names the file and
line its offending key came from. Cycles and other bad ``extends`` are one-line errors.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, run

from sim.errors import ScenarioError
from sim.scenario.loading import load_scenario, parse_scenario

#       line
BASE = """\
name: base
start: 2021-01-01
horizon_days: 200
instruments:
  - id: ban
    kind: service_ban
    date: 2021-03-01
    enforcement: {extend: {otherwise: 0.5}, extension_days: 10, max_extensions: 2}
  - id: later
    kind: lapse
    date: 2021-05-01
parent:
  name: P
  reservation_bn: 10
  accepts: {majority: 0.5}
bidders:
  - name: A
    valuation_bn: 12
  - name: B
    valuation_bn: {dist: pert, low: 5, mode: 8, high: 15, lamb: 3}
committee:
  review_days: 30
  investigation_probability: 0.3
"""
# lines: 5 - id: ban, 7 date, 8 enforcement, 9 - id: later, 11 date, 12 parent, 17 - name: A,
# 18 valuation_bn, 19 - name: B, 20 valuation_bn, 21 committee, 22 review_days


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.fixture
def base(tmp_path: Path) -> Path:
    return write(tmp_path, "base.yaml", BASE)


def child(folder: Path, text: str, name: str = "child.yaml",
          extends: str = "base.yaml") -> Path:
    return write(folder, name, f"extends: {extends}\n" + textwrap.dedent(text))


def error(path: Path) -> str:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    message = str(info.value)
    assert "\n" not in message and "Traceback" not in message
    return message


# --- merge semantics ------------------------------------------------------------------

def test_blocks_merge_key_by_key(tmp_path, base):
    s = load_scenario(child(tmp_path, """
        name: child
        committee: {review_days: 5}
        parent: {accepts: {full_acquisition: 0.2}}
    """))
    assert s.name == "child"
    assert s.committee.review_days.value == 5
    assert s.committee.investigation_probability.value == 0.3  # inherited
    assert s.parent.name == "P" and s.parent.reservation_bn.value == 10
    assert set(s.parent.accepts) == {"majority", "full_acquisition"}  # maps merge too
    assert s.start.isoformat() == "2021-01-01" and s.horizon_days == 200


def test_named_lists_merge_item_by_item(tmp_path, base):
    s = load_scenario(child(tmp_path, """
        instruments:
          - id: ban
            enforcement: {extension_days: 20}
          - id: new
            kind: divestiture_order
            date: 2021-07-01
        bidders:
          - name: B
            security_assurance: 0.9
          - name: C
            valuation_bn: 9
    """))
    assert [d.id for d in s.instruments] == ["ban", "later", "new"]  # order kept, appended
    ban = s.instruments[0]
    assert ban.date.isoformat() == "2021-03-01" and ban.kind == "service_ban"  # inherited
    e = ban.enforcement
    assert e.extension_days.value == 20 and e.max_extensions == 2
    assert e.extend.otherwise.value == 0.5
    assert s.instruments[2].kind == "divestiture_order"
    assert [b.name for b in s.bidders] == ["A", "B", "C"]
    b = s.bidders[1]
    assert b.security_assurance.value == 0.9 and b.valuation_bn.dist == "pert"


def test_remove_and_clear_named_items(tmp_path, base):
    s = load_scenario(child(tmp_path, """
        bidders:
          - {name: A, remove: true}
        instruments: []
    """))
    assert [b.name for b in s.bidders] == ["B"]
    assert s.instruments == []
    s = load_scenario(child(tmp_path, """
        instruments:
          - {id: ban, remove: true}
    """, name="c2.yaml"))
    assert [d.id for d in s.instruments] == ["later"]


def test_v2_lists_politics_merge_and_nested_lists_are_replaced(tmp_path):
    """Political events merge item by item by id, like instruments; lists inside an
    item (a ban's tiers, a court's plaintiffs) are not named lists: an override replaces
    them whole."""
    write(tmp_path, "v2.yaml", BASE.replace("""  - id: later""", """    tiers:
      - {id: app_store, date: 2021-03-01, dark: false}
      - {id: hosting, date: 2021-04-01}
    court:
      plaintiffs: [{name: P}, {name: Users, sue_probability: 0.5}]
  - id: later""") + """politics:
  - {id: election, date: 2021-02-01, probability: 0.5}
  - {id: inauguration, date: 2021-02-20, requires: election, revoke: [ban]}
""")
    s = load_scenario(child(tmp_path, """
        instruments:
          - id: ban
            tiers: [{id: hosting, date: 2021-04-15}]
            court: {plaintiffs: [{name: States}], injunction_probability: 0.3}
        politics:
          - {id: election, probability: 0.9}
          - {id: law, date: 2021-03-15, set: {court.injunction_probability: 0.2}}
    """, extends="v2.yaml"))
    ban = s.instruments[0]
    assert [(t.id, t.date.isoformat()) for t in ban.tiers] == [("hosting", "2021-04-15")]
    assert [p.name for p in ban.court.plaintiffs] == ["States"]
    assert ban.court.injunction_probability.value == 0.3
    assert [e.id for e in s.politics] == ["election", "inauguration", "law"]
    election = s.politics[0]
    assert election.probability.value == 0.9 and election.date.isoformat() == "2021-02-01"
    assert s.politics[1].revoke == ["ban"]
    s = load_scenario(child(tmp_path, "politics: [{id: inauguration, remove: true}]\n",
                            name="c2.yaml", extends="v2.yaml"))
    assert [e.id for e in s.politics] == ["election"]


def test_distributions_and_other_values_are_replaced_whole(tmp_path, base):
    """A distribution never merges with the one it replaces (the pert's mode and lamb
    would make a uniform invalid); null removes an optional block or value."""
    write(tmp_path, "base2.yaml", BASE + "home_government: {approval_probability: 0.5}\n")
    s = load_scenario(child(tmp_path, """
        bidders:
          - name: B
            valuation_bn: {dist: uniform, low: 6, high: 9}
          - name: A
            valuation_bn: {dist: choice, values: [1, 2]}
        home_government: null
    """, extends="base2.yaml"))
    assert s.bidders[1].valuation_bn.model_dump() == {"dist": "uniform", "low": 6.0,
                                                      "high": 9.0}
    assert s.bidders[0].valuation_bn.values == [1.0, 2.0]
    assert s.home_government is None
    # and a number replaces a distribution, a distribution a number
    s = load_scenario(child(tmp_path, """
        bidders: [{name: B, valuation_bn: 7}]
        committee: {review_days: {dist: uniform, low: 1, high: 2}}
    """, name="c2.yaml"))
    assert s.bidders[1].valuation_bn.value == 7
    assert s.committee.review_days.dist == "uniform"


def test_chains_resolve_relative_to_each_file(tmp_path, base):
    write(tmp_path, "mid/middle.yaml", "extends: ../base.yaml\nname: middle\n"
                                       "committee: {review_days: 7}\n")
    leaf = write(tmp_path, "deep/er/leaf.yaml", "extends: ../../mid/middle.yaml\n"
                                                "horizon_days: 300\n")
    s = load_scenario(leaf)
    assert (s.name, s.horizon_days, s.committee.review_days.value) == ("middle", 300, 7)
    assert s.committee.investigation_probability.value == 0.3


def test_parse_scenario_resolves_extends_beside_its_source(tmp_path, base):
    s = parse_scenario("extends: base.yaml\nname: text\n", str(tmp_path / "virtual.yaml"))
    assert s.name == "text" and len(s.bidders) == 2


def test_merged_file_equals_the_file_written_out(tmp_path, base):
    """Extending and overriding gives exactly the scenario one would write by hand."""
    merged = load_scenario(child(tmp_path, """
        name: by hand
        committee: {review_days: 5}
        bidders: [{name: A, valuation_bn: 13}]
    """))
    by_hand = parse_scenario(BASE.replace("name: base", "name: by hand")
                             .replace("review_days: 30", "review_days: 5")
                             .replace("valuation_bn: 12", "valuation_bn: 13"))
    assert merged == by_hand


def test_case_library_variant_is_its_base_plus_the_record():
    """The 14 September case is the Oracle scenario with an actual block, nothing else."""
    case = load_scenario(ROOT / "scenarios/cases/tiktok-2020-09-14.yaml")
    oracle = load_scenario(ROOT / "scenarios/oracle.yaml")
    assert case.actual is not None and oracle.actual is None
    assert case.model_copy(update={"actual": None}) == oracle


@pytest.mark.slow
def test_inherited_and_own_draws_share_streams(tmp_path, base):
    """Inheritance changes nothing about randomness: same values, same results."""
    a = load_scenario(child(tmp_path, "name: base\n"))
    b = parse_scenario(BASE)
    assert a == b
    ra, rb = run(a, 300, 4), run(b, 300, 4)
    assert ra.columns.keys() == rb.columns.keys()
    for k in ra.columns:
        np.testing.assert_array_equal(ra[k], rb[k])


# --- errors: one line naming the file and line the offending key came from -------------

def test_error_in_an_inherited_value_names_the_base_file(tmp_path):
    write(tmp_path, "base.yaml", BASE.replace("review_days: 30", "review_days: -3"))
    message = error(child(tmp_path, "name: child\n"))
    assert message.startswith(f"{tmp_path / 'base.yaml'}:22: committee.review_days: "), message
    assert "must be > 0 days" in message


def test_error_in_an_override_names_the_child_file(tmp_path, base):
    path = child(tmp_path, """
        name: child
        committee:
          investigation_probability: 1.5
    """)
    message = error(path)  # line 1 extends, 2 blank (the dedented text starts with one)
    assert message.startswith(f"{path}:5: committee.investigation_probability: "), message


def test_error_in_a_merged_list_item_names_the_item_and_its_file(tmp_path, base):
    path = child(tmp_path, """
        bidders:
          - {name: A, remove: true}
          - name: B
            security_assurance: 2
    """)
    message = error(path)
    # the merged position of B (0) matches no file: the item is named instead
    assert message.startswith(f"{path}:6: bidders[B].security_assurance: "), message
    write(tmp_path, "base.yaml", BASE.replace("    valuation_bn: 12", "    valuation_bn: 0"))
    message = error(child(tmp_path, "bidders: [{name: B, security_assurance: 0.5}]\n",
                          name="c2.yaml"))
    assert message.startswith(f"{tmp_path / 'base.yaml'}:18: bidders[A].valuation_bn: ")


def test_cross_field_error_points_at_the_inherited_key(tmp_path, base):
    """Moving start past an inherited instrument's date is reported where the date is."""
    message = error(child(tmp_path, "start: 2021-04-01\n"))
    assert message.startswith(f"{tmp_path / 'base.yaml'}:7: instruments[0].date: "), message
    assert "is not after start 2021-04-01" in message


def test_unknown_key_in_child_and_missing_key_in_both(tmp_path, base):
    path = child(tmp_path, "colour: red\n", name="c2.yaml")
    assert error(path).startswith(f"{path}:2: colour: unknown key (allowed:")
    write(tmp_path, "base.yaml", BASE.replace("  reservation_bn: 10\n", ""))
    path = child(tmp_path, "name: c\nparent: {name: Q}\n")
    message = error(path)
    # missing in both files: named, at the block of the file that last wrote it
    assert message.startswith(f"{path}:3: parent.reservation_bn: required key is missing")


def test_yaml_error_in_the_base_names_the_base(tmp_path):
    write(tmp_path, "base.yaml", BASE.replace("  name: P", "  name: [P"))
    message = error(child(tmp_path, "name: c\n"))
    assert message.startswith(f"{tmp_path / 'base.yaml'}:14: YAML syntax error: "), message


@pytest.mark.parametrize(("files", "start", "expect"), [
    ({"a.yaml": "extends: a.yaml\n"}, "a.yaml", "a.yaml -> a.yaml"),
    ({"a.yaml": "name: x\nextends: b.yaml\n", "b.yaml": "extends: sub/c.yaml\n",
      "sub/c.yaml": "extends: ../a.yaml\n"}, "a.yaml", "a.yaml -> b.yaml -> sub/c.yaml -> a.yaml"),
])
def test_cycles_are_errors(tmp_path, files, start, expect):
    for name, text in files.items():
        write(tmp_path, name, text)
    message = error(tmp_path / start)
    assert ": extends: cycle " in message and "cannot extend itself" in message
    shown = message.split("cycle ")[1]
    assert shown.replace(str(tmp_path) + "/", "").startswith(expect), message
    # the line of the extends that closes the cycle
    closing = {"a.yaml": "a.yaml:1:", "b.yaml": "sub/c.yaml:1:"}[
        "a.yaml" if len(files) == 1 else "b.yaml"]
    assert message.replace(str(tmp_path) + "/", "").startswith(closing), message


def test_bad_extends_values(tmp_path, base):
    path = child(tmp_path, "name: x\n", extends="nope.yaml")
    assert error(path) == (f"{path}:1: extends: no such file {tmp_path / 'nope.yaml'} "
                           "(allowed: a path relative to this file's folder)")
    path = write(tmp_path, "list.yaml", "name: x\nextends: [base.yaml]\n")
    assert error(path).startswith(f"{path}:2: extends: must be the path of another "
                                  "scenario file")
    path = write(tmp_path, "empty.yaml", "extends: ''\n")
    assert error(path).startswith(f"{path}:1: extends: must be the path")


def test_too_long_a_chain_is_an_error(tmp_path, base):
    write(tmp_path, "f0.yaml", "extends: base.yaml\n")
    for i in range(1, 12):
        write(tmp_path, f"f{i}.yaml", f"extends: f{i - 1}.yaml\n")
    assert "files in the extends chain" in error(tmp_path / "f11.yaml")
    assert load_scenario(tmp_path / "f8.yaml").name == "base"


def test_bad_remove_directives(tmp_path, base):
    path = child(tmp_path, "bidders: [{name: Z, remove: true}]\n")
    assert error(path) == (f"{path}:2: bidders[0]: remove: nothing inherited with name "
                           "'Z' to remove")
    path = child(tmp_path, "bidders: [{name: A, remove: true, valuation_bn: 3}]\n",
                 name="c2.yaml")
    assert error(path).startswith(f"{path}:2: bidders[0]: remove: takes only the item's name")
    path = child(tmp_path, "instruments: [{id: ban, remove: yes please}]\n", name="c3.yaml")
    assert error(path).startswith(f"{path}:2: instruments[0]: remove: takes only the item's id")


@pytest.mark.slow
def test_cli_reports_an_inherited_error_in_one_line_and_exit_2(tmp_path):
    write(tmp_path, "base.yaml", BASE.replace("review_days: 30", "review_days: 0"))
    path = child(tmp_path, "name: c\n")
    done = subprocess.run([sys.executable, str(ROOT / "run.py"), str(path), "--runs", "10",
                           "--out", str(tmp_path / "out")], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and f"{tmp_path / 'base.yaml'}:22: committee.review_days" in lines[0]
    assert not (tmp_path / "out").exists()
