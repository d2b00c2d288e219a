"""The local stack: Kafka, PostgreSQL and Redis as child processes, plus the app children.

``LocalServers`` starts whichever servers are not given as URLs (data under GREENAI_HOME,
every login locked with the credentials of ``$GREENAI_HOME/secrets.json``) and hands out
their ``ServerUrls``; ``ProcessGroup`` runs the workers and the BFF of ``greenai up``. See
docs/local-stack.md.
"""

from greenai.localstack.processes import ProcessGroup
from greenai.localstack.server_urls import ServerUrls
from greenai.localstack.stack import LocalServers

__all__ = ["LocalServers", "ProcessGroup", "ServerUrls"]
