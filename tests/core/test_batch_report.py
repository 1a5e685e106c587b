"""The batch's HTML report: one self-contained page with the waterfall plot, counts and full table."""

from __future__ import annotations

import base64
import re
import struct
from pathlib import Path

import pytest
from helpers import SAMPLES

from onfh_volume.batch.report import MAX_NAMED_BARS, render_report, waterfall_png
from onfh_volume.cli import main

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk (read by hand: no image library involved)."""
    assert data.startswith(PNG_SIGNATURE)
    return struct.unpack(">II", data[16:24])


def cells(html: str, table: int) -> list[list[str]]:
    """Text of each body row's cells of the page's ``table``-th table."""
    body = re.findall(r"<tbody>(.*?)</tbody>", html, re.S)[table]
    return [
        re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    ]


def test_sample_cohort_report(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    report = tmp_path / "report.html"
    assert (
        main(["batch", str(SAMPLES / "cohort.csv"), "-o", str(tmp_path / "r.csv"), "--report", str(report)])
        == 0
    )
    capsys.readouterr()
    page = report.read_text(encoding="utf-8")
    # Self-contained: one image, embedded; nothing fetched from elsewhere.
    images = re.findall(r'<img [^>]*src="([^"]+)"', page)
    assert len(images) == 1
    assert images[0].startswith("data:image/png;base64,")
    width, height = png_size(base64.b64decode(images[0].split(",", 1)[1]))
    assert width > 500 and height > 300
    assert not re.search(r'(src|href)="(?!data:)', page)
    assert (
        "Not in the plot (no baseline volume to compare with, or not measured): 1 new lesion, 1 no lesion."
        in page
    )
    # Counts per group: conservative has sub-02 right (increase) and both hips of sub-03.
    counts = {row[0]: row[1:] for row in cells(page, 0)}
    header = re.findall(r"<th>(.*?)</th>", page.split("<tbody>")[0].rsplit("<table>", 1)[1])
    assert header == [
        "group",
        "decrease",
        "no change",
        "increase",
        "new lesion",
        "no lesion",
        "failed",
        "hips",
    ]
    assert counts["conservative"] == ["0", "0", "1", "1", "1", "0", "3"]
    assert counts["core decompression"] == ["1", "1", "0", "0", "0", "0", "2"]
    assert counts["all groups"] == ["1", "1", "1", "1", "1", "0", "5"]
    # The full table: every hip, volumes to the cm³ of 1400 x 1.6 x 1.6 x 4.0 mm etc.
    table = cells(page, 1)
    assert [row[:2] for row in table] == [
        ["sub-01", "right"],
        ["sub-01", "left"],
        ["sub-02", "right"],
        ["sub-03", "right"],
        ["sub-03", "left"],
    ]
    assert table[0][4:8] == [
        f"{1400 * 2.56 * 4 / 1000:.3f}",
        f"{1120 * 2.56 * 4 / 1000:.3f}",
        "-20.0%",
        "decrease",
    ]
    assert table[2][6:9] == ["+15.0%", "increase", "ok"]


def row(
    patient: str, group: str, change: float | None, category: str, status: str = "ok"
) -> dict[str, object]:
    return {
        "patient_id": patient,
        "side": "right",
        "reader": "",
        "group": group,
        "baseline_volume_cm3": 1.0,
        "followup_volume_cm3": None if change is None else 1 + change / 100,
        "change_pct": change,
        "category": category,
        "warnings": "",
        "status": status,
    }


def test_text_is_escaped_and_failed_rows_marked() -> None:
    rows = [
        row("<script>alert(1)</script>", "arm <A> & B", 30.0, "increase"),
        row("P2", "arm <A> & B", None, "", status="baseline: a&b.nii: unreadable <file>"),
    ]
    page = render_report(rows, title="cohort <1>.csv", method="thickness", threshold_pct=15.0)
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "arm &lt;A&gt; &amp; B" in page
    assert "<title>cohort &lt;1&gt;.csv</title>" in page
    assert '<tr class="failed"><td class="">P2</td>' in page
    assert "baseline: a&amp;b.nii: unreadable &lt;file&gt;" in page
    assert "1 failed" in page


def test_plot_of_a_large_cohort_is_wider_than_of_a_few_hips() -> None:
    """Beyond MAX_NAMED_BARS hips the bars are unnamed; the PNG is still drawn at its usual size."""
    many = [row(f"P{k:03d}", "g", float(k % 50 - 25), "no change") for k in range(MAX_NAMED_BARS + 60)]
    few = many[:3]
    width_many, height_many = png_size(waterfall_png(many, 15.0))
    width_few, _ = png_size(waterfall_png(few, 15.0))
    assert width_many > width_few  # a few bars get a narrower figure
    assert height_many > 300
