"""Property-based tests: whatever is done to a scan's headers or a mask's bytes, never a wrong number.

A sample series (sub-01 baseline) and its mask (NIfTI, and the same as a DICOM SEG) are mutated
(numbers, strings, NaN and infinities, missing tags, truncations, bit flips), then measured by ``onfh-volume measure --json``. The
invariant of the tool, checked for every example:

- exit code 2 with exactly one line naming the file (or folder) that was changed, or
- exit code 0 with the unmutated volumes (within 0.1%: a flipped last digit of a position moves a
  slice by a micrometre) and sides, or
- exit code 0 with other volumes and warnings that differ from the unmutated ones (they say why);

never a traceback, an internal error, or a silently different volume.

The run is bounded: a fixed set of examples (``derandomize``) and a deadline per example. A
larger, randomised run is one command::

    ONFH_PROPERTY_EXAMPLES=2000 python -m pytest tests/core/test_properties.py -p no:cacheprovider
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import os
import shutil
import tempfile
import warnings
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest
from helpers import SAMPLES, hd_seg, series_datasets
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from onfh_volume.cli import main
from onfh_volume.load import load_scan
from onfh_volume.mask import load_mask

SERIES = SAMPLES / "dicom" / "sub-01" / "baseline"
MASK = SAMPLES / "masks" / "sub-01_baseline_lesions.nii.gz"
FILES = sorted(path.name for path in SERIES.iterdir())

EXAMPLES = int(os.environ.get("ONFH_PROPERTY_EXAMPLES", "30"))
BOUNDED = settings(
    max_examples=EXAMPLES,
    deadline=timedelta(seconds=10),  # generous: 0.2 s per example here, on a machine shared by many
    derandomize="ONFH_PROPERTY_EXAMPLES" not in os.environ,  # the suite's run is the same every time
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def measured(scan: Path, mask: Path) -> tuple[int, str, str]:
    """``onfh-volume measure --json``: exit code, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["measure", str(scan), str(mask), "--json"])
    return code, out.getvalue(), err.getvalue()


def volumes(data: dict) -> dict[tuple[int, str], tuple[float | None, float | None]]:
    return {
        (lesion["label"], lesion["side"]): (lesion["volume_thickness_cm3"], lesion["volume_cavalieri_cm3"])
        for lesion in data["lesions"]
    }


def same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(
        (x is None and y is None) or (x is not None and y is not None and abs(x - y) <= 1e-3 * abs(y))
        for key in a
        for x, y in zip(a[key], b[key], strict=True)
    )


REFERENCE_CODE, REFERENCE_OUT, _ = measured(SERIES, MASK)
REFERENCE = json.loads(REFERENCE_OUT)


def check_invariant(code: int, out: str, err: str, changed: list[Path]) -> None:
    assert "Traceback" not in err and "internal error" not in err, err
    if code == 2:
        assert err.count("\n") == 1 and err.startswith("onfh-volume: error: "), err
        assert any(str(path) in err for path in changed), (err, changed)
        return
    assert code == 0, (code, err)
    data = json.loads(out)  # also: valid JSON, no NaN
    if not same(volumes(data), volumes(REFERENCE)):
        assert data["warnings"] != REFERENCE["warnings"], ("a different volume without a word", data)


@contextlib.contextmanager
def copies() -> Iterator[tuple[Path, Path]]:
    """A writable copy of the series and its mask, removed afterwards."""
    with tempfile.TemporaryDirectory() as folder:
        series = Path(shutil.copytree(SERIES, Path(folder) / "series"))
        yield series, Path(shutil.copy(MASK, folder))


def test_the_reference_is_measured() -> None:
    assert REFERENCE_CODE == 0
    assert [round(v, 3) for v in volumes(REFERENCE)[1, "right"]] == [14.336, 15.77]


# --- strategies ------------------------------------------------------------------------------------

SPECIAL = st.sampled_from(
    ["nan", "inf", "-inf", "0", "-1", "1e308", "1e-300", "1e6", "", "1_6", "abc", " 4 "]
)
NUMBER = st.floats(min_value=0.01, max_value=100.0).map(lambda v: f"{v:.6g}") | SPECIAL
TAGS = {
    "PixelSpacing": 2,
    "SliceThickness": 1,
    "SpacingBetweenSlices": 1,
    "ImagePositionPatient": 3,
    "ImageOrientationPatient": 6,
    "RescaleSlope": 1,
}


