"""A statistic with its 95% confidence interval, or the reason it is undefined."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Estimate:
    """A value with its 95% CI; ``None`` where undefined, with ``note`` saying why.

    Examples
    --------
    >>> Estimate(0.71, (0.34, 0.95)).to_dict()
    {'value': 0.71, 'ci95': [0.34, 0.95]}
    >>> Estimate(None, None, "every volume is the same").to_dict()["note"]
    'every volume is the same'
    """

    value: float | None
    ci95: tuple[float, float] | None
    note: str | None = None

    def __post_init__(self) -> None:
        numbers = ([] if self.value is None else [self.value]) + list(self.ci95 or ())
        if not all(math.isfinite(number) for number in numbers):
            raise ValueError(f"non-finite statistic {self}: a bug, please report it")

    def to_dict(self) -> dict[str, Any]:
        """The estimate as JSON-ready data (``note`` only when there is one)."""
        data: dict[str, Any] = {"value": self.value, "ci95": None if self.ci95 is None else list(self.ci95)}
        if self.note:
            data["note"] = self.note
        return data


def finite(value: float, what: str) -> float:
    """``value`` as a float, refusing NaN or infinity (a result never holds one).

    Examples
    --------
    >>> finite(1, "bias")
    1.0
    """
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{what} is not finite ({value}): a bug, please report it")
    return value
