"""NIfTI-1 and NIfTI-2 headers read without nibabel, for the files nibabel reads exactly as stored.

Importing nibabel and building its image object cost more than inflating a gzipped lesion mask
(``benchmarks/bench_cohort.py``). A single-file NIfTI whose header nibabel would take without a
fix (sizes, magic, datatype, pixdim and codes as the standard has them, no extension, no scaling)
is read here: its geometry as nibabel computes it, operation for operation, and its voxels as a
view of the bytes. Any other file is left to nibabel (:func:`read_fast` returns ``None``), decided
per file, so that every file gives what nibabel gives. ``tests/core/test_nifti_header.py`` checks
the two agree on many random headers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

if TYPE_CHECKING:
    import nibabel as nib

_NIFTI1_FIELDS = [
    ("sizeof_hdr", "i4"), ("data_type", "S10"), ("db_name", "S18"), ("extents", "i4"),
    ("session_error", "i2"), ("regular", "S1"), ("dim_info", "u1"), ("dim", "i2", (8,)),
    ("intent_p1", "f4"), ("intent_p2", "f4"), ("intent_p3", "f4"), ("intent_code", "i2"),
    ("datatype", "i2"), ("bitpix", "i2"), ("slice_start", "i2"), ("pixdim", "f4", (8,)),
    ("vox_offset", "f4"), ("scl_slope", "f4"), ("scl_inter", "f4"), ("slice_end", "i2"),
    ("slice_code", "u1"), ("xyzt_units", "u1"), ("cal_max", "f4"), ("cal_min", "f4"),
    ("slice_duration", "f4"), ("toffset", "f4"), ("glmax", "i4"), ("glmin", "i4"),
    ("descrip", "S80"), ("aux_file", "S24"), ("qform_code", "i2"), ("sform_code", "i2"),
    ("quatern_b", "f4"), ("quatern_c", "f4"), ("quatern_d", "f4"), ("qoffset_x", "f4"),
    ("qoffset_y", "f4"), ("qoffset_z", "f4"), ("srow_x", "f4", (4,)), ("srow_y", "f4", (4,)),
    ("srow_z", "f4", (4,)), ("intent_name", "S16"), ("magic", "S4"),
]  # fmt: skip
_NIFTI2_FIELDS = [
    ("sizeof_hdr", "i4"), ("magic", "S4"), ("eol_check", "i1", (4,)), ("datatype", "i2"),
    ("bitpix", "i2"), ("dim", "i8", (8,)), ("intent_p1", "f8"), ("intent_p2", "f8"),
    ("intent_p3", "f8"), ("pixdim", "f8", (8,)), ("vox_offset", "i8"), ("scl_slope", "f8"),
    ("scl_inter", "f8"), ("cal_max", "f8"), ("cal_min", "f8"), ("slice_duration", "f8"),
    ("toffset", "f8"), ("slice_start", "i8"), ("slice_end", "i8"), ("descrip", "S80"),
    ("aux_file", "S24"), ("qform_code", "i4"), ("sform_code", "i4"), ("quatern_b", "f8"),
    ("quatern_c", "f8"), ("quatern_d", "f8"), ("qoffset_x", "f8"), ("qoffset_y", "f8"),
    ("qoffset_z", "f8"), ("srow_x", "f8", (4,)), ("srow_y", "f8", (4,)), ("srow_z", "f8", (4,)),
    ("slice_code", "i4"), ("xyzt_units", "i4"), ("intent_code", "i4"), ("intent_name", "S16"),
    ("dim_info", "u1"), ("unused_str", "S15"),
]  # fmt: skip


def _layouts(fields: list[Any]) -> dict[str, np.dtype]:
    little = np.dtype([(name, "<" + kind, *rest) if kind[0] in "iuf" else (name, kind, *rest) for name, kind, *rest in fields])  # fmt: skip
    return {"<": little, ">": little.newbyteorder(">")}


ByteOrder = Literal["<", ">"]

#: The header's fields (nibabel's ``header_dtype``), by byte order; the magic each version must have,
#: the quaternion threshold nibabel uses for it (the float precision of its fields).
VERSIONS: dict[int, tuple[dict[str, np.dtype], bytes, float]] = {
    348: (_layouts(_NIFTI1_FIELDS), b"n+1", float(np.finfo(np.float32).eps * 3)),
    540: (_layouts(_NIFTI2_FIELDS), b"n+2", float(np.finfo(np.float64).eps * 3)),
}
#: Voxel types read here: NIfTI datatype code -> numpy type. Others (complex, RGB) go to nibabel.
DATATYPES = {2: "u1", 4: "i2", 8: "i4", 16: "f4", 64: "f8", 256: "i1", 512: "u2", 768: "u4", 1024: "i8", 1280: "u8"}  # fmt: skip
XFORM_CODES = range(6)
SPATIAL_UNITS = {0: "unknown", 1: "meter", 2: "mm", 3: "micron"}
TIME_UNITS = (0, 8, 16, 24, 32, 40, 48)
_NIFTI2_EOL_CHECK = (13, 10, 26, 10)
#: nibabel's reading of FreeSurfer's icosahedron surface "shape".
_FREESURFER_ICO7 = (27307, 1, 6)


@dataclass(frozen=True)
class NiftiHeader:
    """What onfh-volume reads of a NIfTI header, as nibabel gives it.

    Attributes
    ----------
    shape, dtype
        The voxel array's shape and type (with the file's byte order).
    affine
        nibabel's ``image.affine``: the sform when coded, else the qform when coded, else pixdim's.
    sform, qform
        Each transform when its code is not 0, else ``None`` (nibabel's ``get_sform(coded=True)``).
    spatial_unit
        ``"mm"``, ``"meter"``, ``"micron"`` or ``"unknown"``.
    pixdim
        The voxel sizes the header states (pixdim[1:4]).
    slice_dim
        The slice axis ``dim_info`` states, or ``None``.
    description
        The ``descrip`` field, decoded.
    """

    shape: tuple[int, ...]
    dtype: np.dtype
    affine: np.ndarray
    sform: np.ndarray | None
    sform_code: int
    qform: np.ndarray | None
    qform_code: int
    spatial_unit: str
    pixdim: tuple[float, float, float]
    slice_dim: int | None
    description: str

    @property
    def orientation_known(self) -> bool:
        """False when neither qform nor sform is coded: the header then says nothing of left and right."""
        return bool(self.sform_code or self.qform_code)


def read_fast(raw: bytes, pixels: bool = True) -> tuple[NiftiHeader, np.ndarray | None] | None:
    """The header of the NIfTI file whose bytes (inflated) are ``raw``, and its voxels as a read-only
    view (Fortran order) when ``pixels``; ``None`` for a file nibabel must read.

    With ``pixels`` false, ``raw`` may be the file's start only and the voxels are not looked at.
    """
    order: ByteOrder = "<" if int.from_bytes(raw[:4], "little") in VERSIONS else ">"
    version = VERSIONS.get(int.from_bytes(raw[:4], "little" if order == "<" else "big"))
    if version is None:
        return None
    layouts, magic, threshold = version
    size = layouts[order].itemsize
    if len(raw) < size:
        return None
    h = np.frombuffer(raw, layouts[order], count=1)[0]
    header = _header(h, magic, threshold, order, raw[size : size + 4])
    if header is None:
        return None
    offset = int(h["vox_offset"])
    if not pixels:
        return header, None
    count = math.prod(header.shape)  # Python's integers: numpy's int64 would wrap for 7 large sizes
    if len(raw) < offset + count * header.dtype.itemsize:
        return None  # truncated: nibabel says so
    data = np.frombuffer(raw, header.dtype, count=count, offset=offset)
    return header, data.reshape(header.shape, order="F")


def _header(
    h: np.void, magic: bytes, threshold: float, order: ByteOrder, extension: bytes
) -> NiftiHeader | None:
    """The header of the structured record ``h``, or ``None`` where nibabel would fix, refuse or scale."""
    dim = h["dim"]
    shape = tuple(int(n) for n in dim[1 : int(dim[0]) + 1])
    kind = DATATYPES.get(int(h["datatype"]))
    pixdim = h["pixdim"]
    offset = h["vox_offset"]
    slope, inter = float(h["scl_slope"]), float(h["scl_inter"])
    spatial, time = int(h["xyzt_units"]) % 8, int(h["xyzt_units"]) - int(h["xyzt_units"]) % 8
    ordinary = (
        h["magic"].item() == magic
        and (magic == b"n+1" or tuple(h["eol_check"]) == _NIFTI2_EOL_CHECK)
        and 1 <= int(dim[0]) <= 7
        and all(n >= 1 for n in shape)
        and shape[:3] != _FREESURFER_ICO7
        and kind is not None
        and int(h["bitpix"]) == 8 * np.dtype(kind).itemsize
        and bool(np.all(pixdim[1:4] > 0))
        and pixdim[0] in (-1, 1)
        and offset >= h.dtype.itemsize + 4
        and offset % 16 == 0
        and (len(extension) < 4 or extension[:1] == b"\x00")  # nibabel's test for extensions
        and int(h["qform_code"]) in XFORM_CODES
        and int(h["sform_code"]) in XFORM_CODES
        and (int(h["qform_code"]) or int(h["sform_code"]))  # else nibabel's pixdim affine
        and (slope == 0 or not np.isfinite(slope) or (slope, inter) == (1, 0))
        and spatial in SPATIAL_UNITS
        and time in TIME_UNITS
    )
    if not ordinary:
        return None
    qform = _qform(h, threshold) if int(h["qform_code"]) else None
    if int(h["qform_code"]) and qform is None:
        return None
    sform = _sform(h) if int(h["sform_code"]) else None
    info = int(h["dim_info"]) >> 4 & 3
    return NiftiHeader(
        shape=shape,
        dtype=np.dtype(kind).newbyteorder(order),
        affine=np.array(sform if sform is not None else qform, dtype=np.float64),
        sform=sform,
        sform_code=int(h["sform_code"]),
        qform=qform,
        qform_code=int(h["qform_code"]),
        spatial_unit=SPATIAL_UNITS[spatial],
        pixdim=(float(pixdim[1]), float(pixdim[2]), float(pixdim[3])),
        slice_dim=info - 1 if info else None,
        description=h["descrip"].item().decode("ascii", "replace").strip("\x00 "),
    )


def _sform(h: np.void) -> np.ndarray:
    out = np.eye(4)
    out[0, :] = h["srow_x"][:]
    out[1, :] = h["srow_y"][:]
    out[2, :] = h["srow_z"][:]
    return out


def _qform(h: np.void, threshold: float) -> np.ndarray | None:
    """nibabel's qform (``fillpositive``, ``quat2mat``, in the same float types), or ``None``
    for a quaternion nibabel refuses."""
    xyz = np.asarray([h["quatern_b"], h["quatern_c"], h["quatern_d"]], dtype=np.longdouble)
    w2 = 1.0 - xyz @ xyz
    if np.abs(w2) < np.abs(threshold):
        w: Any = 0
    elif w2 < 0:
        return None
    else:
        w = np.sqrt(w2)
    w, x, y, z = np.r_[w, xyz]
    norm = w * w + x * x + y * y + z * z
    if norm < np.finfo(float).eps:
        rotation = np.eye(3)
    else:
        s = 2.0 / norm
        X, Y, Z = x * s, y * s, z * s
        wX, wY, wZ = w * X, w * Y, w * Z
        xX, xY, xZ = x * X, x * Y, x * Z
        yY, yZ, zZ = y * Y, y * Z, z * Z
        rotation = np.array(
            [
                [1.0 - (yY + zZ), xY - wZ, xZ + wY],
                [xY + wZ, 1.0 - (xX + zZ), yZ - wX],
                [xZ - wY, yZ + wX, 1.0 - (xX + yY)],
            ]
        )
    vox = h["pixdim"][1:4].copy()
    vox[-1] *= h["pixdim"][0]
    out = np.eye(4)
    out[0:3, 0:3] = np.dot(rotation, np.diag(vox))
    out[0:3, 3] = [h["qoffset_x"], h["qoffset_y"], h["qoffset_z"]]
    return out


def header_of(image: nib.Nifti1Image) -> NiftiHeader:
    """The same summary of an image nibabel read (any file :func:`read_fast` leaves to it)."""
    header = image.header
    sform, sform_code = header.get_sform(coded=True)
    qform, qform_code = header.get_qform(coded=True)
    slice_dim = header.get_dim_info()[2]
    return NiftiHeader(
        shape=tuple(int(n) for n in image.shape),
        dtype=image.get_data_dtype(),
        affine=image.affine,
        sform=sform,
        sform_code=int(sform_code),
        qform=qform,
        qform_code=int(qform_code),
        spatial_unit=header.get_xyzt_units()[0],
        pixdim=tuple(float(z) for z in header["pixdim"][1:4]),  # type: ignore[arg-type]
        slice_dim=None if slice_dim is None else int(slice_dim),
        description=header["descrip"].item().decode("ascii", "replace").strip("\x00 "),
    )
