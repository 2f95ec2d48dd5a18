"""Draw one block of replications' inputs and decisions, vectorised, from keyed streams.

Every scenario number is drawn once per replication by inverse CDF of its own stream
(``sim.rng``); every decision an actor may take (an extension, an injunction, ...) has its
own uniform. The model then runs without generating a single random number.
"""

from __future__ import annotations

import numpy as np

from sim.distributions import Fixed
from sim.model import decision_keys
from sim.rng import uniforms
from sim.scenario import Scenario, uncertain_inputs


def sample_block(scenario: Scenario, seed: int, block: int,
                 n: int) -> tuple[list[str], np.ndarray]:
    """Keys and an ``n × len(keys)`` array of this block's values (inputs, then draws)."""
    keys, columns = [], []
    for key, dist in uncertain_inputs(scenario).items():
        keys.append(key)
        if isinstance(dist, Fixed):
            columns.append(np.full(n, dist.value))
        else:
            columns.append(dist.ppf(uniforms(seed, block, key, n)))
    for key in decision_keys(scenario):
        keys.append(key)
        columns.append(uniforms(seed, block, key, n))
    return keys, np.column_stack(columns) if columns else np.empty((n, 0))


def varying_inputs(scenario: Scenario) -> list[str]:
    """The inputs that are distributions rather than constants: the ones worth keeping."""
    return [k for k, d in uncertain_inputs(scenario).items() if not isinstance(d, Fixed)]