@st.composite
def header_edits(draw: st.DrawFn) -> tuple[str, Callable[[pydicom.Dataset], None]]:
    """A description and an edit of one DICOM attribute: a new value, a wrong count, or removal."""
    kind = draw(st.sampled_from(["value", "count", "delete", "other"]))
    if kind == "other":
        tag, value = draw(
            st.sampled_from(
                [
                    ("Rows", 0), ("Rows", 223), ("Columns", 1), ("SamplesPerPixel", 3),
                    ("PhotometricInterpretation", "RGB"), ("PhotometricInterpretation", "PALETTE COLOR"),
                    ("BitsAllocated", 8), ("SeriesInstanceUID", "1.2.3"), ("NumberOfFrames", "2"),
                ]
            )
        )  # fmt: skip
        return f"{tag}={value!r}", lambda ds: setattr(ds, tag, value)
    tag = draw(st.sampled_from(sorted(TAGS)))
    if kind == "delete":
        return f"del {tag}", lambda ds: ds.pop(tag, None)
    size = (
        TAGS[tag] if kind == "value" else draw(st.sampled_from([n for n in (1, 2, 3, 6) if n != TAGS[tag]]))
    )
    values = draw(st.lists(NUMBER, min_size=size, max_size=size))
    return f"{tag}={values}", lambda ds: setattr(ds, tag, values if size > 1 else values[0])


# --- properties ------------------------------------------------------------------------------------


@BOUNDED
@given(edit=header_edits(), which=st.sampled_from([None, 0, 5, len(FILES) - 1]))
def test_edited_dicom_headers_never_give_a_wrong_number(edit, which: int | None) -> None:
    _, change = edit
    with copies() as (series, mask):
        changed = []
        for k, name in enumerate(FILES):
            if which is None or k == which:
                ds = pydicom.dcmread(series / name)
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        change(ds)
                        ds.save_as(series / name)
                except Exception:
                    reject()  # pydicom will not take or write it: no file a scanner could have made
                changed.append(series / name)
        check_invariant(*measured(series, mask), [series, *changed])


@BOUNDED
@given(
    which=st.integers(0, len(FILES) - 1),
    damage=st.sampled_from(["flip", "truncate"]),
    where=st.floats(0.0, 1.0, exclude_max=True),
    bit=st.integers(0, 7),
)
def test_damaged_dicom_files_never_give_a_wrong_number(
    which: int, damage: str, where: float, bit: int
) -> None:
    with copies() as (series, mask):
        path = series / FILES[which]
        data = bytearray(path.read_bytes())
        # Most of a file is pixel data, which a volume never reads: damage the header half the time.
        position = int(where * (len(data) if where > 0.5 else 1200))
        if damage == "flip":
            data[position] ^= 1 << bit
        else:
            del data[position:]
        path.write_bytes(bytes(data))
        check_invariant(*measured(series, mask), [series, path])


@BOUNDED
@given(where=st.floats(0.0, 1.0, exclude_max=True), bit=st.integers(0, 7), truncate=st.booleans())
def test_damaged_mask_files_never_give_a_wrong_number(where: float, bit: int, truncate: bool) -> None:
    with copies() as (series, mask):
        data = bytearray(mask.read_bytes())
        position = int(where * len(data))
        if truncate:
            del data[position:]
        else:
            data[position] ^= 1 << bit
        mask.write_bytes(bytes(data))
        check_invariant(*measured(series, mask), [mask])


MASK_EDITS: dict[str, Callable[[nib.Nifti1Image, float], None]] = {
    "sform origin": lambda image, v: image.set_sform(
        np.r_[image.get_sform()[:3] + [[0, 0, 0, v]] * 3, [[0, 0, 0, 1]]]
    ),
    "sform scale": lambda image, v: image.set_sform(image.get_sform() @ np.diag([v, 1, 1, 1])),
    "qform origin": lambda image, v: image.set_qform(
        np.r_[image.get_qform()[:3] + [[0, 0, 0, v]] * 3, [[0, 0, 0, 1]]], code=1
    ),
    "pixdim": lambda image, v: image.header.__setitem__("pixdim", [1, v, v, v, 1, 1, 1, 1]),
    "no sform": lambda image, v: image.set_sform(None, code=0),
    "no orientation": lambda image, v: (image.set_sform(None, code=0), image.set_qform(None, code=0)),
}


