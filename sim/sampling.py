"""Draw one block of replications' inputs and decisions, vectorised, from keyed streams.

Every scenario number is drawn once per replication by inverse CDF of its own stream
(``sim.rng``); every decision an actor may take (an extension, an injunction, ...) has its
own uniform. The model then runs without generating a single random number.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from sim.distributions import Fixed
from sim.model import decision_keys
from sim.rng import uniforms
from sim.scenario import Scenario, correlation_matrix, uncertain_inputs


def sample_block(scenario: Scenario, seed: int, block: int,
                 n: int) -> tuple[list[str], np.ndarray]:
    """Keys and an ``n × len(keys)`` array of this block's values (inputs, then draws)."""
    keys, columns = [], []
    correlated = _correlated_uniforms(scenario, seed, block, n)
    for key, dist in uncertain_inputs(scenario).items():
        keys.append(key)
        if isinstance(dist, Fixed):
            columns.append(np.full(n, dist.value))
        else:
            u = correlated[key] if key in correlated else uniforms(seed, block, key, n)
            columns.append(dist.ppf(u))
    for key in decision_keys(scenario):
        keys.append(key)
        columns.append(uniforms(seed, block, key, n))
    return keys, np.column_stack(columns) if columns else np.empty((n, 0))


def _correlated_uniforms(scenario: Scenario, seed: int, block: int,
                         n: int) -> dict[str, np.ndarray]:
    """Each correlated input's own uniforms, bound together by a Gaussian copula.

    Marginals are untouched (the result is still uniform per input), each input still
    starts from its own keyed stream, and the first input in key order keeps its draws.
    """
    if not scenario.correlations:
        return {}
    keys, matrix = correlation_matrix(scenario)
    z = stats.norm.ppf(np.column_stack([uniforms(seed, block, k, n) for k in keys]))
    u = stats.norm.cdf(z @ np.linalg.cholesky(matrix).T)
    np.clip(u, np.finfo(float).tiny, 1 - np.finfo(float).eps, out=u)
    return {k: u[:, i] for i, k in enumerate(keys)}


def varying_inputs(scenario: Scenario) -> list[str]:
    """The inputs that are distributions rather than constants: the ones worth keeping."""
    return [k for k, d in uncertain_inputs(scenario).items() if not isinstance(d, Fixed)]
