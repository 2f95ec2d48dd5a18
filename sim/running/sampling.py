"""Draw one block of replications' inputs and decisions, vectorised, from keyed streams.

Every scenario number is drawn once per replication by inverse CDF of its own stream
(``sim.running.streams``); a duration drawn per occurrence has one stream per
occurrence (``key`` for the first, ``key#k`` for the k-th after it, so its first
occurrence is its input column and a cap that grows adds streams without moving any);
every decision an actor may take
(an extension, an injunction, ...) has its own uniform stream per occurrence too. The
model then runs without generating a single random number.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from sim.model.replication import decision_keys, occurrences
from sim.running.streams import uniforms
from sim.scenario.distributions import Fixed
from sim.scenario.inputs import correlation_matrix, uncertain_inputs
from sim.scenario.schema import Scenario


@dataclass(frozen=True)
class Block:
    """One block of replications' draws: scalar columns and per-occurrence streams."""

    keys: list[str]
    values: np.ndarray  # n × len(keys): inputs (first occurrence), then latent uniforms
    draws: dict[str, np.ndarray]  # key -> n × occurrences

    def rows(self) -> list[tuple[dict[str, float], dict[str, list[list[float]]], int]]:
        """Each replication's (values, draws, row) as the model takes them: the draws are
        the block's own lists, indexed by row, so no replication copies them."""
        lists = {k: a.tolist() for k, a in self.draws.items()}
        return [(dict(zip(self.keys, row, strict=True)), lists, i)
                for i, row in enumerate(self.values.tolist())]

    def row(self, i: int) -> tuple[dict[str, float], dict[str, list[list[float]]], int]:
        return (dict(zip(self.keys, self.values[i].tolist(), strict=True)),
                {k: [a[i].tolist()] for k, a in self.draws.items()}, 0)


def occurrence_key(key: str, k: int) -> str:
    return key if k == 0 else f"{key}#{k}"


def sample_block(scenario: Scenario, seed: int, block: int, n: int) -> Block:
    """This block's draws: every input, every latent uniform, every occurrence stream."""
    keys, columns = [], []
    correlated = _correlated_uniforms(scenario, seed, block, n)
    inputs = uncertain_inputs(scenario)
    for key, dist in inputs.items():
        keys.append(key)
        if isinstance(dist, Fixed):
            columns.append(np.full(n, dist.value))
        else:
            u = correlated[key] if key in correlated else uniforms(seed, block, key, n)
            columns.append(dist.ppf(u))
    for key in decision_keys(scenario):
        keys.append(key)
        columns.append(uniforms(seed, block, key, n))
    draws = {}
    first = dict(zip(keys, columns, strict=True))
    for key, width in occurrences(scenario).items():
        known = inputs.get(key)
        if known is None:  # a decision: uniforms
            cols = [uniforms(seed, block, occurrence_key(key, k), n) for k in range(width)]
        elif isinstance(known, Fixed):
            cols = [first[key]] * width
        else:
            cols = [first[key], *(known.ppf(uniforms(seed, block, occurrence_key(key, k), n))
                                  for k in range(1, width))]
        draws[key] = np.column_stack(cols)
    values = np.column_stack(columns) if columns else np.empty((n, 0))
    return Block(keys, values, draws)


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
