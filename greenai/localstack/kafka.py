"""A single-node KRaft Apache Kafka broker run from jars that Maven resolves once.

Its listeners authenticate as ``greenai.localstack.kafka_sasl`` says.
"""

from __future__ import annotations

import base64
import os
import shutil
import signal
import string
import sys
import threading
import uuid
from pathlib import Path
from typing import Any

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient

from greenai.localstack.base import ManagedServer
from greenai.localstack.kafka_sasl import (
    add_scram_credential,
    authentication,
    client_security,
    scram_format_argument,
)
from greenai.localstack.private import private_dir, write_private
from greenai.localstack.processes import run_step, spawn, stop_processes
from greenai.localstack.secrets import AppliedMark
from streams.kafka import LIBRDKAFKA
from streams.kafka_security import KafkaSecurity, confluent_security
from streams.stack_secrets import StackSecrets

__all__ = ["BrokerProbe", "KafkaServer", "java_argfile", "kafka_classpath"]

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


def java_argfile(args: list[str]) -> str:
    """A Java launcher argument file (``java @FILE``) holding ``args``: how an argument that
    must not be on the command line (a password) reaches a Java main class.

    >>> print(java_argfile(["format", 'a "b" c']), end="")
    "format"
    "a \\"b\\" c"
    """
    quoted = ['"' + a.replace("\\", "\\\\").replace('"', '\\"') + '"' for a in args]
    return "\n".join(quoted) + "\n"


class BrokerProbe:
    """Whether the broker at ``127.0.0.1:port`` lists itself in a Metadata response (it
    does once it is unfenced), asked with the clients' authentication."""

    def __init__(self, port: int, security: KafkaSecurity | None) -> None:
        self.port = port
        config: dict[str, Any] = {
            "bootstrap.servers": f"127.0.0.1:{port}",
            **confluent_security(security),
            "logger": LIBRDKAFKA,  # its lines out of the way
            "reconnect.backoff.ms": 100,
            "reconnect.backoff.max.ms": 500,
        }
        self._admin = AdminClient(config)

    def ready(self) -> bool:
        try:
            metadata = self._admin.list_topics(timeout=1.0)
        except KafkaException:
            return False
        return any(broker.port == self.port for broker in metadata.brokers.values())


class KafkaServer(ManagedServer):
    """KRaft broker+controller, data in ``home/kafka/data``; clients authenticate with
    SASL/SCRAM-SHA-256 unless ``sasl`` is False (then the broker port is PLAINTEXT)."""

    name = "kafka"
    port_names = ("broker", "controller")
    ready_timeout = 120.0

    def __init__(self, home: Path, secrets: StackSecrets, *, sasl: bool = True) -> None:
        super().__init__(home, secrets)
        self.sasl = sasl
        self.client = secrets["kafka"]
        self.controller = secrets["kafka_controller"]
        self.data_dir = self.root / "data"
        self.props = self.root / "server.properties"
        self.cluster_id_file = self.root / "cluster.id"
        self.scram_mark = AppliedMark(self.root / "scram.applied")
        self.classpath = ""
        self._probe: BrokerProbe | None = None
        self._probe_security: KafkaSecurity | None = None

    @property
    def url(self) -> str:
        return f"127.0.0.1:{self.ports['broker']}"

    @property
    def security(self) -> KafkaSecurity | None:
        """How clients authenticate (None: PLAINTEXT)."""
        return client_security(self.client) if self.sasl else None

    def prepare(self, cancel: threading.Event) -> None:
        self.classpath = kafka_classpath(self.log_path, cancel)
        private_dir(self.root)
        self._probe = None
        formatted = (self.data_dir / "meta.properties").exists()
        if formatted and self.sasl and not self.scram_mark.holds(self.client):
            self._add_scram_credential(cancel)
        self._render()
        if not formatted:
            self._format(cancel)

    def _render(self, *, migrating: bool = False) -> None:
        protocol, auth = authentication(
            sasl=self.sasl, client=self.client, controller=self.controller, migrating=migrating
        )
        template = string.Template((KAFKA_INFRA / "server.properties.template").read_text())
        text = template.substitute(
            broker_port=self.ports["broker"],
            controller_port=self.ports["controller"],
            log_dirs=str(self.data_dir),
            clients_protocol=protocol,
            authentication=auth,
        )
        write_private(self.props, text)

    def _format(self, cancel: threading.Event) -> None:
        """Format the storage, with the clients' SCRAM credential in the first metadata."""
        if not self.cluster_id_file.exists():
            write_private(self.cluster_id_file, new_cluster_id() + "\n")
        cluster_id = self.cluster_id_file.read_text().strip()
        args = ["kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(self.props)]
        args += ["--ignore-formatted", "--add-scram", scram_format_argument(self.client)]
        argfile = self.root / "format.args"
        try:
            write_private(argfile, java_argfile(args))
            run_step(
                [*self._java_cmd(), f"@{argfile}"],
                what="Kafka storage format",
                log_path=self.log_path,
                cancel=cancel,
                timeout=120,
            )
        finally:
            argfile.unlink(missing_ok=True)
        self.scram_mark.record(self.client)

    def _add_scram_credential(self, cancel: threading.Event) -> None:
        """Give data formatted without it the clients' SCRAM credential: a broker started
        for this alone also accepts SASL/PLAIN (its password is in its JAAS configuration),
        and the credential is added through the admin API; then that broker stops."""
        print(
            f"greenai: adding the SCRAM credential of the Kafka clients to {self.data_dir} "
            "(data from before the local stack had credentials; once)",
            file=sys.stderr,
            flush=True,
        )
        self._render(migrating=True)
        plain = client_security(self.client, migrating=True)
        self.proc = spawn(self.argv(), log_path=self.log_path)
        self.pidfile.write(self.proc.pid)
        try:
            self._probe_security = plain
            self.wait_ready(cancel)
            add_scram_credential(self.url, plain, self.client)
        finally:
            stop_processes([(self.proc, signal.SIGTERM)], timeout=20)
            self.pidfile.remove()
            self.proc, self._probe, self._probe_security = None, None, None
        self.scram_mark.record(self.client)

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
        if self._probe is None:
            self._probe = BrokerProbe(self.ports["broker"], self._probe_security or self.security)
        return self._probe.ready()

    def after_ready(self) -> None:
        self._probe = None  # its client's threads are not needed any more
