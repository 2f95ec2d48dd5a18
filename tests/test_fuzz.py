"""Fuzzing the scenario loader: whatever bytes arrive, the answer is a Scenario or one
``ScenarioError`` line naming the file and line — never another exception, a traceback
or an hour of work.

Documents start from a realistic scenario and are damaged the way hand-edited and
machine-generated files are: wrong types, missing and unknown keys, NaN and infinities,
huge and negative numbers, empty and enormous lists, deep nesting, YAML tags such as
``!!python/object``, duplicate keys, non-UTF-8 and control bytes, truncation. A document
that still loads must be runnable: finite numbers, dates inside the calendar, a few
replications without error.

Profiles (environment variable ``HYPOTHESIS_PROFILE``): ``ci`` (default, 300 examples,
seconds) and ``fuzz`` (10,000 examples, a few minutes)::

    HYPOTHESIS_PROFILE=fuzz .venv/bin/python -m pytest tests/test_fuzz.py -q
"""

from __future__ import annotations

import copy
import math
import os
import re
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import REALISTIC_YAML, RICH_YAML, ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.errors import ScenarioError
from sim.running.montecarlo import simulate
from sim.scenario.inputs import uncertain_inputs
from sim.scenario.loading import load_scenario
from sim.scenario.schema import Scenario

_COMMON: dict[str, Any] = {
    "deadline": None, "database": None, "print_blob": True,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large,
                              HealthCheck.large_base_example, HealthCheck.filter_too_much]}
# CI replays the same 300 examples every time (no flaky red from a new find); the long
# profile explores fresh ones.
settings.register_profile("ci", max_examples=300, derandomize=True, **_COMMON)
settings.register_profile("fuzz", max_examples=10_000, **_COMMON)
PROFILE = settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

BASE: dict[str, Any] = yaml.safe_load(REALISTIC_YAML)
RICH: dict[str, Any] = yaml.safe_load(RICH_YAML)  # every v2 block: tiers, politics, ...

# YAML written as is where a value stands: tags, special floats, aliases, broken syntax.
RAW = [
    ".nan", ".NaN", ".inf", "-.inf", "1e999", "-1e999", "9" * 400, "-" + "9" * 400,
    "1e-400", "0x7fffffffffffffff", "0o777", "1_000_000", "-0.0", "~", "yes", "on",
    "2020-02-30", "2020-09-14 10:00:00", "9999-12-31", "0001-01-01", "''", '"\\0"',
    '"\\n\\r\\u2028"', '"\\x1b[31m"',
    "!!python/object/apply:os.system ['true']", "!!python/object:builtins.dict {}",
    "!!python/name:os.system", "!!python/tuple [1, 2]", "!!binary aGVsbG8=",
    "!!set {a, b}", "!!omap [{a: 1}]", "!!timestamp 2020-01-01", "!!float .nan",
    "!!str 12", "!!int '7'", "!local 1", "!<tag:example.com,2000:x> 1", "&a [*a]",
    "*nowhere", "[1, 2", "{a: 1", "{dist: uniform, low: .nan, high: 1}",
    "{dist: uniform, low: -1.7e308, high: 1.7e308}", "{dist: normal, mean: 0, sd: 1}",
    "{dist: normal, mean: 5, sd: 1, low: 1}", "{dist: normal, mean: 1e308, sd: 1e308, low: 1}",
    "{dist: choice, values: []}", "{dist: choice, values: [1e308, 1e308], weights: [1e308, 1]}",
    "{dist: beta, mean: 0.5, sd: 1e-300}", "{dist: beta, mean: 1e-300, sd: 1e-300}",
    "{dist: lognormal, median: 1e308, sigma: 1e308}", "{dist: exponential, mean: 1e-320}",
    "{dist: pert, low: 1, mode: 1, high: 1.7e308, lamb: 1e308}", "{dist: gamma, a: 1}",
    "{dist: [uniform]}", "{dist: fixed, value: 1}",
]
BAD_BYTES = [b"\xff", b"\xfe\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf4\x90\x80\x80",
             b"\x00", b"\x07", b"\x1b", b"\x85", b"\xef\xbb\xbf", b"\r", b"\t", b"\\",
             b"\xe2\x80\xa8", b": ", b"- ", b"&x ", b"*x", b"!!", b"%YAML 1.1\n---\n"]

