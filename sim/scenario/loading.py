"""Loading a scenario from a file, text or a dict: parse safely, resolve ``extends``,
validate, and keep the text and its hash with the result (``Scenario.source``)."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from pydantic import ValidationError
from yaml.constructor import SafeConstructor

from sim.errors import ScenarioError
from sim.scenario.locate import describe
from sim.scenario.schema import Scenario, Source
from sim.scenario.yaml_tree import compose, inherit, read_text


def load_scenario(path: str | Path) -> Scenario:
    """Read a scenario file, resolve its ``extends`` chain and validate the merged result."""
    path = Path(path)
    text = read_text(path, str(path))
    root = inherit(compose(text, str(path)), str(path), ((path.resolve(), str(path)),))
    return validate(root, str(path)).with_source(Source(text, str(path)))


def parse_scenario(text: str, source: str = "<scenario>") -> Scenario:
    """Validate scenario text; ``source`` names it in errors and anchors a relative ``extends``."""
    root = compose(text, source)
    scenario = validate(inherit(root, source, ((Path(source).resolve(), source),)), source)
    return scenario.with_source(Source(text))


def scenario_from_dict(data: dict[str, Any], source: str = "<dict>") -> Scenario:
    """Validate a scenario given as a dict (as ``yaml.safe_load`` would give), with the
    same one-line errors as a file; its text is recorded as the YAML it dumps to."""
    return parse_scenario(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), source)



def validate(root: yaml.MappingNode, source: str) -> Scenario:
    data = SafeConstructor().construct_document(root)
    try:
        # Extreme numbers (1e308) overflow inside scipy while their range is checked: the
        # check still answers, and a warning would be a second line on the user's screen.
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(describe(exc.errors()[0], root, source)) from None


