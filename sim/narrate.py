"""Narrated runs: one replication's own event log told as a dated story in plain words.

A probability is not an explanation; a story of one replication shows *how* a sale or a
shutdown happens in the model. Nothing here re-implements the model: ``replay`` re-runs
exactly one replication of a Monte Carlo run from its keyed random streams with tracing
on (same seed, same block, same row → the same history as in the results table), and
``narrate`` turns the events the actors logged (``Deal.log``) into sentences.
"""

from __future__ import annotations

import datetime as dt
import math
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.model import Model
from sim.outcome import BLOCK, CLEAR, OUTCOMES, SALE, SHUTDOWN, UNRESOLVED, Outcome
from sim.results import Run
from sim.rng import BLOCK_SIZE
from sim.sampling import sample_block
from sim.scenario import Scenario

Event = tuple[float, str, dict[str, Any]]
STRUCTURE_WORDS = {"full_acquisition": "full acquisition", "majority": "majority stake",
                   "minority_partnership": "minority partnership"}


@dataclass(frozen=True)
class Line:
    """One sentence of a story, at the moment of the event it tells."""

    day: float
    date: dt.date
    text: str


@dataclass(frozen=True)
class Story:
    replication: int
    seed: int
    outcome: Outcome
    headline: str
    lines: tuple[Line, ...]

    @property
    def outcome_name(self) -> str:
        return OUTCOMES[self.outcome.outcome]


def replay(scenario: Scenario, seed: int, replication: int, runs: int | None = None,
           model: Model | None = None) -> tuple[Outcome, list[Event]]:
    """Re-run replication ``replication`` of a run of ``runs`` with tracing on.

    Replication K lives in stream block K // BLOCK_SIZE at row K % BLOCK_SIZE. The block is
    sampled at the size the run used (its last block may be short), so every draw is the
    very value the run used, not merely an equal one by the prefix property.
    """
    if replication < 0 or (runs is not None and replication >= runs):
        raise ValueError(f"replication must be between 0 and {(runs or 1) - 1}")
    block, row = divmod(replication, BLOCK_SIZE)
    size = BLOCK_SIZE if runs is None else min(BLOCK_SIZE, runs - block * BLOCK_SIZE)
    values, draws = sample_block(scenario, seed, block, size).row(row)
    trace: list[Event] = []
    outcome = (model or Model(scenario)).run(values, draws, trace=trace)
    return outcome, trace


def example_runs(outcomes: np.ndarray) -> dict[int, int]:
    """The first replication ending in each outcome that occurs: a draw from each outcome's
    own histories, and reproducible (``--trace-run`` tells any other)."""
    found = {}
    for code in range(len(OUTCOMES)):
        hits = np.flatnonzero(outcomes == code)
        if hits.size:
            found[code] = int(hits[0])
    return found


def story(scenario: Scenario, seed: int, replication: int, runs: int | None = None,
          model: Model | None = None) -> Story:
    outcome, trace = replay(scenario, seed, replication, runs, model)
    return Story(replication, seed, outcome, headline(scenario, outcome, replication, seed),
                 tuple(narrate(scenario, trace)))


def stories(scenario: Scenario, seed: int, runs: int, replications: Sequence[int]) -> list[Story]:
    model = Model(scenario)
    return [story(scenario, seed, k, runs, model) for k in replications]


def _upper(text: str) -> str:
    return text[:1].upper() + text[1:]


def _plural(count: float, word: str) -> str:
    n = round(count)
    return f"{n} {word}" + ("" if n == 1 else "s")


def _money(bn: float) -> str:
    return f"USD {bn:.1f} bn"


def _date(scenario: Scenario, day: float) -> str:
    return f"{scenario.date_of(day):%a %d %b %Y}"


def headline(scenario: Scenario, outcome: Outcome, replication: int, seed: int) -> str:
    when = f"{_date(scenario, outcome.day)} (day {outcome.day:.0f})"
    what = {SALE: f"SALE on {when}", SHUTDOWN: f"SHUTDOWN on {when}",
            UNRESOLVED: f"UNRESOLVED at the horizon, {when}"}[outcome.outcome]
    if outcome.outcome == SALE:
        buyer = scenario.bidders[outcome.winner].name
        what += f": {buyer} buys for {_money(outcome.price_bn)}"
    return f"Replication {replication} (seed {seed}) ends in {what}"


