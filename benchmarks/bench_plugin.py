"""Benchmark of the napari plugin: live readout after a brush stroke, and "Fill between slices".

Runs in a real napari viewer (under Xvfb with ``make bench``) with the "Lesion volume" widget
docked, on a synthetic 40 x 512 x 512 DICOM series written to a temporary folder and loaded with
``load_scan``, exactly as a reader's scan would be.

Targets (issue):

* readout update after a brush stroke: median under 20 ms (the stroke's commit, which emits
  napari's ``paint`` event and runs the readout and fills its tables synchronously; the Qt event
  processing that follows, i.e. the window's repaint, is reported apart and end to end);
* "Fill between slices" with 6 traced slices: under 1 s (warm: ITK already loaded).

Each figure is compared in the same run with what a user would otherwise do: recompute the whole
measurement (``onfh_volume.measure``) after every stroke, and ITK's interpolation on its own.
Figures go to ``docs/performance/plugin.md``; the script exits 1 when a target is missed.
"""

from __future__ import annotations

import cProfile
import datetime as dt
import itertools
import json
import os
import platform
import pstats
import subprocess
import sys
import tempfile
import textwrap
import time
import warnings
from importlib.metadata import version
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
OUTPUT = REPO / "docs" / "performance" / "plugin.md"

READOUT_TARGET_MS = 20.0
FILL_TARGET_S = 1.0

SHAPE = (40, 512, 512)
PIXEL_SPACING = (0.7, 0.7)
THICKNESS = 3.0
SPACING = 3.5
STROKES = 60
CONTROL_STROKES = 20  # strokes with the readout disconnected: napari's own cost
MOVES_PER_STROKE = 25  # mouse-move events of one stroke (napari interpolates between them)
BRUSH_SIZE = 5
PRETRACED = range(15, 25)  # the lesion already traced on 10 slices before the strokes
FILL_TRACED = (5, 9, 13, 17, 21, 25)
FILL_REPEATS = 7

RIGHT, LEFT = 1, 2  # onfh_volume.mask's labels: right hip lesion, left hip lesion
RIGHT_CENTRE = (260, 150)  # (row, column): low columns are the patient's right on a coronal slice
LEFT_CENTRE = (260, 362)


def ms(seconds: float) -> float:
    return 1000.0 * seconds


def stats(samples_s: list[float]) -> dict[str, float]:
    a = np.asarray(samples_s) * 1000.0
    return {
        "n": len(a),
        "median": float(np.median(a)),
        "p95": float(np.percentile(a, 95)),
        "mean": float(a.mean()),
        "max": float(a.max()),
    }


# --- machine ------------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram = f"{int(line.split()[1]) / 1024**2:.1f} GiB"
                break
    except OSError:
        pass

    def v(name: str) -> str:
        try:
            return version(name)
        except Exception:
            return "not installed"

    return {
        "CPU": cpu,
        "Cores (logical, usable)": f"{os.cpu_count()} ({len(os.sched_getaffinity(0))} usable)",
        "RAM": ram,
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
        "napari": v("napari"),
        "ITK": v("itk"),
        "numpy": v("numpy"),
        "scipy": v("scipy"),
        "Qt binding": f"PyQt6 {v('PyQt6')}",
        "Display": f"{os.environ.get('QT_QPA_PLATFORM', 'default')} on "
        f"{'Xvfb' if os.environ.get('DISPLAY') else 'no X display'} (DISPLAY={os.environ.get('DISPLAY', '')})",
        "Date": dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
    }


def code_version() -> dict[str, str]:
    """HEAD and hashes of the files measured (the tree may hold uncommitted changes)."""
    import hashlib

    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        head = "unknown"
    files = {"git HEAD": f"{head} (plus any uncommitted changes: see the hashes)"}
    for name in (
        "plugins/napari_onfh_volume/readout.py",
        "plugins/napari_onfh_volume/_qt/lesion_widget.py",
        "plugins/napari_onfh_volume/_qt/readout_tables.py",
        "plugins/napari_onfh_volume/tools.py",
        "onfh_volume/areas.py",
        "onfh_volume/tracing.py",
    ):
        path = REPO / name
        files[name] = hashlib.sha256(path.read_bytes()).hexdigest()[:12] if path.exists() else "missing"
    return files


# --- synthetic scan and lesions -----------------------------------------------------------------


