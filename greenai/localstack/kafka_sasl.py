"""Who may talk to the local Kafka broker: SASL on both of its listeners.

- ``CLIENTS`` (the broker port): SASL_PLAINTEXT with SCRAM-SHA-256 for the stack's user.
  SCRAM credentials live in the cluster metadata, so a new home gets the user when its
  storage is formatted (``--add-scram``, passed in a Java argument file, never on the
  command line); a home formatted before (or whose secrets.json was replaced) gets it once
  through the admin API, from a broker started for that alone with SASL/PLAIN also enabled
  (:func:`add_scram_credential`).
- ``CONTROLLER`` (KRaft's own port): SASL/PLAIN with a controller user whose password is in
  the JAAS configuration (SCRAM cannot serve the controller: its credentials are in the very
  metadata the controller serves). Only the node itself uses it.

The JAAS configuration (with the passwords) is in ``server.properties``, mode 0600; Kafka
logs such values as ``[hidden]``.
"""

from __future__ import annotations

from typing import Any

from confluent_kafka.admin import (
    AdminClient,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialUpsertion,
)

from streams.kafka import LIBRDKAFKA
from streams.kafka_security import KafkaSecurity, confluent_security
from streams.stack_secrets import Credential

__all__ = [
    "MECHANISM",
    "add_scram_credential",
    "authentication",
    "client_security",
    "scram_format_argument",
]

MECHANISM = "SCRAM-SHA-256"
SCRAM_ITERATIONS = 4096  # what kafka-storage --add-scram uses by default
_PLAIN = "org.apache.kafka.common.security.plain.PlainLoginModule"
_SCRAM = "org.apache.kafka.common.security.scram.ScramLoginModule"


def _plain_jaas(user: Credential) -> str:
    """A PLAIN login with ``user`` as the one user it accepts (and logs in as)."""
    return (
        f'{_PLAIN} required username="{user.user}" password="{user.password}" '
        f'user_{user.user}="{user.password}";'
    )


def authentication(
    *, sasl: bool, client: Credential, controller: Credential, migrating: bool = False
) -> tuple[str, str]:
    """(the CLIENTS listener's protocol, the properties that authenticate both listeners).

    ``sasl=False`` leaves CLIENTS on PLAINTEXT (the controller stays authenticated);
    ``migrating`` also accepts SASL/PLAIN on CLIENTS, for :func:`add_scram_credential`.
    """
    lines = [
        "sasl.mechanism.controller.protocol=PLAIN",
        "listener.name.controller.sasl.enabled.mechanisms=PLAIN",
        f"listener.name.controller.plain.sasl.jaas.config={_plain_jaas(controller)}",
    ]
    if not sasl:
        return "PLAINTEXT", "\n".join(lines)
    mechanisms = [MECHANISM, "PLAIN"] if migrating else [MECHANISM]
    lines += [
        f"listener.name.clients.sasl.enabled.mechanisms={','.join(mechanisms)}",
        f"sasl.mechanism.inter.broker.protocol={'PLAIN' if migrating else MECHANISM}",
        "listener.name.clients.scram-sha-256.sasl.jaas.config="
        f'{_SCRAM} required username="{client.user}" password="{client.password}";',
    ]
    if migrating:
        lines.append(f"listener.name.clients.plain.sasl.jaas.config={_plain_jaas(client)}")
    return "SASL_PLAINTEXT", "\n".join(lines)


def client_security(client: Credential, *, migrating: bool = False) -> KafkaSecurity:
    """How the stack's clients log in (with PLAIN while migrating)."""
    mechanism = "PLAIN" if migrating else MECHANISM
    return KafkaSecurity("SASL_PLAINTEXT", mechanism, client.user, client.password)


def scram_format_argument(client: Credential) -> str:
    """The value of ``kafka-storage format --add-scram`` for ``client``."""
    return (
        f"{MECHANISM}=[name={client.user},iterations={SCRAM_ITERATIONS},password={client.password}]"
    )


def add_scram_credential(
    bootstrap: str, security: KafkaSecurity, client: Credential, timeout: float = 30.0
) -> None:
    """Create (or replace) ``client``'s SCRAM-SHA-256 credential through the admin API."""
    config: dict[str, Any] = {
        "bootstrap.servers": bootstrap,
        **confluent_security(security),
        "logger": LIBRDKAFKA,
    }
    admin = AdminClient(config)
    upsert = UserScramCredentialUpsertion(
        client.user,
        ScramCredentialInfo(ScramMechanism.SCRAM_SHA_256, SCRAM_ITERATIONS),
        client.password.encode(),
    )
    for future in admin.alter_user_scram_credentials([upsert]).values():
        future.result(timeout)
