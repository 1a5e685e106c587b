"""A DICOMweb session to a PACS: credentials from the environment or a netrc file, TLS verified, errors in one line.

Credentials are never taken from the command line (where ``ps`` and the shell history would show
them) nor written to a log: ``ONFH_PACS_USER`` and ``ONFH_PACS_PASSWORD``, else the server's entry
in the netrc file (``$NETRC`` or ``~/.netrc``). Certificates are verified against the system's
store, or the bundle named by ``REQUESTS_CA_BUNDLE``.
"""

from __future__ import annotations

import contextlib
import netrc
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..errors import PacsError
from ..extras import require

USER_VARIABLE, PASSWORD_VARIABLE = "ONFH_PACS_USER", "ONFH_PACS_PASSWORD"
TIMEOUT_S = (10.0, 120.0)
"""Seconds to connect, and to wait for each answer: a PACS that stops answering is an error, not a hang."""
RETRIES, RETRY_WAIT_MS = 3, 500


def credentials(url: str) -> tuple[str, str] | None:
    """The user and password for ``url``: from the environment, else its host's netrc entry, else None.

    Examples
    --------
    >>> import os
    >>> os.environ.update({"ONFH_PACS_USER": "alice", "ONFH_PACS_PASSWORD": "s3cret"})
    >>> credentials("https://pacs.example.org/dicom-web")
    ('alice', 's3cret')
    >>> for name in ("ONFH_PACS_USER", "ONFH_PACS_PASSWORD"): del os.environ[name]
    """
    user, password = os.environ.get(USER_VARIABLE), os.environ.get(PASSWORD_VARIABLE)
    if user and password is not None:
        return user, password
    path = Path(os.environ.get("NETRC") or Path.home() / ".netrc")
    if not path.is_file():
        return None
    try:
        entry = netrc.netrc(path).authenticators(urlsplit(url).hostname or "")
    except (netrc.NetrcParseError, OSError) as exc:
        raise PacsError(path, f"unreadable netrc file ({exc})") from None
    return None if entry is None else (entry[0], entry[2] or "")


def client(url: str) -> Any:
    """A ``dicomweb_client.DICOMwebClient`` for ``url`` with our credentials, timeouts and verified TLS.

    Raises
    ------
    MissingExtraError
        ``dicomweb-client`` is not installed (the ``pacs`` extra).
    PacsError
        ``url`` is not an http(s) address.
    """
    require("pacs", "talking to a PACS")
    import requests
    from dicomweb_client.api import DICOMwebClient

    if urlsplit(url).scheme not in ("http", "https"):
        raise PacsError(url, "not a DICOMweb address (it must start with https:// or http://)")
    session = requests.Session()
    session.auth = credentials(url)
    session.trust_env = True  # proxies and REQUESTS_CA_BUNDLE from the environment
    session.verify = os.environ.get("REQUESTS_CA_BUNDLE") or True
    session.request = _with_timeout(session.request)  # type: ignore[method-assign]
    web = DICOMwebClient(url, session=session)
    # A busy server (429, 503, 504) or a dropped connection gets two more tries, a second or so apart:
    # enough for a hiccup, short enough that an unreachable server is said so at once.
    web.set_http_retry_params(retry=True, max_attempts=RETRIES, wait_exponential_multiplier=RETRY_WAIT_MS)
    return web


def _with_timeout(request: Any) -> Any:
    def bounded(*args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", TIMEOUT_S)
        return request(*args, **kwargs)

    return bounded


@contextlib.contextmanager
def refusals(url: str) -> Iterator[None]:
    """Turn what the network and the server say into one line naming the server (no credential in it)."""
    import requests

    try:
        yield
    except requests.exceptions.SSLError as exc:
        raise PacsError(url, f"the server's TLS certificate cannot be verified ({_reason(exc)})") from None
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise PacsError(url, f"cannot reach the server ({_reason(exc)})") from None
    except requests.HTTPError as exc:
        raise PacsError(url, _http_problem(exc.response)) from None


def _reason(exc: Exception) -> str:
    text = str(exc.args[0] if exc.args else exc)
    return text.rsplit(": ", 1)[-1].strip("'\")( ") or type(exc).__name__


def _http_problem(response: Any) -> str:
    status = getattr(response, "status_code", None)
    if status in (401, 403):
        return (
            f"the server refused access (HTTP {status}): give a user allowed to read and store on it in "
            f"{USER_VARIABLE}/{PASSWORD_VARIABLE} or a netrc entry for its host"
        )
    if status == 404:
        return "the server has no such object (HTTP 404)"
    return f"the server answered HTTP {status} ({getattr(response, 'reason', '')})"
