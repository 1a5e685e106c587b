"""Load a NIfTI file (.nii, .nii.gz) as a scan, with geometry from its affine."""

from __future__ import annotations

import gzip
import io
import json
import struct
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from ..errors import OnfhError, ScanError
from ..scan import LPS_TO_RAS, TOLERANCE_REL, Scan, box_corners, gap_warning, tolerance
from .nifti_header import NiftiHeader, header_of, read_fast
from .plausible import SLICE_LENGTH_MM, check_finite, check_length
from .reorient import reorient

if TYPE_CHECKING:
    import nibabel as nib
    from nibabel.arrayproxy import ArrayProxy

UNIT_TO_MM = {"mm": 1.0, "meter": 1000.0, "micron": 0.001}
GZIP_MAGIC = b"\x1f\x8b"
#: Kept of a NIfTI read for its header only: the header and any extensions, with room.
HEADER_BYTES = 1 << 20
CHUNK_BYTES = 1 << 20
#: The most a deflate stream expands: 1032 bytes out of each byte in (zlib's technical notes).
DEFLATE_MAX_RATIO = 1032


def read_nifti(
    path: Path, error: type[OnfhError] = ScanError, pixels: bool = True
) -> tuple[NiftiHeader, np.ndarray]:
    """Open a NIfTI file and return its header with its data as a 3-D array (trailing singleton axes dropped).

    With ``pixels=False`` only the header is read, and the array is a read-only stand-in of the
    image's shape that holds no data (every element is the same zero). The array may be a
    read-only view of the file's bytes. A file that :func:`~onfh_volume.load.nifti_header.read_fast`
    leaves to nibabel is read by nibabel, with the same result.
    """
    raw, gzipped = _file_bytes(path, error, pixels)
    # nibabel opens a plain file by its name (a plain file named .nii.gz is refused by it).
    fast = read_fast(raw, pixels) if gzipped or path.name.endswith(".nii") else None
    if fast is None:
        header, data = _read_with_nibabel(path, raw if gzipped else None, error, pixels)
    else:
        header, data = fast
    # The header's shape, not a stand-in's: broadcasting to 7 large sizes fails before any check.
    shape = header.shape if data is None else data.shape
    if any(n > 1 for n in shape[3:]):
        raise error(
            path,
            f"{len(shape)}-D image of shape {shape}: more than 3 non-singleton dimensions "
            "(a time series or several volumes); give a single 3-D volume",
        )
    shape = (*shape[:3], 1, 1)[:3]
    data = np.broadcast_to(np.zeros((), header.dtype), shape) if data is None else data.reshape(shape)
    return header, data


def _file_bytes(path: Path, error: type[OnfhError], pixels: bool) -> tuple[bytes, bool]:
    """The file's bytes, inflated if gzipped (to the end of the stream, so its checksum is checked),
    only its start with ``pixels`` false; and whether it was gzipped.

    nibabel reads a .nii.gz only as far as it needs and never reaches the CRC32 and length at
    the end of the stream: a flipped bit in the data would change a volume without a word. For the
    header alone (``pixels`` false) the stream is checked piece by piece and only its start kept.
    """
    try:
        with open(path, "rb") as f:
            gzipped = f.read(2) == GZIP_MAGIC
            f.seek(0)
            data = f.read() if gzipped or pixels else f.read(HEADER_BYTES)
        if not gzipped:
            return data, False
    except OSError as exc:
        raise error(path, f"unreadable NIfTI file ({_one_line(exc)})") from exc
    try:
        return (_inflated(data) if pixels else _inflated_start(data)), True
    except (OSError, EOFError, zlib.error) as exc:
        raise error(path, f"corrupt or truncated gzip file ({exc}): the data fail their checksum") from exc


def _inflated(compressed: bytes) -> bytes:
    """A gzip file's data, its CRC32 and length checked: by ISA-L's inflate in one pass for a single
    stream (what every writer makes; twice as fast as zlib), else by :func:`gzip.decompress`
    (several streams, padding, errors)."""
    from isal import isal_zlib

    inflater = isal_zlib.decompressobj(wbits=31)  # 31: a gzip stream, whose trailer is checked
    # isal's stubs call its error class an instance: it is the class zlib.error is to zlib.
    broken = cast("type[Exception]", isal_zlib.error)
    try:
        data = inflater.decompress(compressed, _stated_length(compressed) + 1)
    except broken:
        data = b""
    if inflater.eof and not inflater.unused_data:
        return data
    return gzip.decompress(compressed)  # the same data, or gzip's own words for what is wrong


