"""Uncertain inputs: a scenario number is a constant or one of these distributions.

Each is a small pydantic model that checks its own parameters and maps uniforms to values
by inverse CDF (``ppf``) through ``scipy.stats``. Sampling by inverse CDF from keyed
uniform streams is what gives common random numbers: moving a distribution's parameter
moves every replication's draw monotonically instead of reshuffling them.
"""

from __future__ import annotations

import math
from functools import cached_property
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)
from scipy import stats

Finite = Annotated[float, Field(allow_inf_nan=False)]
Positive = Annotated[float, Field(gt=0, allow_inf_nan=False)]


class _Dist(BaseModel):
    # Infinity survives the JSON that carries a scenario to the workers (a normal's default
    # bounds); JSON's null would not validate back.
    model_config = ConfigDict(extra="forbid", frozen=True, ser_json_inf_nan="strings")

    @cached_property
    def frozen(self) -> Any:
        """The scipy.stats frozen distribution (built once, vectorised use only)."""
        raise NotImplementedError

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return np.asarray(self.frozen.ppf(u), dtype=float)

    def support(self) -> tuple[float, float]:
        low, high = self.frozen.support()
        return float(low), float(high)

    @property
    def is_constant(self) -> bool:
        return False

    def average(self) -> float:
        """The mean by the midpoint rule on 1,000 quantiles: the same for every family."""
        return float(np.mean(self.ppf((np.arange(1000) + 0.5) / 1000)))

    def describe(self) -> str:
        args = ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                         for k, v in self.model_dump(exclude={"dist"}).items())
        return f"{self.dist}({args})"  # type: ignore[attr-defined]


class Fixed(_Dist):
    dist: Literal["fixed"] = "fixed"
    value: Finite

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return np.full(np.shape(u), self.value, dtype=float)

    def support(self) -> tuple[float, float]:
        return self.value, self.value

    @property
    def is_constant(self) -> bool:
        return True

    def describe(self) -> str:
        return f"{self.value:g}"


class Uniform(_Dist):
    dist: Literal["uniform"]
    low: Finite
    high: Finite

    @model_validator(mode="after")
    def _order(self) -> Uniform:
        if not self.low < self.high:
            raise ValueError("needs low < high")
        return self

    @cached_property
    def frozen(self) -> Any:
        return stats.uniform(loc=self.low, scale=self.high - self.low)


class _ThreePoint(_Dist):
    """Low, most likely, high: how analysts give a judgement."""

    low: Finite
    mode: Finite
    high: Finite

    @model_validator(mode="after")
    def _order(self) -> _ThreePoint:
        if not (self.low <= self.mode <= self.high and self.low < self.high):
            raise ValueError("needs low <= mode <= high and low < high")
        return self


class Triangular(_ThreePoint):
    dist: Literal["triangular"]

    @cached_property
    def frozen(self) -> Any:
        width = self.high - self.low
        return stats.triang(c=(self.mode - self.low) / width, loc=self.low, scale=width)


class Pert(_ThreePoint):
    """Beta-PERT: the three-point estimate analysts give (low, most likely, high)."""

    dist: Literal["pert"]
    lamb: Positive = 4.0

    @cached_property
    def frozen(self) -> Any:
        width = self.high - self.low
        a = 1 + self.lamb * (self.mode - self.low) / width
        b = 1 + self.lamb * (self.high - self.mode) / width
        return stats.beta(a, b, loc=self.low, scale=width)


class Normal(_Dist):
    """Normal, optionally truncated to [low, high] (durations and shares need bounds)."""

    dist: Literal["normal"]
    mean: Finite
    sd: Positive
    low: float = -math.inf
    high: float = math.inf

    @model_validator(mode="after")
    def _order(self) -> Normal:
        if not self.low < self.high:
            raise ValueError("needs low < high")
        return self

    @cached_property
    def frozen(self) -> Any:
        a, b = (self.low - self.mean) / self.sd, (self.high - self.mean) / self.sd
        return stats.truncnorm(a, b, loc=self.mean, scale=self.sd)


class LogNormal(_Dist):
    """Lognormal by its median and the sd of its log (sigma): how values are reported."""

    dist: Literal["lognormal"]
    median: Positive
    sigma: Positive

    @cached_property
    def frozen(self) -> Any:
        return stats.lognorm(s=self.sigma, scale=self.median)


