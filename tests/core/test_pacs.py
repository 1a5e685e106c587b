"""Pull, push and ``--send`` against a real Orthanc (Debian's ``orthanc`` and ``orthanc-dicomweb``).

The server is started once for the session on free loopback ports with a temporary store; if it
cannot start these tests fail, saying why (``make test`` installs the packages). Every number read
back from the PACS is compared with ``measure --json`` on the files the study came from.
"""

from __future__ import annotations

import csv
import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import highdicom as hd
import pydicom
import pytest
import requests
from dicomweb_client.api import DICOMwebClient

from onfh_volume.cli import main
from onfh_volume.pacs.orthanc import Orthanc, local_orthanc

SCANS = Path("sample_scans/dicom")
MASKS = Path("sample_scans/masks")
USER, PASSWORD = "reader", "not-on-the-command-line"


@pytest.fixture(scope="session")
def orthanc() -> Iterator[Orthanc]:
    with local_orthanc() as server:
        yield server


@pytest.fixture(scope="module")
def secured() -> Iterator[Orthanc]:
    with local_orthanc({USER: PASSWORD}) as server:
        yield server


@pytest.fixture(autouse=True)
def no_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No credential from the machine running the tests: none in the environment, an empty netrc."""
    for name in ("ONFH_PACS_USER", "ONFH_PACS_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "empty-netrc").write_text("")
    monkeypatch.setenv("NETRC", str(tmp_path / "empty-netrc"))


def run(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def files(series: Path) -> list[Path]:
    return sorted(path for path in series.iterdir() if path.is_file())


def study_of(series: Path) -> str:
    return str(pydicom.dcmread(files(series)[0], stop_before_pixels=True).StudyInstanceUID)


def series_of(series: Path) -> str:
    return str(pydicom.dcmread(files(series)[0], stop_before_pixels=True).SeriesInstanceUID)


def measured(capsys: pytest.CaptureFixture[str], scan: Path, mask: Path) -> dict:
    code, text, err = run(capsys, "measure", scan, mask, "--json")
    assert code == 0, err
    data = json.loads(text)
    del data["scan"]  # the folder's name: the only thing a pull may change
    return data


@pytest.fixture(scope="module")
def sub01_on_pacs(orthanc: Orthanc) -> Orthanc:
    for when in ("baseline", "followup"):
        assert main(["push", "--pacs", orthanc.dicomweb_url, *map(str, files(SCANS / "sub-01" / when))]) == 0
    return orthanc


def test_round_trip_pull_measure_send_and_read_back(capsys, sub01_on_pacs, tmp_path) -> None:
    url, scan, mask = (
        sub01_on_pacs.dicomweb_url,
        SCANS / "sub-01" / "baseline",
        MASKS / "sub-01_baseline_lesions.nii.gz",
    )
    code, out, err = run(capsys, "pull", "--pacs", url, "--study", study_of(scan), "-o", tmp_path / "study")
    assert code == 0, err
    pulled = tmp_path / "study" / series_of(scan)
    assert [p.name for p in (tmp_path / "study").iterdir()] == [series_of(scan)]  # the study's one series
    assert len(files(pulled)) == len(files(scan))
    expected = measured(capsys, scan, mask)
    assert measured(capsys, pulled, mask) == expected  # every number, every lesion, every slice's area

    seg, sr = tmp_path / "seg.dcm", tmp_path / "report.dcm"
    code, out, err = run(capsys, "export-seg", pulled, mask, "-o", seg, "--send", url)
    assert code == 0 and "Sent 1 file" in out, err
    code, out, err = run(capsys, "export-sr", pulled, mask, "-o", sr, "--seg", seg, "--send", url)
    assert code == 0 and "Sent 1 file" in out, err

    web = DICOMwebClient(url)
    study = study_of(scan)
    for path in (seg, sr):
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        back = web.retrieve_instance(study, str(ds.SeriesInstanceUID), str(ds.SOPInstanceUID))
        assert back.SOPInstanceUID == ds.SOPInstanceUID
    report_back = tmp_path / "report-back.dcm"
    back.save_as(report_back, enforce_file_format=True)
    report = hd.sr.MeasurementReport.from_sequence([hd.sr.srread(report_back)])
    compared = 0
    for group, lesion in zip(
        report.get_volumetric_roi_measurement_groups(), expected["lesions"], strict=True
    ):
        values = {(m.method or m.name).meaning: m.value for m in group.get_measurements()}
        for key, name in (
            ("volume_thickness_cm3", "Sum of traced area x slice thickness"),
            ("volume_cavalieri_cm3", "Cavalieri: sum of traced area x slice spacing"),
            ("necrotic_ratio_pct", "Necrotic ratio of the femoral head volume"),
        ):
            assert values[name] == lesion[key]
            compared += 1
        for plane in ("coronal", "sagittal"):
            assert values[f"Kerboul necrotic angle, mid-{plane}"] == lesion["kerboul_angle_deg"][plane]
            compared += 1
        assert values["Kerboul combined necrotic angle"] == lesion["kerboul_angle_deg"]["combined"]
        compared += 1
    assert compared == 12


def test_pull_one_series_straight_into_the_folder(capsys, sub01_on_pacs, tmp_path) -> None:
    scan = SCANS / "sub-01" / "followup"
    code, _, err = run(
        capsys,
        "pull",
        "--pacs",
        sub01_on_pacs.dicomweb_url,
        "--study",
        study_of(scan),
        "--series",
        series_of(scan),
        "-o",
        tmp_path / "one",
    )
    assert code == 0, err
    assert {pydicom.dcmread(p).SOPInstanceUID for p in files(tmp_path / "one")} == {
        pydicom.dcmread(p).SOPInstanceUID for p in files(scan)
    }


def refused(capsys: pytest.CaptureFixture[str], *argv: object) -> str:
    code, out, err = run(capsys, *argv)
    assert code == 2, (out, err)
    assert len(err.strip().splitlines()) == 1, err
    return err


def test_refusals_leave_no_folder(capsys, sub01_on_pacs, tmp_path) -> None:
    url, scan, out = sub01_on_pacs.dicomweb_url, SCANS / "sub-01" / "baseline", tmp_path / "out"
    assert "cannot reach the server" in refused(
        capsys, "pull", "--pacs", "http://127.0.0.1:9/dicom-web", "--study", "1.2.3", "-o", out
    )
    assert "holds no study 1.2.3" in refused(capsys, "pull", "--pacs", url, "--study", "1.2.3", "-o", out)
    assert "holds no series 1.2.3" in refused(
        capsys, "pull", "--pacs", url, "--study", study_of(scan), "--series", "1.2.3", "-o", out
    )
    assert not out.exists() and not list(tmp_path.glob(".out.part-*"))
    out.mkdir()
    assert "exists" in refused(capsys, "pull", "--pacs", url, "--study", study_of(scan), "-o", out)


def test_a_seg_whose_series_the_pacs_does_not_hold_is_not_sent(capsys, orthanc, tmp_path) -> None:
    scan, seg = SCANS / "sub-02" / "baseline", tmp_path / "seg.dcm"
    assert main(["export-seg", str(scan), str(MASKS / "sub-02_baseline_lesions.nii.gz"), "-o", str(seg)]) == 0
    capsys.readouterr()
    err = refused(capsys, "push", "--pacs", orthanc.dicomweb_url, seg)
    assert f"refers to series {series_of(scan)}" in err and "push that series" in err
    assert not DICOMwebClient(orthanc.dicomweb_url).search_for_series(
        search_filters={"SeriesInstanceUID": series_of(scan)}
    )


def test_credentials_from_environment_or_netrc_never_printed(capsys, secured, tmp_path, monkeypatch) -> None:
    scan = SCANS / "sub-03" / "baseline"
    err = refused(capsys, "push", "--pacs", secured.dicomweb_url, *files(scan))
    assert "HTTP 401" in err and "ONFH_PACS_USER" in err
    monkeypatch.setenv("ONFH_PACS_USER", USER)
    monkeypatch.setenv("ONFH_PACS_PASSWORD", "wrong")
    assert "HTTP 401" in refused(capsys, "push", "--pacs", secured.dicomweb_url, *files(scan))
    monkeypatch.setenv("ONFH_PACS_PASSWORD", PASSWORD)
    code, out, err = run(capsys, "push", "--pacs", secured.dicomweb_url, *files(scan))
    assert code == 0 and PASSWORD not in out + err, err
    monkeypatch.delenv("ONFH_PACS_USER")
    monkeypatch.delenv("ONFH_PACS_PASSWORD")
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine 127.0.0.1 login {USER} password {PASSWORD}\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    code, out, err = run(
        capsys, "pull", "--pacs", secured.dicomweb_url, "--study", study_of(scan), "-o", tmp_path / "pulled"
    )
    assert code == 0 and PASSWORD not in out + err, err


class _Truncating(BaseHTTPRequestHandler):
    """Forwards to the PACS, but drops the last instance of every whole-series retrieval: a series cut short."""

    target = ""

    def do_GET(self) -> None:
        answer = requests.get(
            self.target + self.path, headers={"Accept": self.headers.get("Accept", "*/*")}, timeout=30
        )
        body = answer.content
        kind = answer.headers.get("Content-Type", "")
        if re.search(r"/series/[^/?]+$", self.path) and "boundary=" in kind:
            boundary = ("--" + kind.split("boundary=")[1].split(";")[0].strip('"')).encode()
            parts = body.split(boundary)
            body = boundary.join(parts[:-2] + parts[-1:])  # without the last instance; closing delimiter kept
        self.send_response(answer.status_code)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_a_series_received_in_part_leaves_nothing(capsys, sub01_on_pacs, tmp_path) -> None:
    handler = type("Handler", (_Truncating,), {"target": sub01_on_pacs.rest_url})
    with ThreadingHTTPServer(("127.0.0.1", 0), handler) as proxy:
        threading.Thread(target=proxy.serve_forever, daemon=True).start()
        try:
            url = f"http://127.0.0.1:{proxy.server_address[1]}/dicom-web"
            scan, out = SCANS / "sub-01" / "baseline", tmp_path / "out"
            err = refused(capsys, "pull", "--pacs", url, "--study", study_of(scan), "-o", out)
        finally:
            proxy.shutdown()
    count = len(files(scan))
    assert f"arrived incomplete ({count - 1} of {count} instances)" in err
    assert not out.exists() and not list(tmp_path.glob(".out*"))


def test_batch_pulls_each_series_once_and_measures_as_folders(capsys, sub01_on_pacs, tmp_path) -> None:
    root = Path.cwd() / "sample_scans"
    header = "patient_id,timepoint,scan,study_uid,series_uid,mask,reader\n"
    folders, pacs = [header], [header]
    for when in ("baseline", "followup"):
        scan, mask = root / "dicom" / "sub-01" / when, root / "masks" / f"sub-01_{when}_lesions.nii.gz"
        folders.append(f"sub-01,{when},{scan},,,{mask},R1\n")
        pacs.append(f"sub-01,{when},,{study_of(scan)},{series_of(scan)},{mask},R1\n")
    (tmp_path / "folders.csv").write_text("".join(folders))
    (tmp_path / "pacs.csv").write_text("".join(pacs))
    url, cache = sub01_on_pacs.dicomweb_url, tmp_path / "cache"

    assert (
        "run batch with --pacs URL"
        in run(capsys, "batch", tmp_path / "pacs.csv", "-o", tmp_path / "x.csv")[2]
    )
    assert (
        main(
            [
                "batch",
                str(tmp_path / "folders.csv"),
                "-o",
                str(tmp_path / "folders-results.csv"),
                "--quiet",
                "--jobs",
                "1",
            ]
        )
        == 0
    )
    argv = [
        "batch",
        tmp_path / "pacs.csv",
        "-o",
        tmp_path / "pacs-results.csv",
        "--pacs",
        url,
        "--pacs-cache",
        cache,
        "--jobs",
        "1",
    ]
    code, out, err = run(capsys, *argv)
    assert code == 0 and "2 series pulled" in out, err
    assert sorted(p.name for p in cache.iterdir()) == sorted(
        series_of(root / "dicom" / "sub-01" / w) for w in ("baseline", "followup")
    )
    code, out, err = run(capsys, *argv, "--force")
    assert code == 0 and "0 series pulled" in out, err  # found in the cache

    def rows(path: Path) -> list[dict[str, str]]:
        with open(path, newline="") as f:
            return [{k: v for k, v in row.items() if not k.endswith("_scan")} for row in csv.DictReader(f)]

    assert rows(tmp_path / "pacs-results.csv") == rows(tmp_path / "folders-results.csv")
    assert len(rows(tmp_path / "pacs-results.csv")) == 2


def test_tls_certificates_are_verified(capsys, tmp_path, monkeypatch) -> None:
    """A server whose certificate no trusted authority signed is refused; trusted through REQUESTS_CA_BUNDLE it is not."""
    import ssl
    import subprocess

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip

    class NoStudies(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/dicom+json")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"[]")

        def log_message(self, *args: object) -> None:
            pass

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    with ThreadingHTTPServer(("127.0.0.1", 0), NoStudies) as server:
        server.socket = context.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            url = f"https://127.0.0.1:{server.server_address[1]}/dicom-web"
            argv = ("pull", "--pacs", url, "--study", "1.2.3", "-o", tmp_path / "out")
            assert "TLS certificate cannot be verified" in refused(capsys, *argv)
            monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))  # the hospital's own authority
            assert "holds no study 1.2.3" in refused(capsys, *argv)
        finally:
            server.shutdown()


def test_without_the_pacs_extra_the_refusal_names_it(tmp_path) -> None:
    import subprocess
    import sys

    script = (
        "import sys; sys.modules['dicomweb_client'] = None; sys.modules['dicomweb_client.api'] = None\n"
        "from onfh_volume.cli import main\n"
        f"sys.exit(main(['pull', '--pacs', 'http://127.0.0.1:9/dicom-web', '--study', '1', '-o', {str(tmp_path / 'o')!r}]))"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == (
        "onfh-volume: error: talking to a PACS needs dicomweb_client, which is not installed: "
        "pip install 'onfh-volume[pacs]'"
    )
