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


class OutputExistsError(OnfhError):
    """Writing would overwrite an existing file and overwriting was not asked for."""


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


class SeedError(OnfhError):
    """A seed point cannot start a lesion tracing: outside the scan, outside a femoral head, on the band."""