class _Narrator:
    """Sentences for each event kind; keeps the little context a story needs (who is
    signed, what was last said about each bidder's bargaining position)."""

    def __init__(self, scenario: Scenario) -> None:
        s = self.s = scenario
        self.parent = s.parent.name
        self.committee = s.committee.name
        self.president = "The " + s.president.name if s.president.name.islower() \
            else s.president.name
        self.home = s.home_government.name if s.home_government else "the home government"
        self.deadlines = {f"deadlines.{d.id}": d for d in s.deadlines}
        self.said: dict[int, tuple[Any, ...]] = {}
        self.signed: int | None = None
        self.price = math.nan
        self.enforced: dict[str, list[str]] = {}  # deadline key -> court steps so far
        self.enjoined = False
        self.handlers: dict[str, Callable[[float, dict[str, Any]], list[str]]] = {
            name.removeprefix("_on_"): getattr(self, name)
            for name in dir(self) if name.startswith("_on_")}

    def bidder(self, index: int) -> str:
        return self.s.bidders[index].name

    def deadline(self, key: str) -> str:
        return f"the {self.deadlines[key].id} deadline"

    def date(self, day: float) -> str:
        return f"{self.s.date_of(day):%d %b %Y}"

    def tell(self, day: float, kind: str, data: dict[str, Any]) -> list[str]:
        handler = self.handlers.get(kind)
        if handler is None:
            raise KeyError(f"no narration for event kind {kind!r}")
        return handler(day, data)

    # -- bidders and bargaining ------------------------------------------------------
    def _on_bidder_arrives(self, day: float, d: dict[str, Any]) -> list[str]:
        b = self.s.bidders[d["bidder"]]
        return [f"{b.name} enters the bidding for a {STRUCTURE_WORDS[b.structure]} "
                f"(it values the business at up to {_money(d['valuation_bn'])})."]

    def _on_bidder_withdraws(self, day: float, d: dict[str, Any]) -> list[str]:
        self.said.pop(d["bidder"], None)
        return [f"{self.bidder(d['bidder'])} walks away from the bidding."]

    def _on_positions(self, day: float, d: dict[str, Any]) -> list[str]:
        out = []
        for p in d["positions"]:
            name, b = self.bidder(p["bidder"]), p["bidder"]
            if not p["accepted"]:
                said: tuple[Any, ...] = ("refused",)
                text = (f"{self.parent} will not sell as a "
                        f"{STRUCTURE_WORDS[self.s.bidders[b].structure]}, so it does not "
                        f"bargain with {name}.")
            elif p["meets_day"] is None:
                said = ("apart",)
                text = (f"{name} offers {_money(p['offer_bn'])} against {self.parent}'s ask "
                        f"of {_money(p['demand_bn'])}; its ceiling of "
                        f"{_money(p['valuation_bn'])} is below {self.parent}'s floor of "
                        f"{_money(p['reservation_bn'])}: no deal in sight.")
            elif p["meets_day"] > day + 1e-9:
                said = ("meet", round(p["meets_day"], 1), round(p["meets_price_bn"], 1))
                text = (f"{name} offers {_money(p['offer_bn'])} against {self.parent}'s ask "
                        f"of {_money(p['demand_bn'])}; conceding toward the deadline in "
                        f"force ({self.date(d['deadline_day'])}), they are on course to meet "
                        f"on {self.date(p['meets_day'])} at {_money(p['meets_price_bn'])}.")
            else:
                continue  # they meet at once: the crossing itself is told next
            if self.said.get(b) != said:
                self.said[b] = said
                out.append(text)
        return out

    def _on_offers_cross(self, day: float, d: dict[str, Any]) -> list[str]:
        name, offer, ask = self.bidder(d["bidder"]), d["offer_bn"], d["demand_bn"]
        before = d["deadline_day"] - day
        due = self.date(d["deadline_day"])
        when = (f"{_plural(before, 'day')} before the deadline in force, {due}"
                if before >= 0.5 else f"on the deadline in force, {due}"
                if before > -0.5 else "with every deadline passed")
        if offer - ask > 0.005:
            return [f"{name}'s offer of {_money(offer)} already exceeds {self.parent}'s ask "
                    f"of {_money(ask)}, {when}: they split the difference."]
        return [f"Offer and demand meet {when}: {name} offers {_money(offer)}, "
                f"{self.parent} asks {_money(ask)}."]

    def _on_signed(self, day: float, d: dict[str, Any]) -> list[str]:
        b = self.s.bidders[d["bidder"]]
        self.signed, self.price = d["bidder"], d["price_bn"]
        self.said.clear()
        deal = f"a {STRUCTURE_WORDS[b.structure]} at {_money(d['price_bn'])}"
        if not d["bargained"]:
            return [f"{self.parent} and {b.name} have already agreed {deal}; the deal goes "
                    f"to the approvals."]
        return [f"{self.parent} and {b.name} sign {deal}; the deal goes to the approvals."]

    # -- approvals -------------------------------------------------------------------
    def _on_review_starts(self, day: float, d: dict[str, Any]) -> list[str]:
        return [f"{self.committee} opens its review of the {self.bidder(d['bidder'])} deal."]

    def _on_investigation_starts(self, day: float, d: dict[str, Any]) -> list[str]:
        return [f"{self.committee} ends the review phase and opens a full investigation."]

    def _on_review_extended(self, day: float, d: dict[str, Any]) -> list[str]:
        return [f"{self.committee} takes the extraordinary extension of its investigation."]

    def _on_recommendation(self, day: float, d: dict[str, Any]) -> list[str]:
        r = d["recommendation"]
        if r == CLEAR:
            verdict = "recommends clearing the deal"
        elif r == BLOCK:
            verdict = "recommends blocking the deal"
        else:
            verdict = ("will clear the deal only with mitigation: the parties must negotiate "
                       "security terms")
        return [f"{self.committee} {verdict}."]

    def _on_mitigation_agreed(self, day: float, d: dict[str, Any]) -> list[str]:
        return ["The parties accept the mitigation terms; the deal counts as cleared."]

    def _on_president_decides(self, day: float, d: dict[str, Any]) -> list[str]:
        approved = d["approved"]
        followed = approved == (d["recommendation"] == CLEAR)
        how = "as recommended" if followed else "against the committee's recommendation"
        verb = "approves" if approved else "blocks"
        return [f"{self.president} {verb} the {self.bidder(d['bidder'])} deal ({how})."]

    def _on_licence_requested(self, day: float, d: dict[str, Any]) -> list[str]:
        return [f"The deal transfers controlled technology: {self.home} must license its "
                f"export (decided in parallel with the review)."]

    def _on_licence_decided(self, day: float, d: dict[str, Any]) -> list[str]:
        verb = "grants" if d["granted"] else "refuses"
        return [f"{self.home} {verb} the export licence."]

    def _on_deal_failed(self, day: float, d: dict[str, Any]) -> list[str]:
        self.signed = None
        others = [b.name for i, b in enumerate(self.s.bidders) if i != d["bidder"]]
        back = (f"; {self.parent} goes back to the other bidders" if others else "")
        return [f"The {self.bidder(d['bidder'])} deal is dead ({d['reason']}){back}."]

    def _on_closing_starts(self, day: float, d: dict[str, Any]) -> list[str]:
        return [f"Every approval is in: the {self.bidder(d['bidder'])} deal starts closing."]

    # -- deadlines and courts --------------------------------------------------------
    def _on_deadline_extended(self, day: float, d: dict[str, Any]) -> list[str]:
        why = "a deal is in progress" if d["deal_in_progress"] else "no deal is in progress"
        most = self.deadlines[d["deadline"]].extension.max_extensions
        return [f"{_upper(self.deadline(d['deadline']))}, due today, is extended by "
                f"{_plural(d['days'], 'day')} to {self.date(d['until_day'])} (extension "
                f"{d['extensions']} of at most {most}; {why})."]

    def _on_deadline_expires(self, day: float, d: dict[str, Any]) -> list[str]:
        original = self.deadlines[d["deadline"]].date
        when = (f"originally {original:%d %b %Y}, after {_plural(d['extensions'], 'extension')}"
                if d["extensions"] else "not extended")
        return [f"{_upper(self.deadline(d['deadline']))} expires ({when})."]

    def _on_deadline_lapses(self, day: float, d: dict[str, Any]) -> list[str]:
        if self.deadlines[d["deadline"]].on_expiry == "lapse":
            return ["It was only a bargaining date: nothing is enforced."]
        return ["The government does not enforce it: the order lapses."]

    def _on_enforcement(self, day: float, d: dict[str, Any]) -> list[str]:
        self.enforced[d["deadline"]] = []
        return ["Enforcement starts: the ban takes effect."]

    def _on_lawsuit(self, day: float, d: dict[str, Any]) -> list[str]:
        self.enforced[d["deadline"]].append("lawsuit")
        return [f"{self.parent} sues to stop it."]

    def _on_injunction(self, day: float, d: dict[str, Any]) -> list[str]:
        self.enforced[d["deadline"]].append("injunction")
        self.enjoined = True
        until = ("an injunction that outlasts the horizon" if math.isinf(d["days"])
                 else f"for {_plural(d['days'], 'day')}, to {self.date(day + d['days'])}")
        return [f"The court enjoins the ban ({until}); the case goes on."]

    def _on_injunction_lifted(self, day: float, d: dict[str, Any]) -> list[str]:
        self.enforced[d["deadline"]].append("lifted")
        return ["The injunction is lifted: the ban bites."]

    def _on_end(self, day: float, d: dict[str, Any]) -> list[str]:
        outcome = d["outcome"]
        if outcome == SALE:
            name = self.bidder(self.signed) if self.signed is not None else "the buyer"
            return [f"The {name} deal closes: a sale at {_money(self.price)}."]
        if outcome == SHUTDOWN:
            steps = self.enforced.get(d.get("deadline", ""), [])
            if not steps:
                why = f"{self.parent} does not sue"
            elif steps == ["lawsuit"]:
                why = "the court refuses an injunction"
            else:
                why = "nothing stops the ban any more"
            return [f"{_upper(why)}: the business shuts down."]
        held = " while the ban stays enjoined" if self.enjoined else ""
        return [f"The horizon is reached with no sale and no shutdown{held}: unresolved."]


