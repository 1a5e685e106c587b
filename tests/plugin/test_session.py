"""The Qt-free tracing session and live readout (no Qt binding is imported: see the last test).

They run on napari's ``ViewerModel``, with edits made through the Labels layer's public API
(``paint``, ``paint_polygon``, ``data_setitem``, ``undo``, ``redo``). Expected pixel counts are
counted here with numpy on the layer's array; volumes come from the sample protocol (1.6 x 1.6 mm
pixels, 4.0 mm thick slices).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import SAMPLES, copy_sample
from napari.components import ViewerModel

from napari_onfh_volume.band_fill import Proposal, accept
from napari_onfh_volume.layers import lesion_layer, scan_layer, scan_of
from napari_onfh_volume.provenance import BAND_FILL, FILL_BETWEEN, slice_sources
from napari_onfh_volume.session import TracingSession
from napari_onfh_volume.tools import set_pixels
from onfh_volume import load_scan
from onfh_volume.outline_fill import interpolate_between_slices

SQUARE = [(4, 90, 50), (4, 90, 69), (4, 109, 69), (4, 109, 50)]  # 20 x 20 pixels on slice 4


class Answers:
    """A reader who answers each question with the next of ``answers`` and remembers the questions."""

    def __init__(self, *answers: bool) -> None:
        self.answers, self.asked = list(answers), []

    def __call__(self, title: str, question: str) -> bool:
        self.asked.append(title)
        return self.answers.pop(0)


def open_scan(viewer: ViewerModel, folder: Path) -> None:
    data, kwargs, _kind = scan_layer(load_scan(folder))
    viewer.add_image(data, **kwargs)


@pytest.fixture
def session(tmp_path: Path) -> TracingSession:
    viewer = ViewerModel()
    folder, _mask = copy_sample(tmp_path, "sub-02", "baseline")
    open_scan(viewer, folder)
    session = TracingSession(viewer, ask=Answers())
    session.refresh()
    session.create_lesion_layer()
    return session


def counts(session: TracingSession, label: int) -> np.ndarray:
    return next(lesion.pixel_counts for lesion in session.readout.lesions() if lesion.label == label)


def truth(session: TracingSession, label: int) -> np.ndarray:
    data = np.asarray(session.lesions.data)
    return np.array([(data[k] == label).sum() for k in range(len(data))])


def test_readout_follows_edits_undo_and_redo_through_public_events(session: TracingSession) -> None:
    layer = session.lesions
    layer.paint_polygon(SQUARE, 1)
    layer.data_setitem((np.full(5, 6), np.full(5, 100), np.arange(150, 155)), 2)
    layer.brush_size = 5
    layer.paint((8, 100, 60), 1)
    for label in (1, 2):
        np.testing.assert_array_equal(counts(session, label), truth(session, label))
    assert counts(session, 1)[4] == 400
    layer.undo()  # the brush dab
    layer.undo()  # the five pixels of label 2
    np.testing.assert_array_equal(counts(session, 1), truth(session, 1))
    assert counts(session, 2).sum() == 0
    layer.redo()
    np.testing.assert_array_equal(counts(session, 2), truth(session, 2))
    assert counts(session, 2)[6] == 5


def test_undoing_every_edit_leaves_nothing_unsaved_and_no_autosave(session: TracingSession) -> None:
    assert not session.unsaved and session.autosave() is None
    session.lesions.paint_polygon(SQUARE, 1)
    assert session.unsaved
    path = session.autosave()
    assert path is not None and path.is_file()
    session.lesions.undo()
    assert not session.unsaved
    assert session.autosave() is None
    assert not path.exists()  # the recovery file of an undone tracing is gone


def test_declined_recovery_is_not_offered_again(session: TracingSession) -> None:
    session.lesions.paint_polygon(SQUARE, 1)
    session.autosave()
    folder = Path(scan_of(session.lesions).source)

    declining = ViewerModel()
    reader = Answers(False)
    second = TracingSession(declining, ask=reader)
    open_scan(declining, folder)
    second.refresh()
    assert reader.asked == ["Recover tracing?"] and second.lesions is None

    third_viewer = ViewerModel()
    third = TracingSession(third_viewer, ask=Answers())  # any question would fail: none is left
    open_scan(third_viewer, folder)
    assert third.refresh() == []


def test_accepted_recovery_restores_the_tracing_as_unsaved(session: TracingSession) -> None:
    session.lesions.paint_polygon(SQUARE, 1)
    session.autosave()
    viewer = ViewerModel()
    again = TracingSession(viewer, ask=Answers(True))
    open_scan(viewer, Path(scan_of(session.lesions).source))
    [message] = again.refresh()
    assert message.startswith("Recovered")
    np.testing.assert_array_equal(again.lesions.data, session.lesions.data)
    assert again.unsaved


def test_a_mask_opened_from_a_file_is_adopted_by_the_chosen_scan_on_its_grid() -> None:
    viewer = ViewerModel()
    for timepoint in ("baseline", "followup"):  # sub-02's two scans share one grid
        open_scan(viewer, SAMPLES / "dicom/sub-02" / timepoint)
    mask_scan = load_scan(SAMPLES / "masks/sub-02_baseline_lesions.nii.gz")
    data, kwargs, _kind = lesion_layer(mask_scan, mask_scan.voxels.astype(np.uint8))
    session = TracingSession(viewer, ask=Answers())
    session.choose_scan("sub-02 followup")
    mask = viewer.add_labels(data, **kwargs)
    session.refresh()
    assert scan_of(mask).source.endswith("followup")
    assert session.lesions is mask


def _fill_between_slices_3_and_7(layer) -> None:
    """Trace slices 3 and 7, then fill between them as the Fill between slices tool does."""
    for k in (3, 7):
        layer.paint_polygon([(k, 90, 50), (k, 90, 69), (k, 109, 69), (k, 109, 50)], 1)
    pixels = interpolate_between_slices(np.asarray(layer.data), 1)
    slice_sources(layer).mark(FILL_BETWEEN, 1, pixels)
    set_pixels(layer, pixels, 1)


def test_saving_without_a_reader_asks_and_records_interpolated_slices(
    session: TracingSession, tmp_path: Path
) -> None:
    layer = session.lesions
    _fill_between_slices_3_and_7(layer)
    target = tmp_path / "out" / "traced.nii.gz"

    session.ask = Answers(False)
    assert session.save(target, reader="") is None and not target.exists()
    session.ask = Answers(True)
    paths, _measurement = session.save(target, reader="")
    assert session.ask.asked == ["Save without a reader?"]
    [lesion] = json.loads(paths.json.read_text())["lesions"]
    assert lesion["interpolated_slices"] == [4, 5, 6]
    assert not session.unsaved

    session.detach()
    session.lesions = None
    session.viewer.layers.remove(layer)
    reopened = session.load_mask(target)
    assert session.aided_slices() == {FILL_BETWEEN: {1: [4, 5, 6]}}
    assert reopened.data[5].any()


def band_fill_proposal(layer, label: int, slices: range) -> Proposal:
    """A proposed lesion: a 12 x 12 square on each of ``slices`` (what Band fill would propose)."""
    mask = np.zeros(np.shape(layer.data), dtype=bool)
    mask[list(slices), 100:112, 150:162] = True
    return Proposal(mask, label, list(slices))


def slices_holding(layer, label: int) -> list[int]:
    return np.flatnonzero((np.asarray(layer.data) == label).any(axis=(1, 2))).tolist()


def test_band_fill_marks_the_slices_it_wrote_and_a_brush_edit_keeps_the_mark(session: TracingSession) -> None:
    layer = session.lesions
    layer.paint_polygon([(5, 100, 150), (5, 100, 153), (5, 103, 153), (5, 103, 150)], 2)  # traced first
    accept(layer, band_fill_proposal(layer, 2, range(3, 8)))
    written = [k for k in slices_holding(layer, 2) if k != 5]
    assert written == [3, 4, 6, 7]
    assert session.aided_slices() == {BAND_FILL: {2: written}}
    layer.brush_size = 3
    layer.paint((4, 106, 165), 2)  # the reader corrects a band-filled slice by hand
    layer.paint((9, 106, 165), 2)  # and traces a slice of their own
    assert session.aided_slices() == {BAND_FILL: {2: written}}


def test_undo_drops_the_band_fill_marks_redo_restores_them_and_a_hand_trace_is_not_claimed(
    session: TracingSession,
) -> None:
    layer = session.lesions
    accept(layer, band_fill_proposal(layer, 1, range(2, 6)))
    assert session.aided_slices() == {BAND_FILL: {1: [2, 3, 4, 5]}}
    layer.undo()
    assert not np.asarray(layer.data).any() and session.aided_slices() == {}
    layer.redo()
    assert session.aided_slices() == {BAND_FILL: {1: [2, 3, 4, 5]}}
    layer.undo()
    layer.paint_polygon([(3, 100, 150), (3, 100, 161), (3, 111, 161), (3, 111, 150)], 1)  # traced by hand
    assert slices_holding(layer, 1) == [3]
    assert session.aided_slices() == {}


def test_marks_survive_choosing_another_scan_and_back(session: TracingSession, tmp_path: Path) -> None:
    layer = session.lesions
    accept(layer, band_fill_proposal(layer, 1, range(2, 4)))
    first = session.scan_name
    folder, _mask = copy_sample(tmp_path / "other", "sub-02", "followup")
    open_scan(session.viewer, folder)
    session.choose_scan("sub-02 followup")
    assert session.lesions is None and session.aided_slices() == {}
    session.choose_scan(first)
    assert session.lesions is layer
    assert session.aided_slices() == {BAND_FILL: {1: [2, 3]}}


def test_the_brush_still_paints_after_the_tracing_is_shown_again(
    session: TracingSession, tmp_path: Path
) -> None:
    """Showing a tracing that is already visible must not take its brush away (napari's visible
    setter puts a layer in pan/zoom mode when it was not hidden before)."""
    layer = session.lesions
    assert layer.mode == "paint"
    first = session.scan_name
    folder, _mask = copy_sample(tmp_path / "other", "sub-02", "followup")
    open_scan(session.viewer, folder)
    for name in (first, first, "sub-02 followup", first):
        session.choose_scan(name)
        assert layer.mode == "paint"


def test_both_aids_are_saved_and_restored_with_the_mask(session: TracingSession, tmp_path: Path) -> None:
    layer = session.lesions
    _fill_between_slices_3_and_7(layer)
    accept(layer, band_fill_proposal(layer, 2, range(6, 9)))
    expected = {FILL_BETWEEN: {1: [4, 5, 6]}, BAND_FILL: {2: [6, 7, 8]}}
    assert session.aided_slices() == expected
    target = tmp_path / "out" / "traced.nii.gz"
    paths, _measurement = session.save(target, reader="Dr Reader")
    lesions = {lesion["label"]: lesion for lesion in json.loads(paths.json.read_text())["lesions"]}
    assert [lesions[1]["interpolated_slices"], lesions[1]["band_fill_slices"]] == [[4, 5, 6], []]
    assert [lesions[2]["interpolated_slices"], lesions[2]["band_fill_slices"]] == [[], [6, 7, 8]]

    session.detach()
    session.lesions = None
    session.viewer.layers.remove(layer)
    session.load_mask(target)
    assert session.aided_slices() == expected


def test_the_session_and_readout_import_no_qt() -> None:
    code = (
        "import sys\n"
        "import napari_onfh_volume.session, napari_onfh_volume.readout\n"
        "from napari.components import ViewerModel\n"
        "ViewerModel()\n"
        "bound = [m for m in sys.modules if m.split('.')[0] in ('qtpy', 'PyQt5', 'PyQt6', 'PySide2', 'PySide6')]\n"
        "assert not bound, bound\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_pixels_written_with_no_event_are_counted_before_a_save(
    session: TracingSession, tmp_path: Path
) -> None:
    """Issue 18, bug 1: napari's staged right-button stroke wrote pixels the readout never counted."""
    layer = session.lesions
    layer.paint_polygon(SQUARE, 1)
    np.asarray(layer.data)[7, 150:160, 150:160] = 2  # staged by a tool, no paint event
    _paths, measurement = session.save(tmp_path / "traced.nii.gz", reader="AB")
    shown = {
        lesion.label: lesion.volume_thickness_cm3
        for lesion in session.readout.lesions()
        if lesion.traced_slices
    }
    saved = {lesion.label: lesion.volume_thickness_cm3 for lesion in measurement.lesions}
    assert shown == saved and set(saved) == {1, 2}
    assert shown[2] == pytest.approx(
        100 * np.prod(scan_of(layer).pixel_spacing) * scan_of(layer).slice_thickness / 1000
    )
