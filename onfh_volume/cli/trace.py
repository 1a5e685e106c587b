"""``onfh-volume trace``: one click per lesion, the lesion mask written on the scan grid."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from . import render
from .exit_codes import EXIT_OK
from .options import add_json, add_method, add_series

if TYPE_CHECKING:
    from rich.console import Console


def register(commands: argparse._SubParsersAction) -> None:
    """Add ``trace``."""
    trace = commands.add_parser(
        "trace",
        help="trace each lesion from one point inside it (band and subchondral plate included)",
        description="Trace the necrotic lesion of a femoral head from a point inside it, on every slice, "
        "and write the mask on the scan grid (label 1 right hip lesion, 2 left hip lesion).",
    )
    trace.add_argument("scan")
    trace.add_argument(
        "--seed",
        action="append",
        default=[],
        metavar="X,Y,Z",
        help="a point inside a lesion, patient RAS millimetres; once per lesion",
    )
    trace.add_argument(
        "--seed-voxel",
        action="append",
        default=[],
        metavar="S,R,C",
        help="a point inside a lesion as a voxel index (slice, row, column), as `info` reports the grid",
    )
    trace.add_argument("-o", "--output", required=True, metavar="MASK.nii.gz", help="mask file to write")
    trace.add_argument("--force", action="store_true", help="replace MASK if it exists")
    add_method(trace)
    add_series(trace)
    add_json(trace)
    trace.set_defaults(run=run)


def run(args: argparse.Namespace, out: Console, err: Console) -> int:
    """Trace, write the mask, and print its measurement."""
    from ..errors import SeedError
    from ..export import measurement_dict
    from ..load import load_scan
    from ..measure_files import measure_file
    from ..trace.contrast import contrast_notes
    from ..trace.lesions import edge_notes, write_traced_mask
    from ..trace.seeds import check_voxel, parse_triplet, voxel_of_ras
    from ..volume import check_method

    if not args.seed and not args.seed_voxel:
        raise SeedError(None, "give at least one point inside a lesion: --seed X,Y,Z or --seed-voxel S,R,C")
    scan = load_scan(args.scan, series=args.series)
    check_method(scan, args.method)  # before anything is traced or written
    seeds = [voxel_of_ras(scan, parse_triplet(text, "--seed")) for text in args.seed]
    seeds += [check_voxel(scan, parse_triplet(text, "--seed-voxel")) for text in args.seed_voxel]
    path, tracings = write_traced_mask(scan, seeds, args.output, overwrite=args.force)
    measurement = measure_file(scan, path, args.method)
    measurement.warnings += edge_notes(scan, tracings) + contrast_notes(scan, tracings)
    if args.json:
        render.print_json(measurement_dict(measurement, mask=str(path)))
        return EXIT_OK
    out.print(render.lesion_table(measurement, str(path)))
    render.plain(out, render.geometry_line(measurement))
    render.warnings(err, measurement.warnings)
    return EXIT_OK