class Beta(_Dist):
    """Beta by mean and sd on [low, high]; natural for probabilities and shares."""

    dist: Literal["beta"]
    mean: Finite
    sd: Positive
    low: Finite = 0.0
    high: Finite = 1.0

    @model_validator(mode="after")
    def _feasible(self) -> Beta:
        if not self.low < self.mean < self.high:
            raise ValueError("needs low < mean < high")
        m = (self.mean - self.low) / (self.high - self.low)
        v = (self.sd / (self.high - self.low)) ** 2
        if v == 0:  # underflow: the shape parameters would divide by zero
            raise ValueError("sd too small for this range")
        if v >= m * (1 - m):
            raise ValueError(f"sd too large for this mean (needs sd < "
                             f"{math.sqrt(m * (1 - m)) * (self.high - self.low):.4g})")
        return self

    @cached_property
    def frozen(self) -> Any:
        m = (self.mean - self.low) / (self.high - self.low)
        v = (self.sd / (self.high - self.low)) ** 2
        common = m * (1 - m) / v - 1
        return stats.beta(m * common, (1 - m) * common, loc=self.low,
                          scale=self.high - self.low)


class Exponential(_Dist):
    """Exponential waiting time by its mean (memoryless arrivals, withdrawals)."""

    dist: Literal["exponential"]
    mean: Positive

    @cached_property
    def frozen(self) -> Any:
        return stats.expon(scale=self.mean)


class Choice(_Dist):
    """One of a few values with given weights (e.g. a 7- or 30-day extension)."""

    dist: Literal["choice"]
    values: Annotated[list[Finite], Field(min_length=1, max_length=1000)]
    weights: Annotated[list[Annotated[float, Field(ge=0, allow_inf_nan=False)]],
                       Field(min_length=1, max_length=1000)] | None = None

    @model_validator(mode="after")
    def _weights(self) -> Choice:
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                raise ValueError("needs as many weights as values")
            if sum(self.weights) <= 0:
                raise ValueError("needs a positive total weight")
        return self

    @cached_property
    def frozen(self) -> Any:
        w = np.ones(len(self.values)) if self.weights is None else np.asarray(self.weights)
        return stats.rv_discrete(values=(np.arange(len(self.values)), w / w.sum()))

    def ppf(self, u: np.ndarray) -> np.ndarray:
        index = np.asarray(self.frozen.ppf(u)).astype(int)
        return np.asarray(self.values, dtype=float)[index]

    def support(self) -> tuple[float, float]:
        return min(self.values), max(self.values)


def _number_to_fixed(value: Any) -> Any:
    """Let a plain number stand for a fixed distribution; reject anything else early."""
    if isinstance(value, bool):
        raise ValueError("expected a number or a distribution, not true/false")
    if isinstance(value, int | float):
        return {"dist": "fixed", "value": value}
    if isinstance(value, _Dist):
        return value
    if not isinstance(value, dict):
        raise ValueError("expected a number or a mapping like {dist: uniform, low: 1, high: 2}")
    if "dist" not in value:
        raise ValueError(f"a distribution needs 'dist' (allowed: {', '.join(DISTRIBUTIONS)})")
    return value


DISTRIBUTIONS: dict[str, type[_Dist]] = {
    cls.model_fields["dist"].annotation.__args__[0]: cls  # type: ignore[union-attr]
    for cls in (Fixed, Uniform, Triangular, Pert, Normal, LogNormal, Beta, Exponential, Choice)
}

# The families, as one type (``isinstance`` takes it); ``Dist`` is how a field reads one.
Family = Fixed | Uniform | Triangular | Pert | Normal | LogNormal | Beta | Exponential | Choice
Dist = Annotated[
    Family,
    Field(discriminator="dist"),
    BeforeValidator(_number_to_fixed),
]


def _within(low: float, high: float, what: str, open_low: bool = False) -> AfterValidator:
    """Check a distribution's whole support, not just its centre, against a range."""

    def check(d: _Dist) -> _Dist:
        s_low, s_high = d.support()
        if math.isnan(s_low) or math.isnan(s_high):  # e.g. a uniform over ±1.7e308: inf - inf
            raise ValueError("its range overflows (parameters too large to compute with)")
        at_low = open_low and float(d.ppf(np.array([1e-12]))[0]) <= low
        if s_low < low or s_high > high or at_low:
            raise ValueError(f"{what}, but this one ranges over [{s_low:g}, {s_high:g}]"
                             + (" (bound it with low/high)" if isinstance(d, Normal) else ""))
        return d

    return AfterValidator(check)


Probability = Annotated[Dist, _within(0.0, 1.0, "must lie in [0, 1]")]
Share = Probability
Days = Annotated[Dist, _within(0.0, math.inf, "must be >= 0 days")]
# Days relative to a date, before (negative) or after it, within ten years either way.
OffsetDays = Annotated[Dist, _within(-3650.0, 3650.0, "must lie within 3650 days either side")]
PositiveDays = Annotated[Dist, _within(0.0, math.inf, "must be > 0 days", open_low=True)]
Money = Annotated[Dist, _within(0.0, math.inf, "must be > 0 (USD bn)", open_low=True)]
Exponent = Annotated[Dist, _within(0.0, math.inf, "must be > 0", open_low=True)]
