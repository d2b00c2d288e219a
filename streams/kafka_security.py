"""How greenai's Kafka clients authenticate: one typed description, three client dialects.

``None`` means PLAINTEXT (no authentication). Otherwise a :class:`KafkaSecurity` says the
protocol (SASL_PLAINTEXT or SASL_SSL), the SASL mechanism and the user; it turns into
confluent-kafka configuration, aiokafka keyword arguments and Faust ``broker_credentials``.

>>> security = KafkaSecurity("SASL_PLAINTEXT", "SCRAM-SHA-256", "greenai", "s3cret")
>>> security
KafkaSecurity(protocol='SASL_PLAINTEXT', mechanism='SCRAM-SHA-256', username='greenai')
>>> confluent_security(security)["sasl.mechanism"]
'SCRAM-SHA-256'
>>> sorted(aiokafka_security(security))
['sasl_mechanism', 'sasl_plain_password', 'sasl_plain_username', 'security_protocol']
>>> confluent_security(None), aiokafka_security(None), faust_credentials(None)
({}, {}, None)
>>> security_env(None)["KAFKA_SECURITY_PROTOCOL"]
'PLAINTEXT'
>>> try:
...     parse_security("SASL_PLAINTEXT", None, "greenai", None)
... except IncompleteKafkaSecurity as exc:
...     print(exc)
KAFKA_SECURITY_PROTOCOL is SASL_PLAINTEXT but KAFKA_SASL_PASSWORD is not set
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import faust

__all__ = [
    "DEFAULT_MECHANISM",
    "ENV_MECHANISM",
    "ENV_PASSWORD",
    "ENV_PROTOCOL",
    "ENV_USERNAME",
    "IncompleteKafkaSecurity",
    "KafkaSecurity",
    "aiokafka_security",
    "confluent_security",
    "faust_credentials",
    "parse_security",
    "security_env",
    "security_from_env",
]

ENV_PROTOCOL = "KAFKA_SECURITY_PROTOCOL"
ENV_MECHANISM = "KAFKA_SASL_MECHANISM"
ENV_USERNAME = "KAFKA_SASL_USERNAME"
ENV_PASSWORD = "KAFKA_SASL_PASSWORD"
SASL_PROTOCOLS = ("SASL_PLAINTEXT", "SASL_SSL")
MECHANISMS = ("SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN")
DEFAULT_MECHANISM = "SCRAM-SHA-256"


class IncompleteKafkaSecurity(ValueError):
    """The security variables name SASL but leave out what it needs (or name the unknown)."""


@dataclass(frozen=True)
class KafkaSecurity:
    """SASL authentication for Kafka clients (the password never shows in its repr)."""

    protocol: str  # SASL_PLAINTEXT | SASL_SSL
    mechanism: str  # SCRAM-SHA-256 | SCRAM-SHA-512 | PLAIN
    username: str
    password: str = field(repr=False)

    def public(self) -> dict[str, str]:
        """What may be written to files (stack.json, servers.json): all but the password."""
        return {"protocol": self.protocol, "mechanism": self.mechanism, "username": self.username}


def parse_security(
    protocol: str | None, mechanism: str | None, username: str | None, password: str | None
) -> KafkaSecurity | None:
    """The description the four settings make (empty strings count as unset); None for
    PLAINTEXT. Raises :class:`IncompleteKafkaSecurity` for a SASL protocol without a user
    or password, or for a protocol or mechanism greenai does not support."""
    protocol = (protocol or "PLAINTEXT").upper()
    if protocol == "PLAINTEXT":
        return None
    if protocol not in SASL_PROTOCOLS:
        raise IncompleteKafkaSecurity(
            f"{ENV_PROTOCOL}={protocol} is not supported (PLAINTEXT, {', '.join(SASL_PROTOCOLS)})"
        )
    mechanism = (mechanism or DEFAULT_MECHANISM).upper()
    if mechanism not in MECHANISMS:
        raise IncompleteKafkaSecurity(
            f"{ENV_MECHANISM}={mechanism} is not supported ({', '.join(MECHANISMS)})"
        )
    for value, variable in ((username, ENV_USERNAME), (password, ENV_PASSWORD)):
        if not value:
            raise IncompleteKafkaSecurity(f"{ENV_PROTOCOL} is {protocol} but {variable} is not set")
    assert username and password
    return KafkaSecurity(protocol, mechanism, username, password)


def security_from_env(environ: Mapping[str, str]) -> KafkaSecurity | None:
    """The description the ``KAFKA_SECURITY_PROTOCOL`` / ``KAFKA_SASL_*`` variables make."""
    return parse_security(
        environ.get(ENV_PROTOCOL),
        environ.get(ENV_MECHANISM),
        environ.get(ENV_USERNAME),
        environ.get(ENV_PASSWORD),
    )


def security_env(security: KafkaSecurity | None) -> dict[str, str]:
    """The variables that hand ``security`` to a child process (all four, so that none is
    inherited from the parent by mistake)."""
    if security is None:
        return {ENV_PROTOCOL: "PLAINTEXT", ENV_MECHANISM: "", ENV_USERNAME: "", ENV_PASSWORD: ""}
    return {
        ENV_PROTOCOL: security.protocol,
        ENV_MECHANISM: security.mechanism,
        ENV_USERNAME: security.username,
        ENV_PASSWORD: security.password,
    }


def confluent_security(security: KafkaSecurity | None) -> dict[str, str]:
    """confluent-kafka (librdkafka) configuration entries."""
    if security is None:
        return {}
    return {
        "security.protocol": security.protocol,
        "sasl.mechanism": security.mechanism,
        "sasl.username": security.username,
        "sasl.password": security.password,
    }


def aiokafka_security(security: KafkaSecurity | None) -> dict[str, Any]:
    """Keyword arguments for aiokafka's clients (AIOKafkaConsumer, AIOKafkaProducer)."""
    if security is None:
        return {}
    kwargs: dict[str, Any] = {
        "security_protocol": security.protocol,
        "sasl_mechanism": security.mechanism,
        "sasl_plain_username": security.username,
        "sasl_plain_password": security.password,
    }
    if security.protocol == "SASL_SSL":
        from aiokafka.helpers import create_ssl_context

        kwargs["ssl_context"] = create_ssl_context()
    return kwargs


def faust_credentials(security: KafkaSecurity | None) -> faust.SASLCredentials | None:
    """Faust's ``broker_credentials`` (its aiokafka driver passes them to every client)."""
    if security is None:
        return None
    import faust

    ssl_context = None
    if security.protocol == "SASL_SSL":
        from aiokafka.helpers import create_ssl_context

        ssl_context = create_ssl_context()
    return faust.SASLCredentials(
        username=security.username,
        password=security.password,
        mechanism=security.mechanism,
        ssl_context=ssl_context,
    )