finite = st.floats(allow_nan=False, allow_infinity=False)
numbers = st.one_of(finite, st.floats(), st.integers(), st.integers(-(10**400), 10**400),
                    st.sampled_from([0, -1, 1, 1e-320, 1e308, -1e308, 2**63, 0.5]))
scalars = st.one_of(st.none(), st.booleans(), numbers, st.text(max_size=20), st.dates(),
                    st.sampled_from(["", "sale", "ban", "full_acquisition", "Oracle"]))
values = st.recursive(scalars, lambda kids: st.lists(kids, max_size=4)
                      | st.dictionaries(st.text(max_size=8), kids, max_size=4), max_leaves=8)
distributions = st.fixed_dictionaries(
    {"dist": st.sampled_from(["fixed", "uniform", "triangular", "pert", "normal",
                              "lognormal", "beta", "exponential", "choice", "gamma"])},
    optional={k: numbers for k in ("value", "low", "high", "mode", "mean", "sd", "median",
                                   "sigma", "lamb")}
    | {"values": st.lists(numbers, max_size=5), "weights": st.lists(numbers, max_size=5)})


def _slots(tree: Any) -> list[tuple[Any, Any]]:
    """Every (container, key or index) in the document, the root's keys included."""
    found: list[tuple[Any, Any]] = []
    items = (tree.items() if isinstance(tree, dict)
             else enumerate(tree) if isinstance(tree, list) else ())
    for key, value in list(items):
        found.append((tree, key))
        found += _slots(value)
    return found


def _containers(tree: Any, kind: type) -> list[Any]:
    found = [tree] if isinstance(tree, kind) else []
    children = (tree.values() if isinstance(tree, dict)
                else tree if isinstance(tree, list) else ())
    for child in children:
        found += _containers(child, kind)
    return found


@st.composite
def documents(draw: st.DrawFn) -> bytes:
    """The realistic or the rich scenario with one to four kinds of damage, as the bytes
    of a file."""
    doc = copy.deepcopy(draw(st.sampled_from([BASE, RICH])))
    raw: dict[str, str] = {}

    def token(text: str) -> str:
        raw[f"RAW{len(raw)}X"] = text
        return f"RAW{len(raw) - 1}X"

    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["value", "dist", "raw", "delete", "unknown", "empty",
                                   "enormous", "deep", "long"]))
        slots = _slots(doc)
        if not slots:
            break
        box, key = draw(st.sampled_from(slots))
        if op == "value":
            box[key] = draw(values)
        elif op == "dist":
            box[key] = draw(distributions)
        elif op == "raw":
            box[key] = token(draw(st.sampled_from(RAW)))
        elif op == "delete":
            del box[key]
        elif op == "unknown":
            where = draw(st.sampled_from(_containers(doc, dict)))
            name = draw(st.text(min_size=1, max_size=12)
                        | st.sampled_from(["extends", "dist", "remove", "<<", "name"]))
            where[name] = draw(values | st.sampled_from(
                ["/dev/zero", "/etc/passwd", ".", "..", "/", "a" * 300, "x\0y"]))
        elif op == "empty":
            box[key] = draw(st.sampled_from([[], {}, "", None]))
        elif op == "enormous":
            n = draw(st.integers(0, 30_000))
            lists = _containers(doc, list)
            if lists and draw(st.booleans()):  # many copies of an item (dumped as aliases)
                target = draw(st.sampled_from(lists))
                target[:] = target[:1] * min(n, 3000)
            else:
                box[key] = token("[" + ", ".join(["1"] * n) + "]")
        elif op == "deep":
            depth = draw(st.integers(1, 5000))
            box[key] = token(draw(st.sampled_from(["[" * depth + "]" * depth,
                                                   "{a: " * depth + "1" + "}" * depth])))
        else:
            box[key] = "x" * draw(st.integers(100, 200_000))
    text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=draw(st.booleans()),
                          default_flow_style=draw(st.sampled_from([False, None])))
    for name, value in raw.items():
        text = text.replace(name, value)
    data = text.encode("utf-8")
    for _ in range(draw(st.integers(0, 3))):  # damage to the bytes themselves
        lines = data.split(b"\n")
        op = draw(st.sampled_from(["duplicate", "drop", "insert", "truncate"]))
        at = draw(st.integers(0, max(len(lines) - 1, 0)))
        if op == "duplicate":  # a repeated line: often a duplicate key
            lines.insert(at, lines[at])
            data = b"\n".join(lines)
        elif op == "drop":
            del lines[at]
            data = b"\n".join(lines)
        elif op == "insert":
            cut = draw(st.integers(0, len(data)))
            extra = draw(st.one_of(st.sampled_from(BAD_BYTES), st.binary(min_size=1,
                                                                         max_size=4)))
            data = data[:cut] + extra + data[cut:]
        else:
            data = data[:draw(st.integers(0, len(data)))]
    return data


