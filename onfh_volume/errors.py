"""Exceptions raised by onfh-volume for a user's input.

Every exception here means "the input cannot be measured as it is", never "the program is
broken": the CLI prints its message on one line and exits with code 2. The message always
names the file (or files) and the problem, so it can go straight into a batch log.
"""

from __future__ import annotations

from os import PathLike


class OnfhError(Exception):
    """Base class of every error caused by the user's input or request.

    Parameters
    ----------
    path
        The file or folder the problem is in (``None`` when it concerns no single file).
    problem
        What is wrong, in one sentence a radiologist can act on.
    """

    def __init__(self, path: str | PathLike[str] | None, problem: str) -> None:
        self.path = None if path is None else str(path)
        self.problem = problem
        super().__init__(problem if path is None else f"{self.path}: {problem}")


class ScanError(OnfhError):
    """A scan (DICOM series, DICOM file or NIfTI file) cannot be loaded with exact geometry."""


class SeveralSeriesError(ScanError):
    """A folder holds several series and none was chosen.

    ``series`` lists ``(SeriesInstanceUID, SeriesNumber, SeriesDescription, file count)``.
    """

    def __init__(self, path: str | PathLike[str], series: list[tuple[str, str, str, int]]) -> None:
        self.series = series
        listed = "; ".join(
            f"{uid} (number {number or '?'}, '{description}', {count} files)"
            for uid, number, description, count in series
        )
        super().__init__(
            path, f"{len(series)} series in one folder: {listed}; choose one by SeriesInstanceUID or number"
        )


class MaskError(OnfhError):
    """A lesion mask cannot be placed exactly on its scan's voxel grid, or holds invalid labels."""


class TracingError(OnfhError):
    """A tracing aid cannot do what was asked: an outline that is not closed, too few traced slices."""


class GeometryError(OnfhError):
    """A measurement needs a geometric quantity the scan does not state (never guessed)."""


class NonFiniteError(OnfhError, ValueError):
    """A number that must be finite (a volume, a length) is NaN or infinite: no result can come of it."""


class OutputExistsError(OnfhError):
    """Writing would overwrite an existing file and overwriting was not asked for."""


class OutputIsInputError(OnfhError):
    """An output would be written over an input (a scan, a mask, the manifest): refused even with --force."""


class OutputError(OnfhError):
    """An output cannot be written: a full disk, a read-only folder, no permission. Names the folder."""


class ManifestError(OnfhError):
    """A cohort manifest cannot be run: it lists every problem found, not only the first.

    Parameters
    ----------
    path
        The manifest file.
    problems
        One sentence per problem, each starting with the line it is on (``"line 4: ..."``).
    """

    def __init__(self, path: str | PathLike[str], problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__(path, "; ".join(self.problems))


class DicomMaskError(MaskError):
    """A DICOM SEG or RTSTRUCT cannot be read, or does not lie exactly on the scan's grid."""


class SegExportError(OnfhError):
    """A DICOM SEG cannot be written for this scan and mask (no DICOM source instances, no lesion)."""


class AnalysisError(OnfhError):
    """Reader agreement or a study's statistics cannot be computed from this input.

    One reader only, a group with a single hip, a column of event times that holds text: the
    statistic would be undefined or misleading, so it is refused rather than reported as NaN.
    """


class HeadError(OnfhError):
    """The femoral head a lesion lies in cannot be measured: the measures relative to it are not given."""


class HeadNotFoundError(HeadError):
    """No femoral head (a ball of bright marrow in a dark shell) was found near a lesion."""


class HeadFitError(HeadError):
    """A sphere fitted to a femoral head's surface is implausible (radius, residual, too few points)."""


class LesionOutsideHeadError(HeadError):
    """A lesion lies (partly) outside the femoral head fitted around it: wrong head, or a wrong tracing."""


class HeadPointsError(HeadError):
    """A file of femoral head surface points given by the reader cannot be read."""


class SeedError(OnfhError):
    """A seed point cannot start a lesion tracing: outside the scan, outside a femoral head, on the band."""


class RegistrationUnavailableError(OnfhError):
    """``propagate`` was asked for without SimpleITK installed (the ``register`` extra)."""
