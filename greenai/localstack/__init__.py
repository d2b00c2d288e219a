"""The local stack: Kafka, PostgreSQL and Redis as child processes, plus the app children.

``LocalServers`` starts whichever servers are not given as URLs (data under GREENAI_HOME);
``ProcessGroup`` runs the workers and the BFF of ``greenai up``. See docs/local-stack.md.
"""

from greenai.localstack.processes import ProcessGroup
from greenai.localstack.stack import LocalServers, ServerUrls

__all__ = ["LocalServers", "ProcessGroup", "ServerUrls"]