def _stated_length(compressed: bytes) -> int:
    """The data's length as the gzip trailer states it (modulo 2**32), at most what deflate can
    expand the file to.

    Inflating into a buffer of the final size from the start is four times faster than growing
    one: the memory a mask's data had is reused for the next mask's instead of mapped afresh.
    A wrong statement (a corrupt or hand-made trailer) only stops the inflate short, and the
    file goes to :func:`gzip.decompress`.
    """
    stated = int.from_bytes(compressed[-4:], "little")
    return min(stated, DEFLATE_MAX_RATIO * len(compressed))


def _read_with_nibabel(
    path: Path, raw: bytes | None, error: type[OnfhError], pixels: bool
) -> tuple[NiftiHeader, np.ndarray | None]:
    """The header and voxels as nibabel reads them: a gzipped file from its inflated bytes ``raw``."""
    from .nibabel_import import nib

    image = _nibabel_image(path, raw, error)
    dtype = image.get_data_dtype()
    if dtype.names is not None or dtype.kind not in "biuf":
        raise error(
            path, f"voxels of type {dtype} (colour or complex): not a greyscale image or a label mask"
        )
    try:
        data = np.asanyarray(image.dataobj) if pixels else None
        header = header_of(image)
    except Exception as exc:
        raise error(path, f"unreadable NIfTI file ({_one_line(exc)})") from exc
    # The image's header forgets the file's vox_offset (it is 0 there); the proxy keeps it.
    offset, first = int(cast("ArrayProxy", image.dataobj).offset), image.header.single_vox_offset
    if image.header.is_single and offset < first:
        # nibabel lets 0 pass and takes the header's bytes as voxels; ITK reads from byte 348.
        raise error(
            path,
            f"vox_offset {offset:g} lies inside the header (a .nii's voxels start at byte {first} or "
            "later): readers disagree on where the voxels are",
        )
    if not isinstance(image, nib.Nifti1Image | nib.Nifti2Image):
        raise error(path, f"not a NIfTI file ({type(image).__name__})")
    return header, data


def _nibabel_image(path: Path, raw: bytes | None, error: type[OnfhError]) -> nib.Nifti1Image:
    from .nibabel_import import nib

    try:
        plain = nib.load(path) if raw is None else None
    except Exception as exc:
        raise error(path, f"unreadable NIfTI file ({_one_line(exc)})") from exc
    if plain is not None:
        if not isinstance(plain, nib.Nifti1Image):  # nibabel also opens Analyze, MINC...
            raise error(path, "not a NIfTI-1 or NIfTI-2 image")
        return plain
    assert raw is not None
    # sizeof_hdr, the header's first field: 348 for NIfTI-1, 540 for NIfTI-2, in the file's byte order.
    nifti2 = raw[:4] in (struct.pack("<i", 540), struct.pack(">i", 540))
    try:
        return (nib.Nifti2Image if nifti2 else nib.Nifti1Image).from_bytes(raw)
    except Exception as exc:
        raise error(path, f"unreadable NIfTI file ({_one_line(exc)})") from exc


def _inflated_start(compressed: bytes) -> bytes:
    """The first :data:`HEADER_BYTES` of a gzip stream, after checking the whole stream's checksum."""
    with gzip.GzipFile(fileobj=io.BytesIO(compressed)) as stream:
        start = stream.read(HEADER_BYTES)
        while stream.read(CHUNK_BYTES):
            pass  # to the end: GzipFile checks CRC32 and length there
    return start


def affine_mm(
    path: Path, header: NiftiHeader, error: type[OnfhError] = ScanError
) -> tuple[np.ndarray, list[str]]:
    """The image's voxel-to-RAS affine in mm, with warnings about how trustworthy it is.

    nibabel prefers the sform; a qform that disagrees with it is reported, as are missing
    orientation and unknown units. Units other than mm are converted. An affine holding NaN or
    an infinity is refused with ``error``: every comparison with it would pass.
    """
    check_finite(path, "the NIfTI affine (sform, else qform, else pixdim)", header.affine, error)
    warnings: list[str] = []
    sform, qform = header.sform, header.qform
    shape = (*header.shape[:3], 1, 1)[:3]
    if sform is not None and qform is not None:
        corners = box_corners(0, np.array(shape) - 1)
        homogeneous = np.c_[corners, np.ones(len(corners))]
        distance = np.linalg.norm((homogeneous @ sform.T - homogeneous @ qform.T)[:, :3], axis=1).max()
        if not distance <= tolerance(0):  # also a qform holding NaN
            warnings.append(
                f"NIfTI qform and sform disagree by up to {distance:.2f} mm; using the sform (a viewer that "
                "uses the qform shows the image elsewhere: check left and right)"
            )
    elif not header.orientation_known:
        warnings.append(
            "NIfTI header states no orientation (qform_code and sform_code are 0): spacing from pixdim, "
            "left/right unknown"
        )
    unit = header.spatial_unit
    scale = UNIT_TO_MM.get(unit)
    if scale is None:
        warnings.append(f"NIfTI spatial unit is '{unit}': taken as mm, the NIfTI convention")
        scale = 1.0
    affine = header.affine.copy()
    affine[:3, :] *= scale
    return affine, warnings