def write_scan(folder: Path) -> Path:
    """A 40-slice 512 x 512 coronal DICOM series centred left-right on the patient's midline."""
    from onfh_volume.testing.dicom_series import CORONAL, dicom_slices, stack_positions, write_series

    slices, rows, cols = SHAPE
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:rows, :cols]
    body = (((yy - rows / 2) / (rows * 0.45)) ** 2 + ((xx - cols / 2) / (cols * 0.48)) ** 2) < 1
    voxels = np.empty(SHAPE, dtype=np.int16)
    for k in range(slices):
        voxels[k] = np.where(body, 600, 20) + rng.integers(0, 120, (rows, cols))
    row_direction, column_direction = np.array(CORONAL[:3]), np.array(CORONAL[3:])
    centre_offset = (
        row_direction * (cols - 1) / 2 * PIXEL_SPACING[1]
        + column_direction * (rows - 1) / 2 * PIXEL_SPACING[0]
    )
    first = tuple(np.array([0.0, -40.0, 60.0]) - centre_offset)
    write_series(
        folder,
        dicom_slices(
            voxels,
            pixel_spacing=PIXEL_SPACING,
            slice_thickness=THICKNESS,
            positions=stack_positions(first, CORONAL, SPACING, slices),
        ),
    )
    return folder


def ellipse(shape: tuple[int, int], centre: tuple[float, float], radii: tuple[float, float]) -> np.ndarray:
    yy, xx = np.ogrid[: shape[0], : shape[1]]
    return ((yy - centre[0]) / radii[0]) ** 2 + ((xx - centre[1]) / radii[1]) ** 2 <= 1


def fill_lesion() -> np.ndarray:
    """The right hip lesion traced on slices 5, 9, ..., 25: ellipses of radius 30 to 60 px."""
    labels = np.zeros(SHAPE, dtype=np.uint8)
    n = len(FILL_TRACED)
    for i, k in enumerate(FILL_TRACED):
        t = np.sin(np.pi * (i + 0.5) / n)  # small, growing, largest in the middle, shrinking
        radius = 30 + 30 * t
        centre = (RIGHT_CENTRE[0] + 4 * (i - n / 2), RIGHT_CENTRE[1] - 3 * (i - n / 2))
        labels[k] = np.where(ellipse(SHAPE[1:], centre, (radius, 0.8 * radius)), RIGHT, 0)
    return labels


def pretraced_lesion() -> np.ndarray:
    """Right hip lesion filled on 10 slices (radius 25 to 45 px), and a smaller left one on 6."""
    labels = np.zeros(SHAPE, dtype=np.uint8)
    for i, k in enumerate(PRETRACED):
        radius = 25 + 20 * np.sin(np.pi * (i + 0.5) / len(PRETRACED))
        labels[k][ellipse(SHAPE[1:], RIGHT_CENTRE, (radius, 0.85 * radius))] = RIGHT
    for k in range(17, 23):
        labels[k][ellipse(SHAPE[1:], LEFT_CENTRE, (20, 18))] = LEFT
    return labels


def stroke_path(index: int, slice_index: int) -> np.ndarray:
    """Mouse positions (slice, row, column) of one outline-tracing stroke: an arc round a hip."""
    rng = np.random.default_rng(index)
    centre = np.array(RIGHT_CENTRE if index % 3 else LEFT_CENTRE, dtype=float) + rng.uniform(-25, 25, 2)
    radius = rng.uniform(30, 60)
    start = rng.uniform(0, 2 * np.pi)
    angles = start + np.linspace(0, rng.uniform(0.8, 1.6) * np.pi, MOVES_PER_STROKE)
    rows = centre[0] + radius * np.sin(angles)
    cols = centre[1] + radius * np.cos(angles)
    return np.column_stack([np.full(MOVES_PER_STROKE, slice_index, dtype=float), rows, cols])


# --- cold start of ITK, in a fresh interpreter ------------------------------------------------------

COLD_SCRIPT = textwrap.dedent(
    """
    import json, sys, time
    t0 = time.perf_counter()
    import numpy as np
    from onfh_volume.tracing import interpolate_between_slices
    t1 = time.perf_counter()
    import itk
    t2 = time.perf_counter()
    labels = np.load(sys.argv[1])
    t3 = time.perf_counter()
    first = interpolate_between_slices(labels, 1)
    t4 = time.perf_counter()
    second = interpolate_between_slices(labels, 1)
    t5 = time.perf_counter()
    print(json.dumps({
        "import_onfh": t1 - t0, "import_itk": t2 - t1, "first_call": t4 - t3,
        "second_call": t5 - t4, "pixels": int(first.sum()), "same": bool((first == second).all()),
    }))
    """
)


def cold_itk(labels_path: Path) -> dict[str, float]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", COLD_SCRIPT, str(labels_path)], capture_output=True, text=True, check=True
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["process"] = time.perf_counter() - started
    return result


# --- profile helpers ------------------------------------------------------------------------------


def _where(file: str) -> str:
    for marker in ("site-packages/", str(REPO) + "/"):
        if marker in file:
            return file.split(marker, 1)[1]
    return file


