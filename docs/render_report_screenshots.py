"""Pictures of the agreement and statistics reports for the README (headless Chromium).

Runs ``agreement``, ``batch`` and ``stats`` on the two-reader sample cohort into build/two-readers/
(as ``make demo`` does), then renders each HTML report to a PNG in docs/images/. Needs ``chromium`` on the PATH
(Debian: ``apt-get install chromium``). From the repository root:
``.venv/bin/python docs/render_report_screenshots.py``.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from onfh_volume.cli import main as onfh_volume

ROOT = Path(__file__).resolve().parent.parent
IMAGES = ROOT / "docs" / "images"
# Relative paths, as a user types them: the reports name their inputs.
MANIFEST = "sample_scans/cohort-two-readers.csv"
OUT = Path("build/two-readers")


def screenshot(page: Path, png: Path, height: int) -> None:
    """Render ``page`` at 1200 px wide to ``png``."""
    subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         f"--screenshot={png}", f"--window-size=1200,{height}", page.as_uri()],
        check=True, capture_output=True,
    )  # fmt: skip


def main() -> None:
    os.chdir(ROOT)
    report, results, stats = OUT / "agreement.html", OUT / "results.csv", OUT / "stats.html"
    assert onfh_volume(["agreement", MANIFEST, "--report", str(report), "--force"]) == 0
    assert onfh_volume(["batch", MANIFEST, "-o", str(results), "--quiet", "--force"]) == 0
    argv = ["stats", str(results), "--reader", "R1", "--event", "collapse", "--time", "followup_months"]
    assert onfh_volume([*argv, "--report", str(stats), "--force"]) == 0
    screenshot(report.resolve(), IMAGES / "agreement-report.png", 1180)
    screenshot(stats.resolve(), IMAGES / "stats-report.png", 1600)


if __name__ == "__main__":
    main()
