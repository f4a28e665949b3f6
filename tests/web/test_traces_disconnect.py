"""A client that gives up on an upload stops its validation (issue 8.7): a real Daphne server,
a raw socket that sends a trace which takes many seconds to validate and then closes.
ClientGoneApp (vmemsite/asgi.py) hears the disconnect and tells the worker thread, which stops
at its next check and removes its temporary file."""

from __future__ import annotations

import socket
import time

import pytest
import requests

from tests.e2e.servers import LabServer

pytestmark = pytest.mark.slow


def _parts(lab: LabServer) -> list:
    folder = lab.data_dir / "traces"
    return list(folder.glob(".upload-*.part")) if folder.exists() else []


def test_validation_stops_when_the_client_leaves(tmp_path):
    lab = LabServer(tmp_path / "lab", env={"VMEM_TRACE_VALIDATION_SECONDS": "900"})
    with lab:
        token = lab.create_user("carol", "carol-pw-123", token=True)
        # three million distinct pages to check and count: far more than a few seconds
        body = "".join(f"{i}\n" for i in range(3_000_000)).encode()
        head = (f"POST /api/traces/?name=slow HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Authorization: Bearer {token}\r\nContent-Type: text/plain\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode()
        client = socket.create_connection(("127.0.0.1", lab.port), timeout=30)
        client.sendall(head + body)
        deadline = time.monotonic() + 60
        while not _parts(lab):  # the view is validating
            assert time.monotonic() < deadline, lab.log.read_text()[-3000:]
            time.sleep(0.05)
        time.sleep(0.5)
        client.close()  # the client gives up
        gone_at = time.monotonic()
        while _parts(lab):
            assert time.monotonic() - gone_at < 10, "the validation went on"
            time.sleep(0.05)
        stopped_after = time.monotonic() - gone_at
        log = lab.log.read_text()
        assert "dropped at line" in log and "the client went away" in log, log[-3000:]
        assert "Traceback" not in log, log[-3000:]
        listing = requests.get(f"{lab.url}/api/traces/",
                               headers={"Authorization": f"Bearer {token}"}, timeout=30)
        assert listing.status_code == 200 and listing.json()["count"] == 0
        assert stopped_after < 10
