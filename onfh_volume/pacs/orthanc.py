"""A local Orthanc for the tests and the demo: started on free loopback ports with a temporary store.

Orthanc comes from the Debian packages ``orthanc`` and ``orthanc-dicomweb`` (``make test``
installs them). The server listens on 127.0.0.1 only, keeps its files in a folder of ours, and
is stopped (then killed, if it must be) when the ``with`` block ends. Every wait is bounded.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..errors import PacsError

DICOMWEB_PLUGIN = Path("/usr/share/orthanc/plugins/libOrthancDicomWeb.so")
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Orthanc:
    """A running local Orthanc: its DICOMweb root, its REST root and the folder it stores in."""

    dicomweb_url: str
    rest_url: str
    storage: Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _config(folder: Path, users: dict[str, str] | None) -> Path:
    config = {
        "Name": "onfh-volume-test",
        "StorageDirectory": str(folder / "storage"),
        "IndexDirectory": str(folder / "storage"),
        "HttpPort": _free_port(),
        "RemoteAccessAllowed": False,  # loopback only
        "DicomServerEnabled": False,  # DICOMweb is what the tool speaks; no DIMSE port is opened
        "AuthenticationEnabled": bool(users),
        "RegisteredUsers": users or {},
        "Plugins": [str(DICOMWEB_PLUGIN)],
        "DicomWeb": {"Enable": True, "Root": "/dicom-web/", "EnableWado": False},
        "StableAge": 1,
    }
    path = folder / "orthanc.json"
    path.write_text(json.dumps(config, indent=2))
    return path


def _wait_until_up(process: subprocess.Popen, url: str, auth: tuple[str, str] | None, log: Path) -> None:
    import requests

    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise PacsError(None, f"Orthanc stopped at start (exit {process.returncode}): {_tail(log)}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"{url}/system", auth=auth, timeout=2).ok:
                return
        time.sleep(0.2)
    raise PacsError(None, f"Orthanc did not answer within {START_TIMEOUT_S:.0f} s: {_tail(log)}")


def _tail(log: Path) -> str:
    lines = log.read_text(errors="replace").strip().splitlines() if log.exists() else []
    return " | ".join(lines[-3:]) or "no output"


@contextlib.contextmanager
def local_orthanc(users: dict[str, str] | None = None) -> Iterator[Orthanc]:
    """Run Orthanc with the DICOMweb plugin for the ``with`` block; ``users`` turns on HTTP basic auth.

    Raises
    ------
    PacsError
        Orthanc or its DICOMweb plugin is not installed, or it does not start in time (with its last
        log lines).
    """
    executable = shutil.which("Orthanc") or "/usr/sbin/Orthanc"
    for needed in (Path(executable), DICOMWEB_PLUGIN):
        if not needed.exists():
            raise PacsError(
                needed, "not installed: apt-get install orthanc orthanc-dicomweb (make test does)"
            )
    with tempfile.TemporaryDirectory(prefix="onfh-orthanc-") as temporary:
        folder = Path(temporary)
        config = _config(folder, users)
        rest = f"http://127.0.0.1:{json.loads(config.read_text())['HttpPort']}"
        log = folder / "orthanc.log"
        with open(log, "wb") as output:
            process = subprocess.Popen([executable, str(config)], stdout=output, stderr=subprocess.STDOUT)
        try:
            auth = next(iter(users.items())) if users else None
            _wait_until_up(process, rest, auth, log)
            yield Orthanc(f"{rest}/dicom-web", rest, folder / "storage")
        finally:
            process.terminate()
            try:
                process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(STOP_TIMEOUT_S)
