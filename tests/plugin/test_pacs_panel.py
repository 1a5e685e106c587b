"""The PACS dock against a real Orthanc: search by patient ID, open a series, send the tracing's SEG and report."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import highdicom as hd
import pydicom
import pytest
from dicomweb_client.api import DICOMwebClient
from qtpy.QtCore import Qt

from napari_onfh_volume.layers import is_lesion_layer, is_scan_layer, lesion_layer, scan_of
from onfh_volume import load_mask, load_scan
from onfh_volume.export import measurement_dict
from onfh_volume.measure_files import measure_file
from onfh_volume.pacs.orthanc import Orthanc, local_orthanc
from onfh_volume.pacs.push import push_files

SAMPLES = Path(__file__).resolve().parents[2] / "sample_scans"
FOLLOWUP = SAMPLES / "dicom" / "sub-01" / "followup"
MASK = SAMPLES / "masks" / "sub-01_followup_lesions.nii.gz"


@pytest.fixture(scope="module")
def orthanc() -> Iterator[Orthanc]:
    with local_orthanc() as server:
        push_files(server.dicomweb_url, [SAMPLES / "dicom" / "sub-01" / "baseline", FOLLOWUP])
        yield server


def click(qtbot, button) -> None:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_open_from_pacs_and_send_back(orthanc, make_napari_viewer, qtbot, tmp_path) -> None:
    viewer = make_napari_viewer()
    _dock, widget = viewer.window.add_plugin_dock_widget("onfh-volume", "PACS")
    widget.cache = tmp_path / "cache"
    qtbot.keyClicks(widget.url, orthanc.dicomweb_url)
    qtbot.keyClicks(widget.patient_id, "sub-01")
    click(qtbot, widget.search_button)
    qtbot.waitUntil(lambda: widget.results.count() == 2, timeout=30_000)
    labels = [widget.results.item(i).text() for i in range(2)]
    assert labels[0].startswith("sub-01 2024-01-15 MR") and labels[1].startswith("sub-01 2024-07-16 MR")

    item = widget.results.item(1)  # the follow-up
    qtbot.mouseClick(
        widget.results.viewport(), Qt.MouseButton.LeftButton, pos=widget.results.visualItemRect(item).center()
    )
    click(qtbot, widget.open_button)
    qtbot.waitUntil(lambda: any(is_scan_layer(layer) for layer in viewer.layers), timeout=30_000)
    [scan_layer] = [layer for layer in viewer.layers if is_scan_layer(layer)]
    followup = load_scan(FOLLOWUP)
    assert scan_of(scan_layer).series_uid == followup.series_uid
    assert (scan_layer.data == followup.voxels).all()

    # The reader's tracing: a lesion layer on the scan opened from the PACS.
    data, meta, _ = lesion_layer(scan_of(scan_layer), load_mask(MASK, followup))
    lesions = viewer.add_labels(data, **meta)
    assert is_lesion_layer(lesions)
    qtbot.keyClicks(widget.reader, "JD")
    click(qtbot, widget.send_button)
    qtbot.waitUntil(lambda: widget.status.text().startswith(("Sent", "Refused")), timeout=60_000)
    assert widget.status.text().startswith("Sent"), widget.status.text()

    web = DICOMwebClient(orthanc.dicomweb_url)
    study = str(pydicom.dcmread(next(FOLLOWUP.iterdir()), stop_before_pixels=True).StudyInstanceUID)
    modalities = {
        item["00080060"]["Value"][0]: item["0020000E"]["Value"][0]
        for item in web.search_for_series(study_instance_uid=study, fields=["Modality"])
    }
    assert {"MR", "SEG", "SR"} <= set(modalities)
    [report] = web.retrieve_series(study, modalities["SR"])
    report_path = tmp_path / "report.dcm"
    report.save_as(report_path, enforce_file_format=True)
    groups = hd.sr.MeasurementReport.from_sequence(
        [hd.sr.srread(report_path)]
    ).get_volumetric_roi_measurement_groups()
    expected = measurement_dict(measure_file(followup, MASK, "thickness", heads=True))["lesions"]
    compared = 0
    for group, lesion in zip(groups, expected, strict=True):
        values = {(m.method or m.name).meaning: m.value for m in group.get_measurements()}
        assert values["Sum of traced area x slice thickness"] == lesion["volume_thickness_cm3"]
        assert values["Cavalieri: sum of traced area x slice spacing"] == lesion["volume_cavalieri_cm3"]
        assert values["Necrotic ratio of the femoral head volume"] == lesion["necrotic_ratio_pct"]
        assert values["Kerboul combined necrotic angle"] == lesion["kerboul_angle_deg"]["combined"]
        compared += 4
    assert compared == 8


def test_a_refusal_is_one_line_in_the_dock(make_napari_viewer, qtbot) -> None:
    viewer = make_napari_viewer()
    _dock, widget = viewer.window.add_plugin_dock_widget("onfh-volume", "PACS")
    qtbot.keyClicks(widget.url, "http://127.0.0.1:9/dicom-web")
    qtbot.keyClicks(widget.accession, "A123")
    click(qtbot, widget.search_button)
    qtbot.waitUntil(lambda: widget.status.text().startswith("Refused"), timeout=30_000)
    assert "cannot reach the server" in widget.status.text() and widget.search_button.isEnabled()
    click(qtbot, widget.send_button)
    assert widget.status.text() == "Select the lesion layer to send."
