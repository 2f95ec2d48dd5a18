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
    PrivateAttr,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    model_validator,
)
from scipy import stats

from sim.limits import MAX_DAYS

# The uniforms a ppf reads: streams give multiples of 2**-53 below 1 (Generator.random(),
# sim.running.streams), an exact 0 raised to the smallest float, which ppf raises to
# U_MIN (scipy's beta is nan that far out). So every draw is ppf(u) for u in this range.
U_MIN = 2.0**-53
U_MAX = 1 - 2.0**-53
OVERFLOWS = "its range overflows (parameters too large to compute with)"
MIDPOINTS = (np.arange(1000) + 0.5) / 1000  # the quantiles a mean is taken over


def _no_bool(value: Any) -> Any:
    """YAML's true and false are no numbers (pydantic would take them for 1 and 0)."""
    if isinstance(value, bool):
        raise ValueError("expected a number, not true/false")
    return value


NotBool = BeforeValidator(_no_bool)
Finite = Annotated[float, NotBool, Field(allow_inf_nan=False)]
Positive = Annotated[float, NotBool, Field(gt=0, allow_inf_nan=False)]


class _Dist(BaseModel):
    # Infinity survives the JSON that carries a scenario to the workers (a normal's default
    # bounds); JSON's null would not validate back.
    model_config = ConfigDict(extra="forbid", frozen=True, ser_json_inf_nan="strings")
    # Where an unbounded tail is cut (a day count's cap, set by the key's range check):
    # not a parameter, so not in the file or its JSON; validating again sets it again.
    _cap: float | None = PrivateAttr(default=None)

    @cached_property
    def frozen(self) -> Any:
        """The scipy.stats frozen distribution (built once, vectorised use only)."""
        raise NotImplementedError

    def ppf(self, u: np.ndarray) -> np.ndarray:
        x = np.asarray(self.frozen.ppf(np.clip(u, U_MIN, U_MAX)), dtype=float)
        return x if self._cap is None else np.minimum(x, self._cap)

    def support(self) -> tuple[float, float]:
        low, high = self.frozen.support()
        return float(low), (float(high) if self._cap is None else min(float(high), self._cap))

    def capped(self, cap: float) -> _Dist:
        """This distribution with its draws above ``cap`` set to ``cap``."""
        copy = self.model_copy()
        copy._cap = cap
        return copy

    @property
    def is_constant(self) -> bool:
        return False

    @property
    def discrete(self) -> bool:
        """Whether it puts mass on single values (a fixed number, a choice), so a bound it
        touches is a value it draws."""
        return False

    def average(self) -> float:
        """The mean by the midpoint rule on 1,000 quantiles: the same for every family."""
        return float(np.mean(self.ppf(MIDPOINTS)))

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

    @property
    def discrete(self) -> bool:
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
    low: Annotated[float, NotBool] = -math.inf
    high: Annotated[float, NotBool] = math.inf

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
        width = self.high - self.low
        if not math.isfinite(width):
            raise ValueError(OVERFLOWS)
        m = (self.mean - self.low) / width
        scaled = self.sd / width  # at most 1/2 on any range; squared only once below it
        too_large = (f"sd too large for this mean (needs sd < "
                     f"{math.sqrt(m * (1 - m)) * width:.4g})")
        if scaled >= 0.5:
            raise ValueError(too_large)
        v = scaled**2
        if v == 0:  # underflow: the shape parameters would divide by zero
            raise ValueError("sd too small for this range")
        if v >= m * (1 - m):
            raise ValueError(too_large)
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
    weights: Annotated[list[Annotated[float, NotBool, Field(ge=0, allow_inf_nan=False)]],
                       Field(min_length=1, max_length=1000)] | None = None

    @model_validator(mode="after")
    def _weights(self) -> Choice:
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                raise ValueError("needs as many weights as values")
            if max(self.weights) <= 0:
                raise ValueError("needs a positive total weight")
        return self

    @cached_property
    def frozen(self) -> Any:
        # Scaled by the largest weight first: [1e308, 1e308] are equal weights, though
        # their sum overflows.
        w = (np.ones(len(self.values)) if self.weights is None
             else np.asarray(self.weights) / max(self.weights))
        return stats.rv_discrete(values=(np.arange(len(self.values)), w / w.sum()))

    def ppf(self, u: np.ndarray) -> np.ndarray:
        index = np.asarray(self.frozen.ppf(u)).astype(int)
        return np.asarray(self.values, dtype=float)[index]

    def support(self) -> tuple[float, float]:
        return min(self.values), max(self.values)

    @property
    def discrete(self) -> bool:
        return True


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


