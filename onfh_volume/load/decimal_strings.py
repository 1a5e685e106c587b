"""DICOM decimal strings (DS) as numbers: checked as DICOM defines them, finite, never reinterpreted.

Python's ``float`` also reads "1_6" (as 16), "nan" and "inf", which are not DICOM numbers and
would give a wrong or non-finite length. Every DS value that reaches a geometry (a scan's, a SEG's
or an RTSTRUCT's) is read here, whichever reader (pydicom or the fast header reader) parsed it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from os import PathLike

import numpy as np

from ..errors import OnfhError, ScanError, shown
from .dicom_header import DS_SYNTAX


def ds_number(
    path: str | PathLike[str],
    where: str,
    tag: str,
    value: object,
    error: type[OnfhError] = ScanError,
) -> float | None:
    """A DS value as a finite float; empty or absent values are None, never 0.

    The text is checked against DICOM's DS syntax (digits, a point, an exponent). The 16-character
    limit is not enforced: writers that print a float in full exceed it with a correct value.

    Examples
    --------
    >>> from pydicom.valuerep import DSfloat
    >>> ds_number("IM1", "IM1", "SliceThickness", DSfloat("4.0"))
    4.0
    >>> ds_number("IM1", "IM1", "PixelSpacing", DSfloat("1_6"))
    Traceback (most recent call last):
    onfh_volume.errors.ScanError: IM1: IM1 has an invalid PixelSpacing '1_6' (not a DICOM decimal string)
    """
    if value is None or value == "":
        return None
    # pydicom's DSfloat keeps the text it was read from; the loader's own reader gives the text.
    text = value if isinstance(value, str) else getattr(value, "original_string", None)
    if text is not None and not DS_SYNTAX.fullmatch(str(text)):
        raise error(path, f"{where} has an invalid {tag} '{shown(text)}' (not a DICOM decimal string)")
    if not isinstance(value, int | float | str):
        raise error(path, f"{where} has a malformed {tag} ('{shown(value)}' is not one number)")
    try:
        number = float(value)
    except ValueError:
        raise error(path, f"{where} has an invalid {tag} '{shown(value)}' (not a number)") from None
    if not math.isfinite(number):
        raise error(path, f"{where} has a non-finite {tag} ({number})")
    return number


def ds_values(
    path: str | PathLike[str],
    where: str,
    tag: str,
    value: object,
    size: int | None,
    error: type[OnfhError] = ScanError,
) -> np.ndarray:
    """A multi-valued DS attribute as finite floats: exactly ``size`` of them, or any number (``None``)."""
    values = value if isinstance(value, Sequence) and not isinstance(value, str | bytes) else [value]
    if value is None or value == "" or (size is not None and len(values) != size):
        raise error(path, f"{where} has no valid {tag}: geometry cannot be known")
    numbers = [ds_number(path, where, tag, v, error) for v in values]
    if None in numbers:
        raise error(path, f"{where} has an empty value in {tag}: geometry cannot be known")
    return np.array(numbers, dtype=float)
