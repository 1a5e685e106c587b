"""What the commands print: tables built from the model objects, warnings, JSON.

Paths and messages are printed as they are (never read as console markup: a folder named
``[anon]`` must not vanish).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ..vocabulary import METHOD_NAMES

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from ..change import Comparison
    from ..scan import Scan
    from ..volume import Measurement


def number(value: float | None, digits: int = 3) -> str:
    """``value`` with ``digits`` decimals; ``-`` for none.

    Examples
    --------
    >>> number(14.33600001), number(None), number(2.5, 1)
    ('14.336', '-', '2.5')
    """
    return "-" if value is None else f"{value:.{digits}f}"


def plain(console: Console, text: str) -> None:
    """Print ``text`` as it is: no markup, no highlighting, long lines not cut."""
    console.print(text, markup=False, highlight=False, soft_wrap=True)


def warnings(console: Console, notes: Iterable[str]) -> None:
    """One ``warning:`` line per note."""
    for note in notes:
        plain(console, f"warning: {note}")


def print_json(data: Any) -> None:
    """Print ``data`` as JSON; a non-finite number is a bug here, never ``NaN`` in the output."""
    from ..export import to_json

    print(to_json(data))


def _pixel(scan: Scan) -> str:
    return " x ".join(f"{v:.4g}" for v in scan.pixel_spacing)


def scan_table(scan: Scan) -> Table:
    """The geometry of a scan, one row per property."""
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=escape(scan.source), show_header=False)
    table.add_column("what")
    table.add_column("value", overflow="fold")
    table.add_row("shape (slices, rows, columns)", " x ".join(map(str, scan.shape)))
    table.add_row("pixel spacing (row, column)", f"{_pixel(scan)} mm")
    table.add_row("slice thickness", number(scan.slice_thickness, 4) + " mm")
    table.add_row("slice spacing (centre to centre)", number(scan.slice_spacing, 4) + " mm")
    table.add_row("orientation (slice, row, column)", scan.orientation)
    table.add_row("SeriesInstanceUID", scan.series_uid or "-")
    return table


def lesion_table(measurement: Measurement, mask: str) -> Table:
    """One row per lesion: label, side, traced slices and both volumes."""
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=escape(f"{mask} on {measurement.scan.source}"))
    table.add_column("label", justify="right")
    table.add_column("side")
    table.add_column("slices", justify="right")
    table.add_column("area x thickness (cm³)", justify="right")
    table.add_column("Cavalieri (cm³)", justify="right")
    for lesion in measurement.lesions:
        indices = [index for index, _ in lesion.traced_slices()]
        table.add_row(
            str(lesion.label),
            lesion.side,
            f"{min(indices)}-{max(indices)} ({len(indices)})",
            number(lesion.volume_thickness_cm3),
            number(lesion.volume_cavalieri_cm3),
        )
    return table


def geometry_line(measurement: Measurement) -> str:
    """The slice geometry a measurement used, and the formula of its volume."""
    scan = measurement.scan
    return (
        f"slice thickness {number(scan.slice_thickness, 4)} mm, slice spacing "
        f"{number(scan.slice_spacing, 4)} mm, pixel {_pixel(scan)} mm; volume = Σ area x "
        f"{METHOD_NAMES[measurement.method].slice_length}"
    )


def area_table(measurement: Measurement) -> Table:
    """Traced area (mm²) per slice, one column per lesion."""
    from rich.table import Table

    table = Table(title="traced area per slice (mm²)")
    table.add_column("slice", justify="right")
    for lesion in measurement.lesions:
        table.add_column(f"label {lesion.label} ({lesion.side})", justify="right")
    by_lesion = [dict(lesion.traced_slices()) for lesion in measurement.lesions]
    for index in sorted({index for areas in by_lesion for index in areas}):
        table.add_row(str(index), *(number(areas.get(index), 1) for areas in by_lesion))
    return table


def change_table(comparison: Comparison) -> Table:
    """One row per hip: volumes at both timepoints, change and category."""
    from rich.table import Table

    name = METHOD_NAMES[comparison.method].short
    table = Table(title=f"change per hip ({name} volume, threshold ±{comparison.threshold_pct:g}%)")
    table.add_column("hip")
    table.add_column("baseline (cm³)", justify="right")
    table.add_column("follow-up (cm³)", justify="right")
    table.add_column("change", justify="right")
    table.add_column("category")
    for hip in comparison.hips:
        change = hip.change
        percent = "-" if change is None or change.change_pct is None else f"{change.change_pct:+.1f}%"
        table.add_row(
            hip.side,
            number(None if hip.baseline is None else hip.baseline.volume(hip.method)),
            number(None if hip.followup is None else hip.followup.volume(hip.method)),
            percent,
            "-" if change is None else change.category,
        )
    return table