@BOUNDED
@given(
    edit=st.sampled_from(sorted(MASK_EDITS)),
    value=st.sampled_from([float("nan"), float("inf"), 0.0, -1.0, 1e30, 1e-30, 0.5, 10.0, 1.6]),
)
def test_edited_mask_headers_never_give_a_wrong_number(edit: str, value: float) -> None:
    with copies() as (series, mask):
        image = nib.load(mask)
        image = nib.Nifti1Image(np.asanyarray(image.dataobj), image.affine, image.header)
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            try:
                MASK_EDITS[edit](image, value)
                nib.save(image, mask)
            except Exception:
                reject()  # nibabel will not write it
        check_invariant(*measured(series, mask), [mask])


@functools.cache
def sample_seg() -> bytes:
    """The sample mask as a binary DICOM SEG written by highdicom, on the sample series (its bytes)."""
    images = series_datasets(SERIES)
    labels = load_mask(MASK, load_scan(SERIES, pixels=False))
    normal = np.cross(*np.array(images[0].ImageOrientationPatient, dtype=float).reshape(2, 3))
    along = [float(np.dot(np.array(ds.ImagePositionPatient, dtype=float), normal)) for ds in images]
    slices = np.argsort(np.argsort(along))  # each image's slice in the loader's order (along the normal)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        seg = hd_seg(images, labels[slices].astype(np.uint8), ["lesion 1", "lesion 2"])
    buffer = io.BytesIO()
    seg.save_as(buffer)
    return buffer.getvalue()


SEG_ATTRIBUTES = {
    "PixelSpacing": (2, lambda ds, frame: ds.SharedFunctionalGroupsSequence[0].PixelMeasuresSequence[0]),
    "ImageOrientationPatient": (
        6,
        lambda ds, frame: ds.SharedFunctionalGroupsSequence[0].PlaneOrientationSequence[0],
    ),
    "ImagePositionPatient": (
        3,
        lambda ds, frame: ds.PerFrameFunctionalGroupsSequence[frame].PlanePositionSequence[0],
    ),
}


def test_the_sample_seg_measures_as_the_nifti_mask() -> None:
    with copies() as (series, _):
        seg = series.parent / "seg.dcm"
        seg.write_bytes(sample_seg())
        code, out, err = measured(series, seg)
    assert code == 0, err
    assert same(volumes(json.loads(out)), volumes(REFERENCE))


@BOUNDED
@given(
    attribute=st.sampled_from(sorted(SEG_ATTRIBUTES)),
    frame=st.integers(0, 3),
    index=st.integers(0, 5),
    value=NUMBER,
)
def test_edited_seg_headers_never_give_a_wrong_number(
    attribute: str, frame: int, index: int, value: str
) -> None:
    size, item = SEG_ATTRIBUTES[attribute]
    with copies() as (series, _):
        seg = series.parent / "seg.dcm"
        ds = pydicom.dcmread(io.BytesIO(sample_seg()))
        holder = item(ds, frame)
        values = list(getattr(holder, attribute))
        values[index % size] = value
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                setattr(holder, attribute, values)
                ds.save_as(seg)
        except Exception:
            reject()  # pydicom will not take or write it
        check_invariant(*measured(series, seg), [seg])


@pytest.mark.parametrize("name", ["SliceThickness", "PixelSpacing"])
def test_the_invariant_check_can_fail(name: str) -> None:
    # A check that accepted everything would prove nothing: a silently different volume fails it.
    data = json.loads(REFERENCE_OUT)
    data["lesions"][0]["volume_thickness_cm3"] *= 1.2 if name == "SliceThickness" else 1.44
    with pytest.raises(AssertionError, match="a different volume without a word"):
        check_invariant(0, json.dumps(data), "", [])