def narrate(scenario: Scenario, trace: Sequence[Event]) -> list[Line]:
    """The events of one replication as dated sentences, in the order they happened."""
    narrator = _Narrator(scenario)
    lines = []
    for day, kind, data in trace:
        for text in narrator.tell(day, kind, data):
            lines.append(Line(day, scenario.date_of(day), text))
    return lines


def format_story(scenario: Scenario, story: Story, width: int = 110) -> str:
    """A story for the terminal: the headline, then dated sentences wrapped under a date
    column that is printed only when the moment changes."""
    out = [story.headline]
    last = None
    for line in story.lines:
        stamp = f"{_date(scenario, line.day)}  day {line.day:5.1f}"
        first = f"  {stamp if stamp != last else ' ' * len(stamp)}  "
        out.append(textwrap.fill(line.text, width, initial_indent=first,
                                 subsequent_indent=" " * len(first)))
        last = stamp
    return "\n".join(out)


def run_stories(run: Run, replications: Sequence[int]) -> list[Story]:
    """Stories of replications of a finished run, each checked against its row: a story
    that did not reproduce the results table would explain nothing."""
    told = stories(run.scenario, run.seed, len(run.results), replications)
    r = run.results
    for s in told:
        k = s.replication
        if s.outcome.outcome != r["outcome"][k] or s.outcome.day != r["day"][k]:
            raise RuntimeError(f"replication {k} did not reproduce its row of the results "
                               f"({OUTCOMES[s.outcome.outcome]} on day {s.outcome.day} vs "
                               f"{OUTCOMES[r['outcome'][k]]} on day {r['day'][k]})")
    return told


def traces(run: Run, examples: bool = True, replication: int | None = None) -> str:
    """The text ``--trace`` / ``--trace-run`` print: stories, one blank line apart."""
    wanted = list(example_runs(run.results["outcome"]).values()) if examples else []
    missing = replication is not None and replication >= len(run.results)
    if replication is not None and not missing and replication not in wanted:
        wanted.append(replication)
    scenario = run.scenario
    parts = [format_story(scenario, s) for s in run_stories(run, wanted)]
    if missing:  # an adaptive run (--precision) may stop before replication K
        parts.append(f"Replication {replication} was not run: this run has "
                     f"{len(run.results):,} replications (0 to {len(run.results) - 1:,}).")
    if examples:
        parts.insert(0, f"Narrated runs of {scenario.name}: the first replication ending in "
                        f"each outcome (tell any other with --trace-run K).")
    return "\n\n".join(parts)
