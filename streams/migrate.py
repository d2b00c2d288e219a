"""``python -m streams.migrate [--topics]``: the deployment's init step.

Applies the SQL migrations as the schema owner (``GREENAI_DATABASE_OWNER_URL``) and grants
the application role (the user of ``DATABASE_URL``, when it is another role) what it needs;
with ``--topics`` it then creates the Kafka topics that are missing. Both steps are
idempotent and safe to run concurrently. ``greenai up`` does the same for the local stack;
the Helm chart runs this before every install and upgrade, docker-compose as its ``init``
service.
"""

from __future__ import annotations

import argparse
import sys

from streams.database import migrate
from streams.settings import Settings, load_settings
from streams.topics import ensure_topics
from streams.urls import url_user


def app_role(settings: Settings) -> str | None:
    """The role to grant the application's privileges to: ``DATABASE_URL``'s user, unless
    it is the owner itself or not set (then one role does everything)."""
    if not settings.database_url:
        return None
    app = url_user(settings.database_url)
    return app if app != url_user(settings.database_owner()) else None


def run(settings: Settings, *, topics: bool) -> list[str]:
    """Migrate (and create the topics); one line per step, for the Job's log."""
    applied = migrate(settings.database_owner(), app_role(settings))
    lines = [f"migrations applied: {', '.join(applied) or 'none (all applied)'}"]
    if topics:
        made = ensure_topics(
            settings.kafka(), settings.topic_prefix, partitions=settings.partitions
        )
        lines.append(f"topics created: {', '.join(made) or 'none (all exist)'}")
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m streams.migrate", description=__doc__)
    parser.add_argument("--topics", action="store_true", help="create the missing topics too")
    args = parser.parse_args(argv)
    try:
        for line in run(load_settings(), topics=args.topics):
            print(line, flush=True)
    except Exception as exc:  # one line for the operator
        text = str(exc).strip()
        sys.exit(f"greenai migrate: {text.splitlines()[0] if text else type(exc).__name__}")


if __name__ == "__main__":
    main()