def top_functions(profile: cProfile.Profile, count: int = 14) -> list[tuple[str, int, float, float]]:
    """(function, calls, cumulative ms, own ms) of the costliest functions, by cumulative time."""
    rows = []
    for (file, line, name), (_cc, calls, own, cum, _callers) in pstats.Stats(profile).stats.items():
        if name == "<method 'disable' of '_lsprof.Profiler' objects>":
            continue
        where = name if file == "~" else f"{_where(file)}:{line} {name}"
        rows.append((where, calls, 1000 * cum, 1000 * own))
    rows.sort(key=lambda row: -row[2])
    return rows[:count]


def reflow(markdown: str, width: int = 100) -> str:
    """Rewrap prose paragraphs and bullet items (the figures make their lines uneven); keep the rest."""
    out: list[str] = []
    block: list[str] = []

    def flush() -> None:
        if block:
            bullet = block[0].startswith("* ")
            text = " ".join(line.strip() for line in block)
            if bullet:
                out.extend(textwrap.wrap(text[2:], width, initial_indent="* ", subsequent_indent="  "))
            else:
                out.extend(textwrap.wrap(text, width))
            block.clear()

    for line in markdown.splitlines():
        prose = line.strip() and not line.startswith(("#", "|"))
        if not prose:
            flush()
            out.append(line)
        elif line.startswith("* ") or (not block and not line.startswith(" ")):
            flush()
            block.append(line)
        else:
            block.append(line)
    flush()
    return "\n".join(out) + "\n"


# --- the benchmark --------------------------------------------------------------------------------