WHERE = re.compile(r"^(?P<source>.+?):(?P<line>\d+): \S")
FILE_LEVEL = ("file is larger than",)  # problems of the whole file: no line to point at


def check_error(message: str, source: str, extends: bool = False) -> None:
    """One printable line that starts ``source:line: ``, short enough to read (a file it
    ``extends`` may be the one named)."""
    assert message.isprintable(), f"not one printable line: {message!r}"
    assert len(message) <= 600, f"{len(message)} characters: {message[:200]!r}…"
    match = WHERE.match(message)
    if match is None:
        assert message.startswith(f"{source}: ") and any(s in message for s in FILE_LEVEL), \
            f"no line in {message!r}"
    else:
        assert match["source"] == source or extends, message


def check_runnable(s: Scenario) -> None:
    """What loads must run: finite inputs, dates in the calendar, replications that end."""
    for key, d in uncertain_inputs(s).items():
        low, high = d.support()
        assert not (math.isnan(low) or math.isnan(high)), f"{key}: support [{low}, {high}]"
    s.date_of(s.horizon_days)
    results = simulate(s, 3, 1)
    assert len(results) == 3


def load_bytes(data: bytes) -> tuple[Path, Scenario | str]:
    with tempfile.NamedTemporaryFile("wb", suffix=".yaml", delete=False) as handle:
        handle.write(data)
    path = Path(handle.name)
    try:
        return path, load_scenario(path)
    except ScenarioError as exc:
        return path, str(exc)
    finally:
        path.unlink()


# ~20 s in the ci profile (300 documents, each loaded and, if valid, run)
@pytest.mark.slow
@settings(PROFILE)
@given(documents())
def test_loader_raises_only_one_located_line(data: bytes) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a warning would be a second line on stderr
        path, result = load_bytes(data)
    if isinstance(result, str):
        check_error(result, str(path), extends=b"extends" in data)
    else:
        check_runnable(result)


def test_the_strategy_reaches_both_outcomes() -> None:
    """The fuzzer is only useful if some damaged files still load and most do not."""
    loaded = errors = 0
    for data in (REALISTIC_YAML.encode(), REALISTIC_YAML.replace("365", "366").encode()):
        _, result = load_bytes(data)
        loaded += not isinstance(result, str)
    for raw in ("!!python/object/apply:os.system ['true']", ".nan", "[" * 3000):
        _, result = load_bytes(REALISTIC_YAML.replace("365", raw, 1).encode())
        errors += isinstance(result, str)
    assert (loaded, errors) == (2, 3)


# --- found by the fuzzer (kept as plain examples) -----------------------------------------

