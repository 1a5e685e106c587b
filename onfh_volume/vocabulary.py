"""The words of the tool, in one place: hip sides, volume methods, lesion labels, change categories.

Every module, the CLI, the reports and the plugin take their names from here, so a hip, a method or
a category is written one way everywhere.

Examples
--------
>>> METHOD_NAMES["spacing"].short, METHOD_NAMES["thickness"].formula
('Cavalieri', 'Σ area x slice thickness')
>>> LABEL_NAMES[RIGHT_LABEL], LABEL_OF_SIDE["left"]
('right hip lesion', 2)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

RIGHT, LEFT = "right", "left"
SIDES = (RIGHT, LEFT)
"""The patient's hips, in the order every table lists them."""
UNKNOWN_SIDE = "unknown"
"""Side of a lesion on a scan that states no orientation."""

Method = Literal["thickness", "spacing"]
METHODS: tuple[Method, ...] = ("thickness", "spacing")


@dataclass(frozen=True)
class MethodName:
    """How a volume method is named: in a table title, in a formula, and by what it multiplies."""

    short: str
    formula: str
    slice_length: str


METHOD_NAMES: dict[str, MethodName] = {
    "thickness": MethodName("area x thickness", "Σ area x slice thickness", "slice thickness"),
    "spacing": MethodName("Cavalieri", "Σ area x slice spacing (Cavalieri)", "slice spacing"),
}

RIGHT_LABEL, LEFT_LABEL = 1, 2
"""Mask values the plugin and ``trace`` give a right-hip and a left-hip lesion."""
LABEL_NAMES = {RIGHT_LABEL: "right hip lesion", LEFT_LABEL: "left hip lesion"}
LABEL_OF_SIDE = {RIGHT: RIGHT_LABEL, LEFT: LEFT_LABEL}

DECREASE, NO_CHANGE, INCREASE, NEW_LESION, NO_LESION = (
    "decrease",
    "no change",
    "increase",
    "new lesion",
    "no lesion",
)
CATEGORIES = (DECREASE, NO_CHANGE, INCREASE, NEW_LESION, NO_LESION)
"""Change categories of a hip between baseline and follow-up."""
DEFAULT_THRESHOLD_PCT = 15.0
"""The study's threshold: |change| < 15% is no change."""