def main() -> int:
    wall_start = time.perf_counter()

    def progress(what: str) -> None:
        print(f"[{time.perf_counter() - wall_start:5.1f} s] {what} ...", flush=True)

    load_start = os.getloadavg()
    code = code_version()  # before anything runs: the tree is being edited by others meanwhile
    catcher = warnings.catch_warnings(record=True)
    caught = catcher.__enter__()
    warnings.simplefilter("default")  # each distinct warning once
    tmp = tempfile.TemporaryDirectory(prefix="onfh-bench-plugin-")
    work = Path(tmp.name)
    os.environ["ONFH_VOLUME_DATA"] = str(work / "user-data")  # never touch a real recovery folder

    import napari
    from qtpy.QtWidgets import QApplication

    from napari_onfh_volume.layers import scan_layer
    from onfh_volume import load_scan, measure, tracing

    progress("writing a 40 x 512 x 512 DICOM series")
    t = time.perf_counter()
    folder = write_scan(work / "bench-scan" / "baseline")
    write_s = time.perf_counter() - t
    t = time.perf_counter()
    scan = load_scan(folder)
    load_s = time.perf_counter() - t
    assert scan.shape == SHAPE, scan.shape

    # Cold ITK first, in its own interpreter, while nothing else runs.
    np.save(work / "fill_labels.npy", fill_lesion())
    progress("cold start of ITK in a fresh interpreter")
    cold = cold_itk(work / "fill_labels.npy")

    progress("starting napari")
    t = time.perf_counter()
    viewer = napari.Viewer(title="onfh-volume benchmark")
    app = QApplication.instance()
    _dock, widget = viewer.window.add_plugin_dock_widget("onfh-volume", "Lesion volume")
    widget.autosave_timer.stop()  # a 10 MB NIfTI written every 20 s would land inside a timing
    data, kwargs, _kind = scan_layer(scan)
    viewer.add_image(data, **kwargs)
    created = widget.create_lesion_layer()
    assert created is not None and widget.readout is not None
    # The widget gets napari's PublicOnlyProxy of the viewer (add_labels returns a proxied layer);
    # strokes are driven on the layer itself, as napari's own mouse binding does.
    layer = viewer.layers[created.name]
    assert getattr(widget.readout.layer, "__wrapped__", widget.readout.layer) is layer
    layer.brush_size = BRUSH_SIZE
    layer.mode = "paint"
    viewer.window._qt_window.resize(1600, 1000)
    for _ in range(5):
        app.processEvents()
    startup_s = time.perf_counter() - t
    readout = widget.readout

    # Instrumentation, without changing what runs: the readout's paint handler and the widget's
    # table update are wrapped in timers, and so is ITK's filter inside the fill.
    timers = {"handler": 0.0, "tables": 0.0, "itk": 0.0}
    handler = readout._on_paint
    layer.events.paint.disconnect(handler)

    def timed_handler(event) -> None:
        t = time.perf_counter()
        handler(event)
        timers["handler"] += time.perf_counter() - t

    layer.events.paint.connect(timed_handler)
    tables = readout.changed

    def timed_tables(slices) -> None:
        t = time.perf_counter()
        tables(slices)
        timers["tables"] += time.perf_counter() - t

    readout.changed = timed_tables
    itk_filter = tracing._morphological_contour_interpolation

    def timed_itk(binary: np.ndarray) -> np.ndarray:
        t = time.perf_counter()
        out = itk_filter(binary)
        timers["itk"] += time.perf_counter() - t
        return out

    tracing._morphological_contour_interpolation = timed_itk

    def reset_timers() -> None:
        for key in timers:
            timers[key] = 0.0

    def check_tables() -> int:
        """The widget's slice table and summary show what measuring from scratch gives."""
        full = measure(scan, np.asarray(layer.data))
        shown = [lesion.label for lesion in readout.lesions()]
        cells = 0
        for lesion in full.lesions:
            column = 1 + shown.index(lesion.label)
            for k in range(SHAPE[0]):
                item = widget.slice_table.item(k, column)
                area = lesion.slice_areas_mm2[k]
                expected = f"{area:.1f}" if area else ""
                assert item is not None and item.text() == expected, (k, lesion.label, item and item.text())
                cells += 1
            volume = widget.summary.item(shown.index(lesion.label), 1).text()
            assert volume == f"{lesion.volume_thickness_cm3:.3f}", (lesion.label, volume)
        return cells

    progress("brush strokes")
    # --- 1. readout after a brush stroke -----------------------------------------------------------
    layer.data = pretraced_lesion()  # napari's data event: the readout recounts everything
    app.processEvents()
    assert readout.lesions()[0].traced_slices == len(PRETRACED)
    cells_checked = check_tables()

    # Every fourth stroke is a control: the same kind of stroke with the readout disconnected, i.e.
    # what napari costs on its own (commit, canvas repaint). Interleaved, so load drifts hit both.
    kinds = ["plugin" if i % 4 != 3 else "control" for i in range(STROKES + CONTROL_STROKES)]
    assert kinds.count("plugin") == STROKES and kinds.count("control") == CONTROL_STROKES
    draw_s, commit_s, events_s, total_s, model_s, qt_s, napari_s, naive_s = ([] for _ in range(8))

    control_commit_s, control_events_s, control_total_s = [], [], []
    commit_cpu_s, naive_cpu_s = [], []  # main-thread CPU time: less inflated by other processes
    for i, kind in enumerate(kinds):
        k = (7 * i + 3) % SHAPE[0]  # every slice, in a jumping order
        viewer.dims.set_current_step(0, k)  # the reader goes to the slice (not timed)
        app.processEvents()
        path = stroke_path(i, k)
        label = RIGHT if i % 3 else LEFT
        layer.selected_label = label
        edits = readout.edits
        undo_items = len(layer._undo_history)
        if kind == "control":
            layer.events.paint.disconnect(timed_handler)

        # What napari's mouse binding does: one stroke = one undo item, painted move by move.
        t0 = time.perf_counter()
        layer._begin_stroke()
        last = path[0]
        for coord in path:
            layer._draw(label, last, coord)
            last = coord
        t1 = time.perf_counter()
        reset_timers()
        c1 = time.thread_time()
        layer._commit_stroke()  # emits `paint`: readout update, then summary and slice tables
        c2 = time.thread_time()
        t2 = time.perf_counter()
        app.processEvents()  # the repaints: the dock's tables and napari's canvas (one window flush)
        t3 = time.perf_counter()
        assert len(layer._undo_history) == undo_items + 1, "not one undo item"

        if kind == "control":
            assert readout.edits == edits, "control stroke reached the readout"
            control_commit_s.append(t2 - t1)
            control_events_s.append(t3 - t2)
            control_total_s.append(t3 - t1)
            layer.events.paint.connect(timed_handler)
            layer.data = np.asarray(layer.data)  # napari's data event: the readout recounts (not timed)
            app.processEvents()
            continue

        assert readout.edits == edits + 1, "stroke not seen by the readout"
        draw_s.append(t1 - t0)
        commit_s.append(t2 - t1)
        commit_cpu_s.append(c2 - c1)
        events_s.append(t3 - t2)
        total_s.append(t3 - t1)
        model_s.append(timers["handler"] - timers["tables"])
        qt_s.append(timers["tables"])
        napari_s.append((t2 - t1) - timers["handler"])

        # The naive alternative: measure the whole mask again.
        labels_now = np.asarray(layer.data)
        t0, c0 = time.perf_counter(), time.thread_time()
        measure(scan, labels_now)
        naive_s.append(time.perf_counter() - t0)
        naive_cpu_s.append(time.thread_time() - c0)
        if i % 10 == 9:
            cells_checked += check_tables()
    cells_checked += check_tables()

    # One profiled stroke commit, for the breakdown.
    k = 37
    viewer.dims.set_current_step(0, k)
    app.processEvents()
    layer.selected_label = RIGHT
    layer._begin_stroke()
    path = stroke_path(999, k)
    for a, b in itertools.pairwise(path):
        layer._draw(RIGHT, a, b)
    profile = cProfile.Profile()
    profile.enable()
    layer._commit_stroke()
    profile.disable()
    stroke_profile = top_functions(profile)
    app.processEvents()

    progress("fill between slices")
    # --- 2. fill between slices ----------------------------------------------------------------------
    base = fill_lesion()
    layer.selected_label = RIGHT

    def reset() -> None:
        layer.data = base.copy()  # a fresh array (napari keeps its undo history); the readout recounts
        viewer.dims.set_current_step(0, 15)
        app.processEvents()

    reset()
    undo_items = len(layer._undo_history)  # setting `layer.data` keeps napari's undo history
    t0 = time.perf_counter()
    filled = widget.fill_between()  # first call in this process: loads ITK's filter
    app.processEvents()
    first_fill_s = time.perf_counter() - t0
    assert filled > 0, widget.tool_message.text()
    assert len(layer._undo_history) == undo_items + 1, "fill between is not one undo step"
    cells_checked += check_tables()

    fill_s, fill_events_s, fill_itk_s, fill_handler_s, fill_tables_s = ([] for _ in range(5))
    for _ in range(FILL_REPEATS):
        reset()
        reset_timers()
        t0 = time.perf_counter()
        n = widget.fill_between()
        t1 = time.perf_counter()
        app.processEvents()
        t2 = time.perf_counter()
        assert n == filled
        fill_s.append(t2 - t0)
        fill_events_s.append(t2 - t1)
        fill_itk_s.append(timers["itk"])
        fill_handler_s.append(timers["handler"] - timers["tables"])
        fill_tables_s.append(timers["tables"])

    # Undo restores the traced slices only (one step), and the readout follows.
    layer.undo()
    app.processEvents()
    assert np.array_equal(np.asarray(layer.data), base)
    assert readout.lesions()[0].traced_slices == len(FILL_TRACED)

    # The plain function (ITK's filter timed inside it).
    plain_s, itk_s = [], []
    for _ in range(FILL_REPEATS):
        reset_timers()
        t0 = time.perf_counter()
        pixels = tracing.interpolate_between_slices(base, RIGHT)
        plain_s.append(time.perf_counter() - t0)
        itk_s.append(timers["itk"])
    assert int(pixels.sum()) == filled == cold["pixels"]

    progress("profiles")
    # One profiled fill, for the breakdown of the layer update.
    reset()
    profile = cProfile.Profile()
    profile.enable()
    widget.fill_between()
    profile.disable()
    app.processEvents()
    fill_profile = top_functions(profile)
    tracing._morphological_contour_interpolation = itk_filter

    progress("closing the viewer")
    viewer.close()
    app.processEvents()
    wall_s = time.perf_counter() - wall_start

    # --- report --------------------------------------------------------------------------------------
    catcher.__exit__(None, None, None)
    load_end = os.getloadavg()
    commit, events, total = (stats(x) for x in (commit_s, events_s, total_s))
    plugin_slices = len({(7 * i + 3) % SHAPE[0] for i, kind in enumerate(kinds) if kind == "plugin"})
    readout_t = commit  # the readout and its tables update synchronously inside the commit
    commit_cpu, naive_cpu = stats(commit_cpu_s), stats(naive_cpu_s)
    model, qt, napari_part, naive, draw = (stats(x) for x in (model_s, qt_s, napari_s, naive_s, draw_s))
    control, control_commit, control_events = (
        stats(x) for x in (control_total_s, control_commit_s, control_events_s)
    )
    fill, fill_ev, plain, itk_only = stats(fill_s), stats(fill_events_s), stats(plain_s), stats(itk_s)
    fill_itk, fill_handler, fill_tables = stats(fill_itk_s), stats(fill_handler_s), stats(fill_tables_s)
    readout_ok = readout_t["median"] < READOUT_TARGET_MS
    fill_ok = fill["median"] < 1000 * FILL_TARGET_S
    cold_total = cold["import_itk"] + cold["first_call"]
    info = machine()
    info["Load average (1, 5, 15 min) at start"] = ", ".join(f"{x:.2f}" for x in load_start)
    info["Load average (1, 5, 15 min) at end"] = ", ".join(f"{x:.2f}" for x in load_end)
    ratio_model = naive["median"] / model["median"]
    ratio_readout = naive["median"] / readout_t["median"]
    through_layer = fill["median"] - plain["median"]
    numpy_part = plain["median"] - itk_only["median"]
    other_layer = through_layer - fill_handler["median"] - fill_tables["median"] - fill_ev["median"]
    # Third-party deprecation notices (pydantic, SWIG) are counted, anything else is listed.
    deprecations = {str(w.message) for w in caught if issubclass(w.category, DeprecationWarning)}
    warned = sorted(
        {
            f"{w.category.__name__}: {w.message}"
            for w in caught
            if not issubclass(w.category, DeprecationWarning)
        }
    )
    verdict = {True: "met", False: "MISSED"}

    def row(name: str, s: dict[str, float], digits: int = 2) -> str:
        return f"| {name} | {s['median']:.{digits}f} | {s['p95']:.{digits}f} | {s['max']:.{digits}f} | {s['n']} |"

    header = ["| What | median (ms) | p95 (ms) | max (ms) | n |", "|---|---:|---:|---:|---:|"]
    stroke_rows = [
        row("**Readout update: stroke commit, `layer._commit_stroke()` (target)**", commit),
        row("- napari: undo history, `paint` event dispatch", napari_part),
        row("- readout model: paint handler minus the widget callback (Qt-free)", model),
        row("- widget tables filled: `widget._readout_changed(slices)`", qt),
        row("then `QApplication.processEvents()`: repaint of the window (tables, canvas)", events),
        row("End to end: commit + `processEvents()`", total),
        row("Readout update, main-thread CPU time (`time.thread_time()`)", commit_cpu),
        row("Control, napari alone (readout disconnected): commit + `processEvents()`", control),
        row("- commit", control_commit),
        row("- `processEvents()`", control_events),
        row("**Naive: `onfh_volume.measure(scan, labels)` on the whole mask**", naive),
        row("Naive, main-thread CPU time", naive_cpu),
        row(f"(not timed in the target) painting the stroke: {MOVES_PER_STROKE} `layer._draw` moves", draw),
    ]
    fill_rows = [
        row("**`widget.fill_between()` + `processEvents()` (target)**", fill, 1),
        row("- ITK's filter inside it (`_morphological_contour_interpolation`)", fill_itk, 1),
        row("- readout model (paint handler minus the widget callback)", fill_handler, 1),
        row("- widget tables (`widget._readout_changed`)", fill_tables, 1),
        row("- `processEvents()` after it", fill_ev, 1),
        row("Plain `tracing.interpolate_between_slices(labels, 1)`", plain, 1),
        row("- of which ITK's filter", itk_only, 1),
    ]
    table = "\n".join(header + stroke_rows) + "\n\n" + "\n".join(header + fill_rows)
    print()
    print(table)
    print()
    print(
        f"readout update after a stroke: median {readout_t['median']:.2f} ms, p95 {readout_t['p95']:.2f} ms "
        f"(target < {READOUT_TARGET_MS:g} ms: {verdict[readout_ok]}; main-thread CPU {commit_cpu['median']:.2f} ms); "
        f"readout model {model['median']:.2f} ms; "
        f"naive full measure {naive['median']:.1f} ms = {ratio_model:.0f}x the model, {ratio_readout:.1f}x the "
        f"readout update; end to end with processEvents {total['median']:.1f} ms vs napari alone "
        f"{control['median']:.1f} ms"
    )
    print(
        f"fill between: median {fill['median']:.0f} ms, p95 {fill['p95']:.0f} ms (target < {FILL_TARGET_S:g} s: "
        f"{verdict[fill_ok]}); plain function {plain['median']:.0f} ms (ITK {itk_only['median']:.0f} ms); "
        f"through the layer +{through_layer:.0f} ms (readout model {fill_handler['median']:.0f} ms); cold: "
        f"import itk {cold['import_itk']:.1f} s + first call {cold['first_call']:.1f} s = {cold_total:.1f} s; "
        f"first call in the viewer {first_fill_s:.1f} s"
    )
    print(f"load average at start {load_start[0]:.2f}, at end {load_end[0]:.2f} ({os.cpu_count()} CPUs)")
    print(f"whole benchmark: {wall_s:.0f} s")

    def prof_rows(rows: list[tuple[str, int, float, float]]) -> str:
        return "\n".join(
            f"| `{where}` | {calls} | {cum:.2f} | {own:.2f} |" for where, calls, cum, own in rows
        )

    machine_rows = "\n".join(f"| {key} | {value} |" for key, value in info.items())
    code_rows = "\n".join(f"| `{key}` | {value} |" for key, value in code.items())
    gap = ", ".join(str(k) for k in range(FILL_TRACED[0], FILL_TRACED[-1] + 1) if k not in FILL_TRACED)
    warnings_text = "\n".join("* " + message.replace("`", "'") for message in warned) or "* none"
    warnings_text += f"\n\n(and {len(deprecations)} distinct deprecation notices from third-party packages)"
    busy = (
        f"\n\n**Other work was running**: load average {load_start[0]:.1f} when the benchmark started "
        f"(before it ran anything) on {os.cpu_count()} CPUs, {load_end[0]:.1f} at the end (its own processes "
        "included), so wall times may be inflated by waiting for a CPU. As a gauge: the readout update "
        f"took {commit_cpu['median']:.2f} ms of main-thread CPU time at the median against "
        f"{commit['median']:.2f} ms of wall time (the closer the two, the less other work got in the way)."
        if load_start[0] > 0.75 * (os.cpu_count() or 1)
        else ""
    )
    doc = f"""# Napari plugin: live readout and "Fill between slices"

Generated by `benchmarks/bench_plugin.py` (`make bench`); do not edit by hand. Measured on
{info["Date"]}; the whole script took {wall_s:.0f} s.{busy}

## Targets

| Target | Figure | Result |
|---|---|---|
| Readout update after a brush stroke, 512 x 512 x 40: median < {READOUT_TARGET_MS:g} ms | median {readout_t["median"]:.2f} ms, p95 {readout_t["p95"]:.2f} ms ({STROKES} strokes) | {verdict[readout_ok]} |
| Fill between slices, 512 x 512 x 40, 6 traced slices: < {FILL_TARGET_S:g} s (ITK loaded) | median {fill["median"]:.0f} ms, p95 {fill["p95"]:.0f} ms ({FILL_REPEATS} runs) | {verdict[fill_ok]} |

The readout figure is the stroke's commit (`layer._commit_stroke()`): it emits napari's `paint`
event, on which the readout updates its counts and the widget fills its tables, synchronously,
so when it returns the tables hold the new figures. The `QApplication.processEvents()` that
follows (the window's repaint: the tables and napari's canvas, flushed together) is reported
apart and end to end: it costs about as much with the readout disconnected (control below),
and here, with software OpenGL under Xvfb, napari's own repaint alone takes
{control_events["median"]:.0f} ms at the median.

Compared in the same run:

* **Brush stroke.** Measuring the whole mask again (`onfh_volume.measure`, what a tool without a
  live per-slice readout does after an edit) takes {naive["median"]:.1f} ms (median): **{ratio_model:.0f}x**
  the readout's model update ({model["median"]:.2f} ms) and {ratio_readout:.1f}x the whole readout
  update ({readout_t["median"]:.2f} ms). In main-thread CPU time (less sensitive to other load): readout
  update {commit_cpu["median"]:.2f} ms, `measure` {naive_cpu["median"]:.1f} ms
  ({naive_cpu["median"] / commit_cpu["median"]:.1f}x).
* **Where a stroke's time goes** (medians). Commit {commit["median"]:.2f} ms = napari
  {napari_part["median"]:.2f} ms + readout model {model["median"]:.2f} ms + widget tables
  {qt["median"]:.2f} ms; then `processEvents()` {events["median"]:.2f} ms, for {total["median"]:.2f} ms
  end to end. The same strokes with the
  readout disconnected (control, interleaved with the others) cost {control["median"]:.2f} ms end to end
  (commit {control_commit["median"]:.2f} ms, `processEvents()` {control_events["median"]:.2f} ms).
* **Fill between slices.** The plain `interpolate_between_slices` takes {plain["median"]:.0f} ms, of
  which ITK's filter {itk_only["median"]:.0f} ms and numpy around it (bounding box, masks)
  {numpy_part:.0f} ms. Through the widget and the layer it takes {fill["median"]:.0f} ms, that is
  {through_layer:.0f} ms more: readout model {fill_handler["median"]:.0f} ms, widget tables
  {fill_tables["median"]:.0f} ms, `processEvents()` {fill_ev["median"]:.0f} ms, and {other_layer:.0f} ms
  in napari's `data_setitem` (undo record, view update) and the tool's `np.nonzero`. ITK's filter
  is {100 * fill_itk["median"] / fill["median"]:.0f}% of the widget's time.
* **Cold start** (first fill of a session): `import itk` {cold["import_itk"]:.1f} s, then the first
  `interpolate_between_slices` {cold["first_call"]:.1f} s (ITK loads the filter's modules on first
  use): **{cold_total:.1f} s** in a fresh interpreter; the second call there took
  {1000 * cold["second_call"]:.0f} ms. The first `widget.fill_between()` in the viewer (ITK not yet
  imported in that process) took {first_fill_s:.1f} s.

## Brush stroke → readout ({STROKES} strokes, {CONTROL_STROKES} control strokes)

{chr(10).join(header + stroke_rows)}

## Fill between slices ({FILL_REPEATS} runs after a warm-up)

{chr(10).join(header + fill_rows)}

## Method

* **Scan.** A synthetic coronal DICOM series of {SHAPE[0]} slices of {SHAPE[1]} x {SHAPE[2]} pixels
  ({PIXEL_SPACING[0]} x {PIXEL_SPACING[1]} mm, {THICKNESS:g} mm thick every {SPACING:g} mm), written
  with `onfh_volume.testing.dicom_series` to a temporary folder ({write_s:.1f} s) and loaded with `load_scan`
  ({load_s:.1f} s); added with `viewer.add_image(data, **kwargs)` from `scan_layer(scan)`.
* **Viewer.** A real `napari.Viewer()` (window 1600 x 1000; {info["Display"]}, so OpenGL is Mesa's
  software renderer), the "Lesion volume" widget docked with
  `viewer.window.add_plugin_dock_widget("onfh-volume", "Lesion volume")`, the lesion layer made by
  `widget.create_lesion_layer()`, brush size {BRUSH_SIZE}. Start-up took {startup_s:.1f} s. The
  widget's autosave timer is stopped so that no autosave lands inside a timing. napari hands the
  widget a `PublicOnlyProxy` of the viewer (`create_lesion_layer()` returns a proxied layer); the
  benchmark drives the strokes on the layer itself, as napari's mouse binding does.
* **Brush stroke.** Before the strokes the right hip lesion is filled on the {len(PRETRACED)}
  slices {PRETRACED.start}-{PRETRACED.stop - 1} (and a left one on 6 slices). Each stroke is on
  another slice than the one before (slice (7 i + 3) mod 40, control strokes included: the
  measured strokes fall on {plugin_slices} different slices, inside and outside the traced ones),
  reached with `viewer.dims.set_current_step` (not timed). A stroke does what napari's mouse
  binding does: `layer._begin_stroke()`, {MOVES_PER_STROKE} mouse moves along an arc of radius 30-60 px
  (`layer._draw(label, last, coord)`, which paints with napari's interpolation between moves;
  about 100-170 paint atoms per stroke), then `layer._commit_stroke()`, which appends one undo
  item and emits the layer's `paint` event. On it the readout updates its counts and the widget
  refills its summary and the touched rows of the slice table, synchronously. The script then
  calls `QApplication.processEvents()`. **The target figure is the commit.** Two strokes in
  three use label 1, one label 2. Every stroke is checked to make one undo item and one readout
  update.
* **Split.** The readout's paint handler and the widget's callback (`readout.changed`, i.e.
  `widget._readout_changed`) are wrapped in timers for the whole run (the handler is reconnected
  to the `paint` event through its wrapper); readout model = handler minus callback, napari =
  commit minus handler. The model update is timed where it runs, inside the real commit, rather
  than by calling the readout's private update again (which would count the stroke twice).
* **Control.** Every fourth stroke ({CONTROL_STROKES} in all) is made with the readout's handler
  disconnected, then the readout is resynchronised (`layer.data` set again: a full recount, not
  timed).
* **Naive.** `onfh_volume.measure(scan, labels)` on the full 40 x 512 x 512 mask after each stroke
  (every label on every slice counted, sides from the centroids).
* **Correctness.** Every cell of the slice table and each summary volume was compared with
  `measure` on the layer's data ({cells_checked} cells, before, during and after the strokes and
  after a fill).
* **Fill between.** Label 1 traced on slices {", ".join(map(str, FILL_TRACED))} (ellipses of radius
  30-60 px, growing then shrinking, drifting); {filled} pixels are filled on slices {gap}. Each
  run sets `layer.data` to a fresh copy (not timed), then times `widget.fill_between()` followed
  by `processEvents()`. The fill is checked to make exactly one undo step, and `layer.undo()` to
  restore the traced slices. ITK's filter is timed by wrapping
  `onfh_volume.tracing._morphological_contour_interpolation` in this process.
* **Cold ITK.** `python -c` in a fresh interpreter (no napari): imports `onfh_volume.tracing`
  ({cold["import_onfh"]:.1f} s, not counted), then `import itk`, then the first
  `interpolate_between_slices` on the same labels (whole subprocess {cold["process"]:.1f} s).
* Timings are `time.perf_counter()` wall time; median, 95th percentile (numpy's linear
  interpolation) and maximum.

### Profile of one stroke commit (cProfile: ms, inflated by the profiler)

| Function | calls | cumulative | own |
|---|---:|---:|---:|
{prof_rows(stroke_profile)}

### Profile of one `widget.fill_between()` (cProfile: ms, inflated by the profiler)

| Function | calls | cumulative | own |
|---|---:|---:|---:|
{prof_rows(fill_profile)}

### Warnings raised during the run (other than deprecation notices)

{warnings_text}

## Code measured

| File | sha256 (first 12) |
|---|---|
{code_rows}

## Machine

| | |
|---|---|
{machine_rows}
"""
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(reflow(doc))
    print(f"wrote {OUTPUT.relative_to(REPO)}")
    tmp.cleanup()
    if not (readout_ok and fill_ok):
        print("target missed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
