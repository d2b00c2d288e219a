"""The BFF as an ASGI application for a process manager: ``gunicorn ... bff.asgi:app``.

Without the break sink: in a deployment the sink is its own process (``python -m bff.sink``)
so that BFF replicas, and gunicorn's workers in each, do not each consume the breaks topic.
"""

from __future__ import annotations

from bff.app import create_app

app = create_app(run_sink=False)
