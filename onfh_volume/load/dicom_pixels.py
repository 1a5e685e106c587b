"""DICOM pixel data: decoded, or read straight into one array for native little-endian files, then rescaled."""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import ScanError
from .decimal_strings import ds_number
from .dicom_files import PIXEL_DATA, frame_count, pixel_element
from .dicom_header import EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN, Header

if TYPE_CHECKING:
    from .dicom_files import AnyHeader

GREYSCALE = ("MONOCHROME1", "MONOCHROME2")


#: Transfer syntaxes whose pixel data is the bare little-endian array, readable straight into numpy.
NATIVE_LITTLE_ENDIAN = (EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN)


#: Threads reading pixel data: enough to overlap file reads with numpy's work on a few cores.
READ_THREADS = min(4, os.cpu_count() or 1)


def decoded_pixels(path: Path, ds: AnyHeader, notes: list[str]) -> np.ndarray:
    """Decode the pixel data; the decoder's own warnings become the scan's ``notes``, not stderr noise.

    A header read by the loader's own reader (:class:`~onfh_volume.load.dicom_header.Header`)
    holds too little to decode: pydicom reads the file again.
    """
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if isinstance(ds, Header):
                import pydicom

                ds = pydicom.dcmread(path)
            array = ds.pixel_array
    except Exception as exc:
        raise ScanError(path, f"pixel data cannot be decoded ({exc})") from exc
    for warning in caught:
        note = f"{path.name}: {warning.message}"
        if note not in notes:
            notes.append(note)
    return array


def native_dtype(ds: AnyHeader) -> np.dtype | None:
    """The dtype of pixel data that numpy can take straight from the file; None when a decoder must.

    That is uncompressed little-endian greyscale 8- or 16-bit integers in one frame, of exactly the
    length pydicom accepts without a warning (an odd length padded by one byte, or not). Anything
    else (compressed, big endian, float, other bit depths, unexpected lengths) goes to pydicom.
    """
    element = pixel_element(ds)
    if (
        element is None
        or element.tag != PIXEL_DATA
        or ds.file_meta.get("TransferSyntaxUID") not in NATIVE_LITTLE_ENDIAN
        or ds.get("PhotometricInterpretation") not in GREYSCALE
        or frame_count(ds) != 1
    ):
        return None
    bits, stored, signed = ds.get("BitsAllocated"), ds.get("BitsStored"), ds.get("PixelRepresentation")
    if bits not in (8, 16) or signed not in (0, 1) or not isinstance(stored, int) or not 0 < stored <= bits:
        return None
    expected = int(ds.Rows) * int(ds.Columns) * bits // 8
    if element.length not in (expected, expected + expected % 2):
        return None
    return np.dtype(f"<{'i' if signed else 'u'}{bits // 8}")


def _read_native(path: Path, ds: AnyHeader, out: np.ndarray) -> bool:
    """Read uncompressed pixel data straight into ``out``; False when the file ends too early.

    Also False when the file can no longer be read (moved or changed since its header was read):
    pydicom then says what is wrong with it. Bits above BitsStored are cleared (sign-extended for
    signed data), as pydicom does: scanners may leave overlay or garbage bits there.
    """
    element = pixel_element(ds)
    assert element is not None  # native_dtype found it
    try:
        with open(path, "rb") as f:
            f.seek(element.value_tell)
            if f.readinto(out.data.cast("B")) != out.nbytes:
                return False
    except OSError:
        return False
    shift = 8 * out.itemsize - int(ds.BitsStored)
    if shift and out.dtype.kind == "i":
        np.left_shift(out, shift, out=out)
        np.right_shift(out, shift, out=out)
    elif shift:
        np.bitwise_and(out, (1 << int(ds.BitsStored)) - 1, out=out)
    return True


def stored_slices(
    files: Sequence[tuple[Path, AnyHeader]], notes: list[str]
) -> Sequence[np.ndarray] | np.ndarray:
    """The stored pixel values of single-frame files, one slice per file in the given order.

    When every file holds the same uncompressed array type, the slices are read from the files
    into one preallocated array by a few threads (file reads and numpy release the GIL); otherwise
    each file is decoded by pydicom. A file that ends inside its pixel data is left to pydicom,
    whose refusal names the missing bytes.
    """
    dtypes = {native_dtype(ds) for _, ds in files}
    dtype = dtypes.pop()
    if dtype is None or dtypes:
        return [decoded_pixels(file, ds, notes) for file, ds in files]
    stack = np.empty((len(files), int(files[0][1].Rows), int(files[0][1].Columns)), dtype)
    # Imported here: concurrent.futures (with logging) costs every command 10-15 ms at start-up.
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=READ_THREADS) as pool:
        complete = list(pool.map(_read_native, *zip(*files, strict=True), stack))
    for k, done in enumerate(complete):
        if not done:
            stack[k] = decoded_pixels(*files[k], notes)
    return stack


def _rescale_factors(path: Path, slope: object, intercept: object) -> tuple[np.float32, np.float32] | None:
    """RescaleSlope and RescaleIntercept as float32, or None when they leave the values unchanged."""
    slope_value = ds_number(path, "the image", "RescaleSlope", slope)
    intercept_value = ds_number(path, "the image", "RescaleIntercept", intercept)
    if slope_value == 0:
        # Every pixel would be the intercept: a broken header, not an image.
        raise ScanError(path, "malformed DICOM attribute value (RescaleSlope is 0)")
    if (slope_value in (None, 1.0)) and (intercept_value in (None, 0.0)):
        return None
    return np.float32(slope_value or 1.0), np.float32(intercept_value or 0.0)


def rescaled(
    slices: Sequence[np.ndarray] | np.ndarray, rescale: Sequence[tuple[Path, object, object]]
) -> np.ndarray:
    """Stack the slices, each rescaled by its (RescaleSlope, RescaleIntercept) in float32 arithmetic.

    The stack has the type the rescaled (float32) and untouched slices promote to together, as if
    each slice were rescaled on its own and then stacked; an array none of whose slices needs
    rescaling is returned as it is.
    """
    factors = [_rescale_factors(*factors) for factors in rescale]
    if isinstance(slices, np.ndarray) and all(f is None for f in factors):
        return slices
    dtype = np.result_type(
        *{np.dtype(np.float32) if f else s.dtype for s, f in zip(slices, factors, strict=True)}
    )
    values = np.empty((len(slices), *slices[0].shape), dtype)
    for value, stored, f in zip(values, slices, factors, strict=True):
        if f is None:
            value[...] = stored
        else:
            np.multiply(stored, f[0], out=value, dtype=np.float32)
            np.add(value, f[1], out=value, dtype=np.float32)
    return values
