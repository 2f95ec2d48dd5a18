"""Safe YAML and documented caps: what would cost an hour, all the memory or a shell
command is refused at once with one clear line.

The caps live in ``sim/limits.py`` and are listed in the README ("Trust and
reproducibility"); each test goes one past a cap.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from conftest import REALISTIC_YAML, ROOT, realistic

from sim import limits
from sim.analysis.sweep import Range, Sweep, load_sweep
from sim.errors import ScenarioError
from sim.running.montecarlo import simulate
from sim.scenario.loading import load_scenario, parse_scenario

SRC = "limits.yaml"


def refused(text: str, seconds: float = 1.0) -> str:
    """The one-line error for ``text``, which must come within ``seconds`` of this
    process's CPU time (wall time would measure whatever else the machine is doing)."""
    began = time.process_time()
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, SRC)
    elapsed = time.process_time() - began
    assert elapsed < seconds, f"took {elapsed:.2f} s"
    message = str(info.value)
    assert message.isprintable() and message.startswith(f"{SRC}:"), message
    return message


def dumped(data: dict[str, object]) -> str:
    return yaml.safe_dump(data, sort_keys=False)


# --- safe YAML ------------------------------------------------------------------------------

def billion_laughs(levels: int = 9) -> str:
    lines = ['l0: &l0 "lol"']
    for i in range(1, levels + 1):
        lines.append(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]")
    return REALISTIC_YAML + "\n".join(lines) + "\n"


def test_alias_bomb_is_refused_within_a_second() -> None:
    """Nine levels of ten aliases: a billion strings if expanded; refused by counting."""
    message = refused(billion_laughs())
    assert re.search(r":\d+: l\d: expands to over 20,000 values \(alias bomb\?\)", message)