def to_slice_row_column(
    array: np.ndarray, affine: np.ndarray, slice_axis: int
) -> tuple[np.ndarray, np.ndarray]:
    """Reorder a NIfTI array to (slice, row, column), laid out as the DICOM series would be.

    Of the two in-plane axes, the one pointing mostly along the patient's left-right axis (else
    antero-posterior) becomes the column axis, as in DICOM's standard planes; each is flipped, if
    needed, so that it runs towards the patient's left, posterior or inferior (DICOM's display
    convention), and the slice axis runs along row x column direction, as DICOM sorts slices.
    A DICOM series and its NIfTI conversion therefore load to the same array.
    """
    lps = (LPS_TO_RAS @ affine)[:3, :3]
    in_plane = [a for a in range(3) if a != slice_axis]
    dominant = {axis: int(np.argmax(np.abs(lps[:, axis]))) for axis in in_plane}
    column_axis, row_axis = sorted(in_plane, key=lambda axis: dominant[axis])
    flips = {}
    for axis in (column_axis, row_axis):
        # LPS +x is left and +y posterior, but display rows run head to foot, towards -z.
        wanted = -1.0 if dominant[axis] == 2 else 1.0
        flips[axis] = 1 if np.sign(lps[dominant[axis], axis]) == wanted else -1
    row_direction = lps[:, column_axis] * flips[column_axis]
    column_direction = lps[:, row_axis] * flips[row_axis]
    flips[slice_axis] = (
        1 if np.dot(np.cross(row_direction, column_direction), lps[:, slice_axis]) >= 0 else -1
    )
    ornt = np.array(
        [[0, flips[0]], [0, flips[1]], [0, flips[2]]],
        dtype=float,
    )
    ornt[slice_axis, 0], ornt[row_axis, 0], ornt[column_axis, 0] = 0, 1, 2
    return reorient(array, affine, ornt)


#: A voxel side this many times longer than both others marks the slice axis of a 2-D protocol.
THICK_SLICE_RATIO = 1.5


def _slice_axis(path: Path, header: NiftiHeader, affine: np.ndarray, sidecar: dict[str, Any]) -> int:
    """The acquisition slice axis, from every clue the file gives; contradicting clues are refused.

    Clues: the header's slice_dim; the sidecar's SpacingBetweenSlices (the one axis that long);
    a clearly thick axis (clinical 2-D protocols have slices much thicker than pixels, wherever a
    conversion or a reorientation to RAS put them). Without any, NIfTI's third axis.
    """
    sizes = np.linalg.norm(affine[:3, :3], axis=0)
    clues = {}
    stated = header.slice_dim
    if stated is not None:
        clues["the header's slice_dim"] = int(stated)
    spacing = sidecar.get("SpacingBetweenSlices")
    if isinstance(spacing, int | float) and not isinstance(spacing, bool) and 0 < spacing < float("inf"):
        # Relative, not the 0.1 mm of position checks: thin slices sit close to the pixel size.
        matching = [a for a in range(3) if abs(sizes[a] - spacing) <= TOLERANCE_REL * spacing]
        if len(matching) == 1:
            clues["the sidecar's SpacingBetweenSlices"] = matching[0]
    thickest = int(np.argmax(sizes))
    if sizes[thickest] >= THICK_SLICE_RATIO * np.delete(sizes, thickest).max():
        clues[f"the thick ({sizes[thickest]:.3g} mm) voxel side"] = thickest
    if len(set(clues.values())) > 1:
        said = ", ".join(f"{clue} says axis {axis}" for clue, axis in clues.items())
        raise ScanError(path, f"the slice axis is ambiguous: {said}")
    return next(iter(clues.values()), 2)


