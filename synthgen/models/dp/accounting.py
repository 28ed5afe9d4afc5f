"""The privacy budget of a DP model: the user's (epsilon, delta) as zero-concentrated DP (rho),
and its split between finding the domain and fitting the model.

zCDP composes by adding rho. Half of delta pays for the conversion of rho to (epsilon, delta)
(opendp's own conversion, the tight one), the other half for releasing category names found in
the data (thresholded counts: a category is named only when its noisy count passes a
threshold, which a single person's row passes with probability at most that delta).

Example:
    >>> b = Budget.of(1.0, 1e-6, domain_share=0.1)
    >>> round(b.rho, 4), abs(b.rho_domain + b.rho_model - b.rho) < 1e-15
    (0.0229, True)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from synthgen.errors import UsageError


def _opendp():
    import opendp.prelude as dp

    dp.enable_features("contrib")
    return dp


def epsilon_of(rho: float, delta: float) -> float:
    """The epsilon of rho-zCDP at `delta`, by opendp's conversion (a Gaussian mechanism of
    that rho, through `make_zCDP_to_approxDP`).

    Example:
        >>> round(epsilon_of(0.5, 1e-6), 3)
        5.222
    """
    dp = _opendp()
    # a Gaussian of scale 1 on a distance of sqrt(2 rho) spends exactly rho
    gauss = dp.m.make_gaussian(
        dp.atom_domain(T=float, nan=False), dp.absolute_distance(T=float), scale=1.0
    )
    return float(dp.c.make_zCDP_to_approxDP(gauss).map((2.0 * rho) ** 0.5).epsilon(delta))


def rho_for(epsilon: float, delta: float) -> float:
    """The largest rho (to 1e-9 relative) whose conversion at `delta` is at most `epsilon`."""
    low, high = 0.0, max(epsilon, 1.0)
    while epsilon_of(high, delta) <= epsilon:
        high *= 2
    for _ in range(60):
        mid = (low + high) / 2
        if epsilon_of(mid, delta) <= epsilon:
            low = mid
        else:
            high = mid
        if high - low <= 1e-9 * high:
            break
    return low


@dataclass(frozen=True)
class Budget:
    """What the user asked for and how it is spent: `rho_domain` (finding bounds, categories,
    nulls and the shape of numbers; 0 when a public schema leaves nothing to find) and
    `rho_model` (the mechanism) sum to `rho`; `delta_keys` (naming categories) and
    `delta_conversion` sum to `delta`."""

    epsilon: float
    delta: float
    rho: float
    rho_domain: float
    rho_model: float
    delta_keys: float
    delta_conversion: float
    domain_share: float

    @classmethod
    def of(cls, epsilon: float, delta: float, domain_share: float) -> Budget:
        if not (epsilon > 0 and epsilon < float("inf")):
            raise UsageError("--epsilon must be a positive number")
        if not 0 < delta < 1:
            raise UsageError(
                "--delta must be between 0 and 1 (exclusive): the mechanisms add Gaussian noise"
            )
        if not 0 <= domain_share < 1:
            raise UsageError("the domain's share of the budget must be between 0 and 1")
        rho = rho_for(epsilon, delta / 2)
        rho_domain = rho * domain_share
        return cls(
            epsilon, delta, rho, rho_domain, rho - rho_domain, delta / 2, delta / 2, domain_share
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
