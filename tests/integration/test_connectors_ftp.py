"""The FTP connector against a pyftpdlib server on loopback: complete files published once,
an upload in progress left alone until it is complete, bad rows dead-lettered by path."""

from __future__ import annotations

import ftplib
import io
import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.servers import ThreadedFTPServer

from greenai.localstack import ServerUrls
from greenai.localstack.ports import free_port
from tests.integration.connector_servers import Sandbox, sandbox

PASSWORD = "ftp-" + uuid.uuid4().hex
HEADER = "TradeRef,Amt,SettleDt\n"


@pytest.fixture(scope="module")
def ftp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    root = tmp_path_factory.mktemp("ftp-root")
    (root / "outgoing").mkdir()
    authorizer = DummyAuthorizer()
    authorizer.add_user("recon", PASSWORD, str(root), perm="elradfmwMT")
    handler = type("Handler", (FTPHandler,), {"authorizer": authorizer})
    port = free_port()
    server = ThreadedFTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"timeout": 0.2}, daemon=True)
    thread.start()
    try:
        yield port, root
    finally:
        server.close_all()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def box(
    servers: ServerUrls, tmp_path_factory: pytest.TempPathFactory, ftp_server: tuple[int, Path]
) -> Sandbox:
    port, _ = ftp_server
    env = sandbox(servers, tmp_path_factory.mktemp("ftp"), "ftp")
    env.apply(
        f"""
name: ftpdrops
key: [trade_id]
sources:
  custody:
    rename: {{TradeRef: trade_id, Amt: amount, SettleDt: settle_date}}
    connector: {{type: ftp, host: 127.0.0.1, port: {port}, user: recon,
                password_env: CUSTODY_FTP_PASSWORD, directory: /outgoing, pattern: "*.csv",
                settle: 0.5s}}
    fields: {{trade_id: string, amount: decimal, settle_date: date}}
  ledger:
    fields: {{trade_id: string, amount: decimal, settle_date: date}}
"""
    )
    env.env["CUSTODY_FTP_PASSWORD"] = PASSWORD
    return env


def _upload(port: int, name: str, data: bytes | io.RawIOBase, blocksize: int = 8192) -> None:
    with ftplib.FTP() as ftp:
        ftp.connect("127.0.0.1", port)
        ftp.login("recon", PASSWORD)
        ftp.cwd("/outgoing")
        body = io.BytesIO(data) if isinstance(data, bytes) else data
        ftp.storbinary(f"STOR {name}", body, blocksize=blocksize)


class SlowBody(io.RawIOBase):
    """An upload that keeps flowing, a block every 0.2s, until ``finish`` is set."""

    ROWS = 500  # a block is larger than the server's 8 KiB write buffer: the size grows

    def __init__(self) -> None:
        self.finish = threading.Event()
        self.blocks = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self.finish.is_set():
            return b""
        time.sleep(0.2)
        b = self.blocks
        self.blocks += 1
        rows = "".join(f"U{b}-{i},{i}.5,2026-12-01\n" for i in range(self.ROWS))
        return ((HEADER if b == 0 else "") + rows).encode()


RUN = ("ingest", "run", "--recon", "ftpdrops", "--source", "custody", "--once")


def _summaries(box: Sandbox) -> list[dict[str, Any]]:
    done = box.cli(*RUN)
    assert PASSWORD not in done.stdout + done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_complete_files_are_published_once_with_bad_rows_named_by_path(
    box: Sandbox, ftp_server: tuple[int, Path]
) -> None:
    port, _ = ftp_server
    _upload(port, "a.csv", (HEADER + "F1,1.10,2026-11-30\nF2,x,2026-11-30\n").encode())
    _upload(port, "b.csv", (HEADER + "F3,3.30,2026-11-30\n").encode())
    _upload(port, "readme.txt", b"not data")

    first = _summaries(box)
    where = f"ftp://127.0.0.1:{port}/outgoing"
    assert [(s["file"], s["read"], s["published"]) for s in first] == [
        (f"{where}/a.csv", 2, 1),
        (f"{where}/b.csv", 1, 1),
    ]
    assert _summaries(box) == []
    (dead,) = box.dead_letters()
    assert (dead["location"], dead["reason"]) == (f"{where}/a.csv:3", "amount: not a decimal: 'x'")
    assert Counter(r["key"]["trade_id"] for r in box.records()) == {"F1": 1, "F3": 1}


def test_an_upload_in_progress_is_left_until_complete(
    box: Sandbox, ftp_server: tuple[int, Path]
) -> None:
    port, root = ftp_server
    body = SlowBody()
    upload = threading.Thread(target=_upload, args=(port, "slow.csv", body))
    upload.start()
    try:
        while not (root / "outgoing" / "slow.csv").exists():
            time.sleep(0.05)
        assert _summaries(box) == []  # still growing: never the same size for 0.5s
    finally:
        body.finish.set()
        upload.join(timeout=30)
    rows = body.blocks * SlowBody.ROWS
    (done,) = _summaries(box)
    assert (done["file"].rsplit("/", 1)[1], done["read"], done["published"]) == (
        "slow.csv",
        rows,
        rows,
    )
    assert len([r for r in box.records() if r["key"]["trade_id"].startswith("U")]) == rows
