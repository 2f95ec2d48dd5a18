"""The uncertain numbers of a scenario, keyed by what they serve, and their correlations."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import BaseModel

from sim.scenario.distributions import Family

if TYPE_CHECKING:
    from sim.scenario.distributions import Dist
    from sim.scenario.schema import Scenario

NOT_INPUTS = frozenset({"correlations", "actual"})  # blocks about inputs, not inputs themselves


def uncertain_inputs(scenario: Scenario) -> dict[str, Dist]:
    """Every number of the scenario by a stable key path (bidders and deadlines by name).

    Keys name what a value serves, not its position, so a draw keeps its random stream
    when another bidder is added or the file is reordered.
    """
    found: dict[str, Dist] = {}

    def walk(obj: Any, prefix: str) -> None:
        if isinstance(obj, Family):  # a distribution
            found[prefix] = obj
        elif isinstance(obj, BaseModel):
            for field in type(obj).model_fields:
                if field not in NOT_INPUTS:
                    walk(getattr(obj, field), f"{prefix}.{field}" if prefix else field)
        elif isinstance(obj, dict):
            for key, value in obj.items():
                walk(value, f"{prefix}.{key}")
        elif isinstance(obj, list):
            for item in obj:
                if isinstance(item, BaseModel):
                    # every listed block has an id or a name (BaseModel declares neither)
                    ident = getattr(item, "id", None) or getattr(item, "name")  # noqa: B009
                    walk(item, f"{prefix}.{ident}")

    walk(scenario, "")
    return found


def correlation_matrix(scenario: Scenario) -> tuple[list[str], np.ndarray]:
    """The correlated inputs and the Pearson correlation of their normal scores.

    A Gaussian copula with Pearson r = 2 sin(pi rho / 6) gives rank correlation rho.
    """
    keys = sorted({k for c in scenario.correlations for k in c.inputs})
    matrix = np.eye(len(keys))
    for c in scenario.correlations:
        i, j = keys.index(c.inputs[0]), keys.index(c.inputs[1])
        matrix[i, j] = matrix[j, i] = 2 * np.sin(np.pi * c.rank / 6)
    return keys, matrix
