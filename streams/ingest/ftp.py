"""Files in a directory of an FTP (or FTPS) server, through ftplib.

Files are listed with MLSD (size and modify facts), falling back to NLST + SIZE + MDTM. A
file still being uploaded is not read: it must carry a ``.done`` marker, or keep the same
size and modification time across two listings ``settle`` seconds apart (the rule in
``streams.ingest.settle``). Each file is fetched to a temporary file and checkpointed like a
local drop, by ``ftp://host:port/dir/name``, size and content hash.
"""

from __future__ import annotations

import contextlib
import ftplib
import tempfile
import time
from pathlib import Path, PurePosixPath

from streams.ingest.context import SourceContext, SourceError
from streams.ingest.drops import file_entry, ingest_file, is_done
from streams.ingest.settle import Listed, Settling


class FtpDirectory:
    def __init__(
        self,
        host: str,
        *,
        port: int = 21,
        user: str = "anonymous",
        password: str = "",
        directory: str = "/",
        pattern: str = "*",
        done_marker: bool = False,
        settle: float = 2.0,
        tls: bool = False,
        timeout: float = 30.0,
    ) -> None:
        self.host, self.port, self.user = host, port, user
        self._password = password  # a secret: never logged or reported
        self.directory = "/" + directory.strip("/") if directory.strip("/") else "/"
        self.pattern = pattern
        self.settling = Settling(settle, done_marker)
        self.tls = tls
        self.timeout = timeout

    def identity(self, name: str) -> str:
        return f"ftp://{self.host}:{self.port}{PurePosixPath(self.directory) / name}"

    def connect(self) -> ftplib.FTP:
        ftp = ftplib.FTP_TLS(timeout=self.timeout) if self.tls else ftplib.FTP(timeout=self.timeout)
        ftp.connect(self.host, self.port)
        ftp.login(self.user, self._password)
        if isinstance(ftp, ftplib.FTP_TLS):
            ftp.prot_p()
        ftp.cwd(self.directory)
        return ftp

    def _list(self, ftp: ftplib.FTP) -> list[Listed]:
        try:
            return [
                Listed(name, int(facts.get("size", 0)), facts.get("modify"))
                for name, facts in ftp.mlsd(facts=["type", "size", "modify"])
                if facts.get("type") == "file"
            ]
        except ftplib.error_perm:  # no MLSD: the classic commands
            listed = []
            for name in ftp.nlst():
                with contextlib.suppress(ftplib.error_perm):  # directories have no SIZE
                    size = ftp.size(name)
                    stamp = ftp.voidcmd(f"MDTM {name}")
                    listed.append(Listed(PurePosixPath(name).name, int(size or 0), stamp))
            return listed

    def _pending(self, ctx: SourceContext, entries: list[Listed]) -> list[Listed]:
        return [
            e
            for e in entries
            if not is_done(ctx, file_entry(self.identity(e.name)), e.size, e.stamp)
        ]

    def poll(self, ctx: SourceContext, *, once: bool) -> None:
        try:
            with self.connect() as ftp:
                ready, waiting = self.settling.split(self._list(ftp), self.pattern)
                if once and self._pending(ctx, waiting) and not self.settling.done_marker:
                    time.sleep(self.settling.settle)
                    ready, waiting = self.settling.split(self._list(ftp), self.pattern)
            todo = self._pending(ctx, ready)
            still_written = len(self._pending(ctx, waiting))
            ctx.metrics.backlog(len(todo) + still_written)
            with tempfile.TemporaryDirectory(prefix="greenai-ftp-") as tmp:
                for left, entry in enumerate(todo, start=1):
                    local = Path(tmp) / f"file{PurePosixPath(entry.name).suffix}"
                    with self.connect() as ftp, local.open("wb") as out:
                        # one connection per file: publishing a big file can outlast the
                        # server's idle timeout
                        ftp.retrbinary(f"RETR {entry.name}", out.write)
                    summary = ingest_file(
                        ctx,
                        local,
                        label=self.identity(entry.name),
                        identity=self.identity(entry.name),
                        version=entry.stamp,
                        skip_done=True,
                    )
                    local.unlink()
                    if summary is not None:
                        ctx.report(summary)
                    ctx.metrics.backlog(len(todo) - left + still_written)
        except (ftplib.Error, OSError, EOFError) as exc:
            raise SourceError(f"ftp://{self.host}:{self.port}{self.directory}: {exc}") from exc