def test_file_over_the_size_limit_is_refused_within_a_second(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_bytes(REALISTIC_YAML.encode() + b"# " + b"x" * 50_000_000 + b"\n")
    began = time.process_time()
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert time.process_time() - began < 1.0
    assert str(info.value) == f"{path}: file is larger than {limits.MAX_FILE_BYTES:,} bytes"


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_endless_device_is_refused_within_a_second() -> None:
    """A device reports size 0 and may never end (or never answer): refused unread."""
    began = time.process_time()
    with pytest.raises(ScenarioError, match=r"cannot read \(a device, not a file or a pipe\)"):
        load_scenario("/dev/zero")
    assert time.process_time() - began < 1.0


def test_deep_nesting_is_refused_within_a_second() -> None:
    for deep in ("[" * 200_000 + "]" * 200_000, "{a: " * 100_000 + "1" + "}" * 100_000):
        assert "nested deeper than 50 levels" in refused(f"{REALISTIC_YAML}description: {deep}\n")
    nested = "\n".join("  " * i + f"k{i}:" for i in range(300)) + " 1\n"
    assert "nested deeper than" in refused(REALISTIC_YAML + "description:\n" + "  " + nested)


@pytest.mark.slow
def test_many_values_are_refused_within_a_second() -> None:
    """PyYAML composes some 20,000 values a second: a 1 MB list of 300,000 is cut short."""
    flat = "[" + ", ".join(["1"] * 300_000) + "]"
    message = refused(f"{REALISTIC_YAML}description: {flat}\n", seconds=3.0)
    assert message == f"{SRC}:37: more than 20,000 values (a scenario has a few hundred)"


def test_aliases_cannot_nest_deeper_than_the_cap() -> None:
    """Each anchor shallow, their chain deep: depth counts through aliases."""
    chain = ["a0: &a0 1"] + [f"a{i}: &a{i} " + "[" * 20 + f"*a{i - 1}" + "]" * 20
                             for i in range(1, 6)]
    assert "nested deeper than 50 levels" in refused(REALISTIC_YAML + "\n".join(chain) + "\n")


def test_duplicate_keys_are_an_error_not_an_overwrite() -> None:
    message = refused(REALISTIC_YAML + "horizon_days: 30\n")
    assert message == f"{SRC}:37: horizon_days: duplicate key (each key may appear once)"


@pytest.mark.parametrize("tag", ["!!python/object/apply:os.system ['touch /tmp/pwned']",
                                 "!!python/object:builtins.dict {}", "!!python/name:os.system",
                                 "!!python/module:os"])
def test_python_tags_are_never_constructed(tag: str) -> None:
    message = refused(f"{REALISTIC_YAML}description: {tag}\n")
    assert message.startswith(f"{SRC}:37: YAML syntax error: ") and "constructor" in message


def test_only_safe_yaml_loading_in_the_code() -> None:
    """PyYAML's unsafe entry points appear nowhere in the package."""
    unsafe = re.compile(r"yaml\.(load|load_all|unsafe_load\w*|full_load\w*)\(|"
                        r"Loader=yaml\.(Loader|FullLoader|UnsafeLoader)|yaml\.(Unsafe|Full)?Loader\(")
    for path in sorted((ROOT / "sim").rglob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            assert not unsafe.search(line), f"{path.name}:{number}: {line.strip()}"


# --- caps -------------------------------------------------------------------------------

def test_horizon_cap() -> None:
    data = realistic()
    data["horizon_days"] = limits.MAX_HORIZON_DAYS
    parse_scenario(dumped(data), SRC)
    data["horizon_days"] = limits.MAX_HORIZON_DAYS + 1
    assert refused(dumped(data)) == (f"{SRC}:3: horizon_days: Input should be less than or "
                                     f"equal to {limits.MAX_HORIZON_DAYS} (got 3651)")


def test_bidder_cap() -> None:
    data = realistic()
    extra = [{"name": f"B{i}", "valuation_bn": 10} for i in range(limits.MAX_BIDDERS)]
    data["bidders"] = data["bidders"][:1] + extra[:limits.MAX_BIDDERS - 1]
    parse_scenario(dumped(data), SRC)
    data["bidders"] = data["bidders"][:1] + extra
    message = refused(dumped(data))
    assert f"bidders: List should have at most {limits.MAX_BIDDERS} items" in message


def test_instrument_cap() -> None:
    data = realistic()
    data["instruments"] = [{"id": f"d{i}", "kind": "lapse", "date": f"2020-10-{i + 1:02d}"}
                           for i in range(limits.MAX_DEADLINES)]
    parse_scenario(dumped(data), SRC)
    data["instruments"].append({"id": "one_more", "kind": "lapse", "date": "2020-12-01"})
    assert f"instruments: List should have at most {limits.MAX_DEADLINES} items" in \
        refused(dumped(data))


@pytest.mark.parametrize(("where", "most"), [
    (("instruments", 0, "tiers"), 5), (("instruments", 0, "court", "plaintiffs"), 10),
    (("politics",), 20)])
def test_v2_list_caps(where: tuple, most: int) -> None:
    """Tiers of a ban, plaintiffs of a court and dated political events are capped too,
    so the streams sized from them stay small."""
    data = realistic()
    make = {"tiers": lambda i: {"id": f"t{i}", "date": f"2020-10-{i + 1:02d}"},
            "plaintiffs": lambda i: {"name": f"p{i}"},
            "politics": lambda i: {"id": f"e{i}", "date": f"2020-10-{i + 1:02d}"}}[where[-1]]
    box = data
    for key in where[:-1]:
        box = box[key]
    box[where[-1]] = [make(i) for i in range(most)]
    parse_scenario(dumped(data), SRC)
    box[where[-1]].append(make(most))
    assert f"List should have at most {most} items" in refused(dumped(data))


def test_runs_cap() -> None:
    s = parse_scenario(REALISTIC_YAML, SRC)
    with pytest.raises(ValueError, match=f"{limits.MAX_RUNS:,}"):
        simulate(s, limits.MAX_RUNS + 1, 1)
    done = subprocess.run([sys.executable, str(ROOT / "run.py"), "scenarios/oracle.yaml",
                           "--runs", str(limits.MAX_RUNS + 1)],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert f"--runs: must be between 1 and {limits.MAX_RUNS:,}" in done.stderr


@pytest.mark.slow
def test_sweep_point_cap_before_any_work(tmp_path: Path) -> None:
    """A 1,000 × 1,000 grid is refused as it is read, not after building its points."""
    big = {"design": "grid", "parameters": {
        "committee.clear_threshold": {"low": 0.5, "high": 0.9, "points": 1000},
        "court.injunction_probability": {"low": 0.1, "high": 0.9, "points": 1000}}}
    path = tmp_path / "big.yaml"
    path.write_text(yaml.safe_dump(big))
    began = time.process_time()
    with pytest.raises(ScenarioError) as info:
        load_sweep(path)
    assert time.process_time() - began < 1.0
    assert str(info.value) == (f"{path}:1: (top level): 1,000,000 points is over the cap of "
                               f"{limits.MAX_SWEEP_POINTS:,} (fewer points or samples)")
    for design, samples, params in (("lhs", limits.MAX_SWEEP_POINTS + 1, 1),
                                    ("sobol", 4096, 4)):  # Saltelli: 4096 × (4 + 2)
        with pytest.raises(ValueError, match=r"over the cap|less than or equal"):
            Sweep(name="s", design=design, samples=samples,
                  parameters={f"p{i}": Range(low=0, high=1) for i in range(params)})
    vary = subprocess.run([sys.executable, str(ROOT / "run.py"), "scenarios/oracle.yaml",
                           "--vary", "committee.clear_threshold=0.5:0.9:1000",
                           "--vary", "court.injunction_probability=0.1:0.9:1000",
                           "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert vary.returncode == 2 and "Traceback" not in vary.stderr
    assert vary.stderr.strip() == ("error: --vary: 1,000,000 points is over the "
                                   "cap of 20,000 (fewer points or samples)")


@pytest.mark.parametrize(("text", "says"), [
    ("design: grid\nparameters: " + "[" * 5000 + "]" * 5000 + "\n", ":2: values nested deeper"),
    ("", ":1: file is empty (expected a sweep mapping)"),
    ("design: grid\ndesign: lhs\n", ":2: design: duplicate key"),
    ("design: !!python/name:os.system\n", ":1: YAML syntax error: could not determine"),
])
def test_sweep_files_get_the_same_safe_loading(tmp_path: Path, text: str, says: str) -> None:
    path = tmp_path / "sweep.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as info:
        load_sweep(path)
    assert str(info.value).startswith(f"{path}{says}"), str(info.value)
