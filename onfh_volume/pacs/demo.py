"""``make demo``'s round trip: a local Orthanc, a study pushed to it, pulled, measured, SEG and report sent back.

Run as ``python -m onfh_volume.pacs.demo [--no-server]``. Every step is the ``onfh-volume``
command a user types (printed before it runs). With ``--no-server`` (or without Orthanc installed)
the report is written locally and its content shown.
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import sys
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

SAMPLE = Path("sample_scans/dicom/sub-01/baseline")
MASK = Path("sample_scans/masks/sub-01_baseline_lesions.nii.gz")


def _step(console: Console, *argv: object) -> None:
    from ..cli import main

    words = [str(a) for a in argv]
    console.print(f"$ onfh-volume {shlex.join(words)}", style="bold", soft_wrap=True, markup=False)
    code = main(words)
    if code:
        sys.exit(code)


def _contents(console: Console, path: Path) -> None:
    from ..sr.contents import report_rows

    table = Table(title=f"the report's measurement groups ({path.name}, read back with highdicom)")
    for column in ("tracking identifier", "concept (or method)", "value", "unit"):
        table.add_column(column)
    for row in report_rows(path):
        table.add_row(row.group, row.concept, row.value, row.unit)
    console.print(table)


def round_trip(console: Console, work: Path) -> None:
    """Push the sample study to a local Orthanc, pull it, measure it, send SEG and report, read the report back."""
    import pydicom
    from dicomweb_client.api import DICOMwebClient

    from .orthanc import local_orthanc

    study = str(pydicom.dcmread(next(SAMPLE.iterdir()), stop_before_pixels=True).StudyInstanceUID)
    with local_orthanc() as orthanc:
        url = orthanc.dicomweb_url
        console.print(f"Orthanc with DICOMweb at {url} (storage in a temporary folder)")
        _step(console, "push", "--pacs", url, SAMPLE)
        _step(console, "pull", "--pacs", url, "--study", study, "-o", work / "pulled")
        series = next((work / "pulled").iterdir())
        _step(console, "measure", series, MASK)
        _step(console, "export-seg", series, MASK, "-o", work / "lesions-seg.dcm", "--send", url)
        _step(
            console,
            "export-sr",
            series,
            MASK,
            "-o",
            work / "report.dcm",
            "--seg",
            work / "lesions-seg.dcm",
            "--send",
            url,
        )
        sent = pydicom.dcmread(work / "report.dcm", stop_before_pixels=True)
        back = DICOMwebClient(url).retrieve_instance(
            study, str(sent.SeriesInstanceUID), str(sent.SOPInstanceUID)
        )
        back.save_as(work / "report-from-pacs.dcm", enforce_file_format=True)
        _contents(console, work / "report-from-pacs.dcm")


def local_only(console: Console, work: Path) -> None:
    """No server: write the report next to a temporary SEG and show its content."""
    _step(console, "export-seg", SAMPLE, MASK, "-o", work / "lesions-seg.dcm")
    _step(console, "export-sr", SAMPLE, MASK, "-o", work / "report.dcm", "--seg", work / "lesions-seg.dcm")
    _contents(console, work / "report.dcm")


def main(argv: list[str] | None = None) -> None:
    """Run the round trip (or, with ``--no-server``, only the report)."""
    parser = argparse.ArgumentParser(prog="python -m onfh_volume.pacs.demo", description=__doc__)
    parser.add_argument("--no-server", action="store_true", help="no Orthanc: write the report and show it")
    args = parser.parse_args(argv)
    console = Console()
    with tempfile.TemporaryDirectory(prefix="onfh-pacs-demo-") as folder:
        if args.no_server or shutil.which("Orthanc") is None:
            local_only(console, Path(folder))
        else:
            round_trip(console, Path(folder))


if __name__ == "__main__":
    main()