def _computable(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    """Refuse parameters whose draws or mean are not finite numbers (a lognormal with a
    median of 1e308 draws infinity; a uniform over ±1.7e308 has no width), and any
    arithmetic overflow on the way: one line, not a traceback."""
    try:
        with np.errstate(all="ignore"):
            d = handler(value)
            ends = d.ppf(np.array([U_MIN, U_MAX]))
            x = d.ppf(MIDPOINTS)
            mean = float(np.sum(x / x.size))  # as average(), without overflowing the sum
    except ArithmeticError:
        raise ValueError(OVERFLOWS) from None
    if not (np.all(np.isfinite(ends)) and math.isfinite(mean)):
        raise ValueError(OVERFLOWS)
    return d


# The families, as one type (``isinstance`` takes it); ``Dist`` is how a field reads one.
Family = Fixed | Uniform | Triangular | Pert | Normal | LogNormal | Beta | Exponential | Choice
Dist = Annotated[
    Family,
    Field(discriminator="dist"),
    BeforeValidator(_number_to_fixed),
    WrapValidator(_computable),
]


def _within(low: float, high: float, what: str, open_low: bool = False,
            above: str | None = None) -> AfterValidator:
    """Check a distribution's whole support, not just its centre, against a range, as a
    plain number is checked: a fixed value or any value of a choice must lie in it.

    With ``above`` (a day count's cap), an unbounded upper tail (an exponential's) is cut
    at ``high`` instead (its draws beyond it are ``high``), unless most draws would be.
    """

    def check(d: _Dist) -> _Dist:
        s_low, s_high = d.support()
        if math.isnan(s_low) or math.isnan(s_high):  # e.g. a uniform over ±1.7e308: inf - inf
            raise ValueError(OVERFLOWS)
        if above is not None and s_high == math.inf and s_low >= low:
            if float(d.ppf(np.array([0.5]))[0]) > high:
                raise ValueError(f"{above}, but more than half of this one's draws are past it")
            d, s_high = d.capped(high), high
        # A continuous distribution may touch an open bound if it puts no mass there.
        at_low = open_low and (s_low <= low if d.discrete
                               else float(d.ppf(np.array([1e-12]))[0]) <= low)
        if s_low < low or at_low or (s_high > high and above is None):
            raise ValueError(f"{what}, but this one ranges over [{s_low:g}, {s_high:g}]"
                             + (" (bound it with low/high)" if isinstance(d, Normal) else ""))
        if s_high > high:
            raise ValueError(f"{above}, but this one ranges over [{s_low:g}, {s_high:g}]")
        return d

    return AfterValidator(check)


DAYS_CAP = f"must be at most {MAX_DAYS:,} days (the cap on any day count)"
Probability = Annotated[Dist, _within(0.0, 1.0, "must lie in [0, 1]")]
Share = Probability
Days = Annotated[Dist, _within(0.0, MAX_DAYS, "must be >= 0 days", above=DAYS_CAP)]
# Days relative to a date, before (negative) or after it, within ten years either way.
OffsetDays = Annotated[Dist, _within(-MAX_DAYS, MAX_DAYS,
                                     f"must lie within {MAX_DAYS} days either side")]
PositiveDays = Annotated[Dist, _within(0.0, MAX_DAYS, "must be > 0 days", open_low=True,
                                       above=DAYS_CAP)]
Money = Annotated[Dist, _within(0.0, math.inf, "must be > 0 (USD bn)", open_low=True)]
Exponent = Annotated[Dist, _within(0.0, math.inf, "must be > 0", open_low=True)]
