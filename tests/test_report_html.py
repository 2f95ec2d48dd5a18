"""report.html: the scenario file's comments become the assumptions' sources, the page is
self-contained, and a real browser (headless Chromium) shows its content and figures."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import textwrap
from html.parser import HTMLParser
from pathlib import Path

import jinja2
import matplotlib.image
import numpy as np
import pytest
from conftest import scenario

from sim.analysis.summary import summarise
from sim.model.outcome import OUTCOMES
from sim.outputs.figures import run as plots
from sim.outputs.report_page import (
    OUTCOME_COLOURS,
    REPORT_NAME,
    assumptions,
    render_part,
    scenario_sources,
    source_comments,
    write_report,
)
from sim.outputs.run_folder import write_outputs
from sim.running.montecarlo import simulate
from sim.running.results import Run
from sim.scenario.loading import load_scenario, parse_scenario

ROOT = Path(__file__).resolve().parents[1]
ORACLE = ROOT / "scenarios" / "oracle.yaml"

COMMENTED = textwrap.dedent("""\
    # header comment: a blank line parts it from the first key

    name: t   # the name
    start: 2020-01-01          # day zero, §1
    horizon_days: 100

    instruments:
      # the only instrument
      - id: order
        kind: service_ban
        date: 2020-02-01       # §2 (order + 30 days)
        enforcement:
          extend:
            # why it may move
            # ------------------
            otherwise: 0.5     # assumption
          max_extensions: 1
    parent:
      name: "P # not a comment"
      # reservation from filings

      # right above it
      reservation_bn:   # after the colon
        dist: uniform   # shape: assumption
        low: 1
        high: 2         # upper: §3
    bidders:
      - name: "B#1"
        valuation_bn: {dist: triangular, low: 1, mode: 2,
                       high: 3}  # B's value # with a hash
    """)


def test_source_comments_are_the_comments_on_and_above_each_key() -> None:
    found = source_comments(COMMENTED)
    assert found["name"].comment == "the name"
    assert found["start"].comment == "day zero, §1"
    assert (found["horizon_days"].line, found["horizon_days"].comment) == (5, "")
    assert found["instruments.order.date"].comment == "§2 (order + 30 days)"
    # separator lines are dropped; a blank line ends the comment block above a key
    assert found["instruments.order.enforcement.extend.otherwise"].comment == (
        "why it may move assumption")
    assert found["instruments.order.enforcement.extend"].comment == ""
    assert found["instruments.order.enforcement.max_extensions"].comment == ""
    assert found["parent.name"].comment == ""  # a '#' inside a value is not a comment
    assert found["parent.reservation_bn"].comment == (
        "right above it after the colon shape: assumption upper: §3")
    assert found["parent.reservation_bn"].line == 23
    assert found["bidders.B#1.valuation_bn"].comment == "B's value # with a hash"


def test_assumptions_cover_every_input_with_its_distribution() -> None:
    s = scenario(COMMENTED)
    results = simulate(s, 200, 1)
    run = Run(s, Path("t.yaml"), results, 1, 1)
    rows = {a.key: a for a in assumptions(run, source_comments(COMMENTED))}
    reservation = rows["parent.reservation_bn"]
    assert reservation.value == "uniform(low=1, high=2)"
    assert reservation.group == "parent"
    assert reservation.source is not None and "upper: §3" in reservation.source.comment
    q10, q50, q90 = np.quantile(results["input.parent.reservation_bn"], [0.1, 0.5, 0.9])
    assert reservation.sampled == f"{q50:.3g} [{q10:.3g} – {q90:.3g}]"
    extend = rows["instruments.order.enforcement.extend.otherwise"]
    assert extend.sampled == "" and extend.value == "0.5"  # a constant
    assert extend.group == "instruments.order"
    assert extend.source is not None and extend.source.comment == "why it may move assumption"
    assert rows["start"].value == "2020-01-01" and rows["start"].group == "scenario"
    # keys left out of the file are the schema's defaults, listed as such
    assert rows["committee.review_days"].source is None
    assert rows["committee.review_days"].value == "45"
    assert "name" not in rows and "parent.name" not in rows and "description" not in rows
    # the record of a backtest case is not an assumption
    s = scenario(COMMENTED + "actual: {outcome: sale, date: 2020-03-01, source: x}\n")
    run = Run(s, Path("t.yaml"), results, 1, 1)
    assert not [a for a in assumptions(run, source_comments(COMMENTED)) if "actual" in a.key]


def test_inherited_keys_take_their_comments_from_the_file_they_come_from(
        tmp_path: Path) -> None:
    (tmp_path / "cases").mkdir()
    (tmp_path / "base.yaml").write_text(COMMENTED, encoding="utf-8")
    child = tmp_path / "cases" / "child.yaml"
    child.write_text(textwrap.dedent("""\
        extends: ../base.yaml   # the base case
        name: child
        parent:
          reservation_bn: 3     # the child's own number, §9
        """), encoding="utf-8")
    source = load_scenario(child).source
    child.write_text("name: changed since   # not what was run\n", encoding="utf-8")
    found = scenario_sources(source)  # the top file's comments come from the text run
    own = found["parent.reservation_bn"]
    assert (own.comment, own.file, own.line) == ("the child's own number, §9", None, 4)
    assert found["name"].comment == ""
    inherited = found["instruments.order.date"]
    assert inherited.comment == "§2 (order + 30 days)"
    assert inherited.file is not None and Path(inherited.file).resolve() == (
        tmp_path / "base.yaml").resolve()
    assert inherited.line == 11
    assert "extends" not in found


def test_a_scenario_made_from_text_has_the_comments_of_its_text() -> None:
    source = parse_scenario(COMMENTED).source
    assert source.path is None
    found = scenario_sources(source)
    assert found["start"].comment == "day zero, §1" and found["start"].file is None
    assert found["parent.reservation_bn"].line == 23


def test_outcome_colours_are_the_figures_colours() -> None:
    assert {k: plots.COLOURS[k] for k in OUTCOMES} == OUTCOME_COLOURS


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("report")
    s = load_scenario(ORACLE)
    run = Run(s, ORACLE, simulate(s, 2000, 5, workers=2), 5, 2)
    data = write_outputs(run, out, figures=True, command=["run.py", "test"])
    return out / REPORT_NAME, data


@pytest.mark.slow
def test_report_is_written_and_listed(report: tuple[Path, dict]) -> None:
    path, data = report
    assert REPORT_NAME in data["files"]
    assert REPORT_NAME in json.loads((path.parent / "summary.json").read_text())["files"]
    assert not list(path.parent.glob(".*.tmp"))  # written atomically, nothing left over


@pytest.mark.slow
def test_report_is_self_contained(report: tuple[Path, dict]) -> None:
    page = report[0].read_text(encoding="utf-8")
    # nothing to fetch: no remote or local resource but the embedded images
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", page)
    assert "<link" not in page and "<script" not in page and "url(" not in page
    sources = re.findall(r'<img src="([^"]+)"', page)
    assert len(sources) == 4 and all(s.startswith("data:image/png;base64,") for s in sources)
    assert page.count('<section class="story"') == 3


@pytest.mark.slow
def test_report_without_figures_says_so(tmp_path: Path) -> None:
    s = load_scenario(ORACLE)
    run = Run(s, ORACLE, simulate(s, 300, 5), 5, 1)
    write_outputs(run, tmp_path, figures=False)
    page = (tmp_path / REPORT_NAME).read_text(encoding="utf-8")
    assert "Figures were not drawn" in page and "<img" not in page


# -- in a real browser -------------------------------------------------------------------

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]
PROBE = """<script>
window.addEventListener("load", () => {
  const probe = document.createElement("pre");
  probe.id = "probe";
  probe.textContent = JSON.stringify({
    images: [...document.images].map(i => ({file: i.dataset.file, complete: i.complete,
                                             width: i.naturalWidth, height: i.naturalHeight})),
    text: document.body.innerText});
  document.body.appendChild(probe);
});
</script></body>"""


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        reason = ("chromium is not installed (apt-get install chromium): the browser test of "
                  "report.html cannot run")
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI must install it (.ci/run)")
        pytest.skip(reason)
    return found


def browse(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
                           *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done


@pytest.mark.slow
def test_browser_shows_outcomes_stories_assumptions_and_figures(
        report: tuple[Path, dict], tmp_path: Path) -> None:
    path, data = report
    probe = tmp_path / "probe.html"  # beside a copy, so the report itself stays script-free
    probe.write_text(path.read_text(encoding="utf-8").replace("</body>", PROBE),
                     encoding="utf-8")
    dom = browse(tmp_path, "--virtual-time-budget=10000", "--dump-dom",
                 probe.as_uri()).stdout
    found = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)
    assert found, "the page's load handler never ran"
    seen = json.loads(found.group(1).replace("&lt;", "<").replace("&gt;", ">")
                      .replace("&quot;", '"').replace("&amp;", "&"))
    text = seen["text"]
    for name in OUTCOMES:
        o = data["outcomes"][name]
        shown = f"{100 * o['probability']:.1f}%"
        interval = f"{100 * o['ci95'][0]:.1f}% – {100 * o['ci95'][1]:.1f}%"
        assert re.search(rf"{name}\s+{re.escape(shown)}\s+{re.escape(interval)}", text), name
    assert text.count("Replication ") >= 3 and "ends in SALE" in text
    assert "ends in SHUTDOWN" in text and "ends in UNRESOLVED" in text
    assert "lognormal(median=20, sigma=0.2)" in text  # parent.reservation_bn
    assert "§2: 1.5 x 20 = the reported ask of about 30 bn" in text  # its file comment
    images = seen["images"]
    assert [i["file"] for i in images] == [f for f in data["files"] if f.endswith(".png")]
    for image in images:
        assert image["complete"] and image["width"] > 500 and image["height"] > 250, image


@pytest.mark.slow
def test_browser_screenshot_shows_the_page(report: tuple[Path, dict], tmp_path: Path) -> None:
    shot = tmp_path / "shot.png"
    browse(tmp_path, "--window-size=1200,2400", "--hide-scrollbars",
           f"--screenshot={shot}", report[0].as_uri())
    image = matplotlib.image.imread(shot)[:, :, :3]
    assert image.shape[:2] == (2400, 1200)
    assert image.std() > 0.05, "the screenshot is blank"
    # the outcome colours are on screen: the table's swatches for every outcome, and the
    # figures' bars too for an outcome that happens (the Oracle scenario has no abandoned
    # run, so that colour is only in the swatch and the legends)
    outcomes = report[1]["outcomes"]
    for name, colour in OUTCOME_COLOURS.items():
        rgb = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)]) / 255
        near = np.abs(image - rgb).max(axis=2) < 0.04
        least = 200 if outcomes[name]["probability"] > 0 else 50
        assert near.sum() > least, f"{name} colour {colour} not rendered"


def test_missing_browser_skips_here_but_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="chromium is not installed"):
        chromium()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must install it"):
        chromium()


@pytest.mark.slow
def test_report_needs_no_scenario_file_on_disk(tmp_path: Path) -> None:
    path = tmp_path / "gone.yaml"
    path.write_text(ORACLE.read_text(encoding="utf-8"), encoding="utf-8")
    s = load_scenario(path)
    run = Run(s, path, simulate(s, 200, 5), 5, 1)
    data = write_outputs(run, tmp_path / "first", figures=False)
    path.unlink()  # the page reads the comments from the text the run was loaded from
    write_report(run, summarise(run), tmp_path, data, [])
    page = (tmp_path / REPORT_NAME).read_text(encoding="utf-8")
    assert "could not be read again" not in page
    assert "lognormal(median=20, sigma=0.2)" in page
    assert "§2: 1.5 x 20 = the reported ask of about 30 bn" in page


@pytest.mark.slow
def test_report_survives_a_parent_file_gone_since_the_run(tmp_path: Path) -> None:
    (tmp_path / "base.yaml").write_text(ORACLE.read_text(encoding="utf-8"), encoding="utf-8")
    path = tmp_path / "child.yaml"
    path.write_text("extends: base.yaml\nname: child\n", encoding="utf-8")
    s = load_scenario(path)
    run = Run(s, path, simulate(s, 200, 5), 5, 1)
    data = write_outputs(run, tmp_path / "first", figures=False)
    (tmp_path / "base.yaml").unlink()  # what it extends is read from disk: gone, no sources
    write_report(run, summarise(run), tmp_path, data, [])
    page = (tmp_path / REPORT_NAME).read_text(encoding="utf-8")
    assert "could not be read again" in page and "lognormal(median=20, sigma=0.2)" in page


class _Text(HTMLParser):
    """The page's text as a browser shows it (entities decoded), and its tags."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_markup_in_the_scenario_is_shown_as_text(tmp_path: Path) -> None:
    text = COMMENTED.replace("name: t   # the name",
                             'name: "<script>alert(1)</script> & co"   # the name').replace(
        "# day zero, §1", "# day zero <script>x()</script> & R&D, §1 <b>bold</b>")
    s = scenario(text)
    assert s.name.startswith("<script>")
    run = Run(s, Path("t&<i>.yaml"), simulate(s, 100, 1), 1, 1)
    write_outputs(run, tmp_path, figures=False, command=["run.py", "<b>x</b> & y"])
    page = (tmp_path / REPORT_NAME).read_text(encoding="utf-8")
    assert "<script" not in page and "<b>bold" not in page and "<i>" not in page
    parsed = _Text()
    parsed.feed(page)
    shown = "".join(parsed.text)
    assert "script" not in parsed.tags and "i" not in parsed.tags
    assert "<script>alert(1)</script> & co" in shown  # the title, the heading
    assert shown.count("<script>alert(1)</script> & co") == 2
    assert "day zero <script>x()</script> & R&D, §1 <b>bold</b>" in shown  # its source
    assert "t&<i>.yaml" in shown and "run.py <b>x</b> & y" in shown
    assert "&amp;amp;" not in page  # escaped once, not twice


def test_a_name_the_page_lacks_is_an_error_not_a_blank() -> None:
    with pytest.raises(jinja2.UndefinedError):
        render_part("timing.html.j2", {})
