"""A single-node KRaft Apache Kafka broker run from jars that Maven resolves once."""

from __future__ import annotations

import base64
import os
import shutil
import socket
import string
import struct
import sys
import threading
import uuid
from pathlib import Path

from greenai.localstack.base import ManagedServer
from greenai.localstack.processes import run_step

__all__ = ["KafkaServer", "kafka_classpath", "metadata_brokers"]

REPO_ROOT = Path(__file__).resolve().parents[2]
KAFKA_INFRA = REPO_ROOT / "infra" / "kafka"
JVM_OPTS = ["-Xms256m", "-Xmx768m", "-XX:+UseG1GC", "-XX:+ExitOnOutOfMemoryError"]
MAVEN_TIMEOUT = 1800.0


def _java() -> str:
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").exists():
        return str(Path(java_home) / "bin" / "java")
    found = shutil.which("java")
    if found is None:
        raise RuntimeError("java not found; run infra/install-system-packages.sh")
    return found


def _cached_classpath(pom: Path, cp_file: Path) -> str | None:
    try:
        if cp_file.stat().st_mtime <= pom.stat().st_mtime:
            return None
        classpath = cp_file.read_text().strip()
    except OSError:
        return None
    jars = classpath.split(os.pathsep)
    if not classpath or not all(Path(jar).is_file() for jar in jars):
        return None  # e.g. ~/.m2 was wiped
    return classpath


def kafka_classpath(log_path: Path, cancel: threading.Event | None = None) -> str:
    """The broker classpath; runs Maven only when the pom changed or the jars are gone."""
    pom = KAFKA_INFRA / "pom.xml"
    cp_file = KAFKA_INFRA / "target" / "classpath.txt"
    cached = _cached_classpath(pom, cp_file)
    if cached is not None:
        return cached
    mvn = shutil.which("mvn")
    if mvn is None:
        raise RuntimeError("mvn not found; run infra/install-system-packages.sh")
    print(
        "greenai: resolving the Kafka broker jars with Maven "
        f"(the first run downloads them and can take a few minutes; log: {log_path})",
        file=sys.stderr,
        flush=True,
    )
    cp_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = cp_file.with_name(f"classpath.{os.getpid()}.{threading.get_ident()}.tmp")
    argv = [
        mvn,
        "-q",
        "-B",
        "-Dstyle.color=never",
        "-f",
        str(pom),
        "dependency:build-classpath",
        f"-Dmdep.outputFile={tmp}",
    ]
    try:
        run_step(
            argv,
            what="Maven (resolving the Kafka jars)",
            log_path=log_path,
            cancel=cancel or threading.Event(),
            timeout=MAVEN_TIMEOUT,
        )
        os.replace(tmp, cp_file)
    finally:
        tmp.unlink(missing_ok=True)
    return cp_file.read_text().strip()


def new_cluster_id() -> str:
    """A Kafka cluster id: a random UUID in URL-safe base64 without padding."""
    while True:
        cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not cid.startswith("-"):
            return cid


def metadata_brokers(host: str, port: int, timeout: float = 2.0) -> list[tuple[int, str, int]]:
    """Send a Metadata (v0) request; return the brokers it lists as (id, host, port)."""
    client_id = b"greenai-localstack"
    body = struct.pack(">hhih", 3, 0, 1, len(client_id)) + client_id + struct.pack(">i", 0)
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(struct.pack(">i", len(body)) + body)
        (size,) = struct.unpack(">i", _recv_exact(sock, 4))
        data = _recv_exact(sock, size)
    (count,) = struct.unpack_from(">i", data, 4)
    brokers, pos = [], 8
    for _ in range(count):
        node_id, host_len = struct.unpack_from(">ih", data, pos)
        pos += 6
        broker_host = data[pos : pos + host_len].decode()
        pos += host_len
        (broker_port,) = struct.unpack_from(">i", data, pos)
        pos += 4
        brokers.append((node_id, broker_host, broker_port))
    return brokers


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    buf = bytearray()
    while len(buf) < size:
        chunk = sock.recv(size - len(buf))
        if not chunk:
            raise ConnectionError("connection closed")
        buf += chunk
    return bytes(buf)


class KafkaServer(ManagedServer):
    """KRaft broker+controller, data in ``home/kafka/data``."""

    name = "kafka"
    port_names = ("broker", "controller")
    ready_timeout = 120.0

    def __init__(self, home: Path) -> None:
        super().__init__(home)
        self.data_dir = self.root / "data"
        self.props = self.root / "server.properties"
        self.cluster_id_file = self.root / "cluster.id"
        self.classpath = ""

    @property
    def url(self) -> str:
        return f"127.0.0.1:{self.ports['broker']}"

    def prepare(self, cancel: threading.Event) -> None:
        self.classpath = kafka_classpath(self.log_path, cancel)
        self.root.mkdir(parents=True, exist_ok=True)
        template = string.Template((KAFKA_INFRA / "server.properties.template").read_text())
        self.props.write_text(
            template.substitute(
                broker_port=self.ports["broker"],
                controller_port=self.ports["controller"],
                log_dirs=str(self.data_dir),
            )
        )
        if (self.data_dir / "meta.properties").exists():
            return
        if not self.cluster_id_file.exists():
            self.cluster_id_file.write_text(new_cluster_id() + "\n")
        cluster_id = self.cluster_id_file.read_text().strip()
        argv = [
            *self._java_cmd(),
            "kafka.tools.StorageTool",
            "format",
            "-t",
            cluster_id,
            "-c",
            str(self.props),
            "--ignore-formatted",
        ]
        run_step(
            argv, what="Kafka storage format", log_path=self.log_path, cancel=cancel, timeout=120
        )

    def _java_cmd(self) -> list[str]:
        log4j = (KAFKA_INFRA / "log4j.properties").as_uri()
        return [
            _java(),
            *JVM_OPTS,
            "-Djava.awt.headless=true",
            f"-Dlog4j.configuration={log4j}",
            "-cp",
            self.classpath,
        ]

    def argv(self) -> list[str]:
        return [*self._java_cmd(), "kafka.Kafka", str(self.props)]

    def probe(self) -> bool:
        try:
            brokers = metadata_brokers("127.0.0.1", self.ports["broker"])
        except (OSError, struct.error, UnicodeDecodeError):
            return False
        return any(port == self.ports["broker"] for _, _, port in brokers)
