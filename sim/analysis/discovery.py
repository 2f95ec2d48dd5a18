"""Scenario discovery: which regions of the sampled inputs lead to an outcome.

A shallow classification tree (scikit-learn) over the per-replication inputs; each leaf
is a box of input ranges, reported as a readable rule with its *coverage* (the share of
all runs with the outcome that fall in the box) and *density* (the share of runs in the
box that have the outcome), the two measures of the scenario-discovery literature
(Bryant & Lempert 2010). scikit-learn is an optional extra: ``pip install -e '.[sweep]'``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Box:
    outcome: str
    bounds: dict[str, tuple[float, float]]  # input -> (low, high); ±inf where unbounded
    runs: int
    coverage: float
    density: float
    base_rate: float

    @property
    def rule(self) -> str:
        parts = []
        for name, (low, high) in self.bounds.items():
            if np.isfinite(low) and np.isfinite(high):
                parts.append(f"{low:.3g} < {name} ≤ {high:.3g}")
            elif np.isfinite(low):
                parts.append(f"{name} > {low:.3g}")
            else:
                parts.append(f"{name} ≤ {high:.3g}")
        return " and ".join(parts) or "(all runs)"


def available() -> bool:
    try:
        import sklearn  # noqa: F401
    except ImportError:
        return False
    return True


def discover(inputs: dict[str, np.ndarray], hit: np.ndarray, outcome: str,
             max_depth: int = 3, most: int = 3) -> list[Box]:
    """The boxes where ``hit`` is most concentrated, densest first."""
    from sklearn.tree import DecisionTreeClassifier

    names = list(inputs)
    x = np.column_stack([inputs[n] for n in names])
    n, total = len(hit), int(hit.sum())
    if total == 0 or total == n or not names:
        return []
    # leaves of at least 5% of runs, and only splits that buy a real gain, so that an input
    # the model ignores does not show up in a rule by chance
    tree = DecisionTreeClassifier(max_depth=max_depth, min_samples_leaf=max(20, n // 20),
                                  min_impurity_decrease=0.002, random_state=0).fit(x, hit)
    t = tree.tree_
    leaf_of = tree.apply(x)
    base = total / n
    boxes = []

    def walk(node: int, bounds: dict[str, tuple[float, float]]) -> None:
        if t.children_left[node] == -1:
            inside = leaf_of == node
            hits = int(hit[inside].sum())
            if inside.any() and hits / inside.sum() > base:
                boxes.append(Box(outcome, bounds, int(inside.sum()), hits / total,
                                 hits / int(inside.sum()), base))
            return
        name, threshold = names[t.feature[node]], float(t.threshold[node])
        low, high = bounds.get(name, (-np.inf, np.inf))
        walk(t.children_left[node], {**bounds, name: (low, min(high, threshold))})
        walk(t.children_right[node], {**bounds, name: (max(low, threshold), high)})

    walk(0, {})
    boxes.sort(key=lambda b: (b.density, b.coverage), reverse=True)
    return boxes[:most]