FOUND = {
    "control character": (REALISTIC_YAML + "description: a\x07b\n", 37, "unacceptable"),
    "nested 5000 deep": (REALISTIC_YAML + "description: " + "[" * 5000 + "]" * 5000 + "\n",
                         37, "nested deeper than"),
    "newline in a key": (REALISTIC_YAML + '"col\\nour": 1\n', 37, "col\\nour: unknown key"),
    "extends with a NUL": ('extends: "a\\0b"\n' + REALISTIC_YAML, 1, "extends:"),
    "extends too long": ("extends: " + "a" * 5000 + "\n" + REALISTIC_YAML, 1, "extends:"),
    "a blank key": (REALISTIC_YAML + '" ": 1\n', 37, "' ': unknown key"),
    "a 300-digit number": (REALISTIC_YAML.replace("365", "9" * 300), 3, "horizon_days"),
    "horizon past the year 9999": (REALISTIC_YAML.replace("2020-09-14", "9999-12-01")
                                   .replace("2020-09-20", "9999-12-20"), 3, "9999"),
    "normal bounded on one side": (REALISTIC_YAML.replace(
        "review_days: {dist: uniform, low: 3, high: 10}",
        "review_days: {dist: normal, mean: 5, sd: 2, low: 1}"), None, ""),
    "beta with a vanishing sd": (REALISTIC_YAML.replace(
        "{dist: beta, mean: 0.6, sd: 0.15}", "{dist: beta, mean: 0.6, sd: 1e-300}"),
        28, "sd too small"),
    "overflow warnings": (REALISTIC_YAML.replace("approval_probability: 0.5",
                          "approval_probability: {dist: uniform, low: -1.7e308, high: 1.7e308}"),
                          34, "range overflows"),
    "a uniform over the whole float range": (REALISTIC_YAML.replace(
        "concession_exponent: 0.4", "concession_exponent: {dist: uniform, low: -1.7e308, "
        "high: 1.7e308}"), 19, "range overflows"),
    "a 100,000-character name": (REALISTIC_YAML.replace("name: test", "name: " + "x" * 100_000),
                                 1, "at most 120 characters"),
}


@pytest.mark.parametrize("case", list(FOUND))
def test_found_by_the_fuzzer(case: str) -> None:
    text, line, says = FOUND[case]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        path, result = load_bytes(text.encode())
    if line is None:
        assert not isinstance(result, str), result
        check_runnable(result)
        return
    assert isinstance(result, str), "loaded"
    check_error(result, str(path))
    assert result.startswith(f"{path}:{line}: ") and says in result, result


# --- the command line: exit 2, one line, no traceback (a small sample) -------------------

CLI_CASES = {
    "non-UTF-8": REALISTIC_YAML.encode() + b"description: caf\xe9\n",
    "python tag": (REALISTIC_YAML + "description: !!python/object/apply:os.system ['echo "
                   "pwned']\n").encode(),
    "deep nesting": (REALISTIC_YAML + "description: " + "{a: " * 3000 + "}" * 3000).encode(),
    "newline in a key": (REALISTIC_YAML + '"a\\nb": 1\n').encode(),
}


# ~6 s: four Python start-ups
@pytest.mark.slow
def test_cli_exits_2_with_one_line(tmp_path: Path) -> None:
    """Started together (each pays Python's start-up), checked one by one."""
    running = {}
    for i, (case, data) in enumerate(CLI_CASES.items()):
        path = tmp_path / f"case{i}.yaml"
        path.write_bytes(data)
        running[case] = (path, subprocess.Popen(
            [sys.executable, str(ROOT / "run.py"), str(path), "--runs", "10", "--out",
             str(tmp_path / f"out{i}"), "--quiet"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path))
    for case, (path, process) in running.items():
        stdout, stderr = process.communicate(timeout=120)
        assert process.returncode == 2, (case, stderr)
        assert stdout == "" and "Traceback" not in stderr, (case, stderr)
        lines = stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"error: {path}:"), (case, stderr)
        assert "pwned" not in stdout
    assert not any(tmp_path.glob("out*")), "nothing is written for a bad scenario"
