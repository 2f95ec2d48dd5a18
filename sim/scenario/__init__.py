"""The scenario: its schema, its safe loading and inheritance, and where an error is.

``load_scenario(path)`` and ``parse_scenario(text)`` give a validated, frozen ``Scenario``
that carries the text it was read from and its sha256 (``Scenario.source``); any problem
is one ``ScenarioError`` line: ``path:line: key.path: problem (allowed: ...)``.
"""

from sim.scenario.loading import load_scenario, parse_scenario, scenario_from_dict
from sim.scenario.schema import STRUCTURES, TECHNOLOGIES, DueDate, Scenario, Source

__all__ = ["STRUCTURES", "TECHNOLOGIES", "DueDate", "Scenario", "Source", "load_scenario",
           "parse_scenario", "scenario_from_dict"]