def sidecar_path(path: Path) -> Path:
    """Where the BIDS JSON sidecar of a NIfTI file is: ``scan.nii.gz`` → ``scan.json``, as dcm2niix writes it."""
    name = path.name
    stem = name[: -len(".nii.gz")] if name.endswith(".nii.gz") else path.stem
    return path.with_name(stem + ".json")


def _sidecar(path: Path) -> tuple[Path, dict[str, Any] | None]:
    """The BIDS JSON sidecar written next to a NIfTI by dcm2niix, if there is one."""
    sidecar = sidecar_path(path)
    if not sidecar.exists():
        return sidecar, None
    try:
        # utf-8-sig: editors on Windows put a byte order mark first, as spreadsheets do in manifests.
        fields = json.loads(sidecar.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as exc:
        raise ScanError(sidecar, f"unreadable JSON sidecar ({exc})") from exc
    if not isinstance(fields, dict):
        raise ScanError(sidecar, "JSON sidecar is not an object of fields")
    return sidecar, fields


def _sidecar_thickness(sidecar: Path, fields: dict[str, Any] | None) -> tuple[float | None, list[str]]:
    if fields is None:
        return None, [
            "slice thickness unknown: NIfTI stores none and there is no BIDS sidecar "
            f"{sidecar.name} with SliceThickness; only the Cavalieri (area x spacing) volume is available"
        ]
    value = fields.get("SliceThickness")
    if value is None:
        return None, [f"slice thickness unknown: sidecar {sidecar.name} has no SliceThickness"]
    # JSON true is a Python int (1) and NaN a float: neither is a thickness.
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ScanError(sidecar, f"SliceThickness must be a positive number of mm, not {value!r}")
    return check_length(sidecar, "SliceThickness", float(value), SLICE_LENGTH_MM), []


def load_nifti(path: Path, pixels: bool = True) -> Scan:
    """Load a NIfTI file; see :func:`onfh_volume.load.load_scan`."""
    header, data = read_nifti(path, pixels=pixels)
    affine, warnings = affine_mm(path, header)
    sidecar, fields = _sidecar(path)
    voxels, affine = to_slice_row_column(data, affine, _slice_axis(path, header, affine, fields or {}))

    axes = affine[:3, :3]
    lengths = np.linalg.norm(axes, axis=0)
    # NIfTI headers hold float32: 1.6 mm is stored as 1.60000002384. Read each length back as the
    # shortest decimal that float32 value stands for, so volumes are not off in the 8th digit.
    slice_spacing, row_spacing, column_spacing = (float(str(np.float32(v))) for v in lengths)
    units = axes / lengths
    in_plane_angle = abs(float(units[:, 1] @ units[:, 2]))
    if in_plane_angle > 1e-4:
        raise ScanError(path, "image rows and columns are not perpendicular (sheared affine)")
    normal = np.cross(units[:, 1], units[:, 2])
    sideways = float(np.linalg.norm(axes[:, 0] - (axes[:, 0] @ normal) * normal)) * max(
        voxels.shape[0] - 1, 1
    )
    if sideways > tolerance(slice_spacing):
        raise ScanError(
            path,
            f"gantry tilt or sheared stack: the last slice lies {sideways:.2f} mm off the slice normal "
            "through the first",
        )
    stated = sorted(z * UNIT_TO_MM.get(header.spatial_unit, 1.0) for z in header.pixdim)
    if not np.allclose(stated, sorted(lengths), rtol=1e-3, atol=1e-3):
        warnings.append(
            f"pixdim {[round(v, 4) for v in stated]} mm disagrees with the affine's voxel size "
            f"{[round(float(v), 4) for v in sorted(lengths)]} mm; using the affine"
        )

    thickness, thickness_warnings = _sidecar_thickness(sidecar, fields)
    warnings += thickness_warnings
    warnings += gap_warning(thickness, slice_spacing)
    return Scan(
        # Writable, as nibabel gave them: the fast reader's array is a view of the file's bytes.
        voxels=np.require(voxels, requirements=["W"]) if pixels else None,
        grid=voxels.shape,
        pixel_spacing=(row_spacing, column_spacing),
        slice_thickness=thickness,
        slice_spacing=slice_spacing,
        affine=affine,
        source=str(path),
        warnings=warnings,
        orientation_known=header.orientation_known,
        laterality={
            key: str(value)
            for key, value in (fields or {}).items()
            if key in ("Laterality", "ImageLaterality", "SeriesDescription") and value
        },
    )


def _one_line(exc: Exception) -> str:
    """nibabel's words for a problem, on one line (some span two: "... from object\\n - could the
    file be damaged?"), as an error message must be."""
    return " ".join(str(exc).split())
