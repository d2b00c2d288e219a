"""The local stack's own accounts and BFF keys, generated once per GREENAI_HOME.

``$GREENAI_HOME/credentials.json`` (mode 0600) holds the first admin's password, the API
token of this stack's command line (every ``greenai`` command next to the stack finds it
there), the demo analyst's password and the BFF's audit and cookie keys. ``greenai up``
hands them to the BFF in its environment; the BFF creates the accounts once.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

from greenai.localstack.private import write_private

CREDENTIALS_FILE = "credentials.json"  # also read by greenai.client


@dataclass(frozen=True)
class Accounts:
    admin_password: str
    token: str
    demo_analyst_password: str
    audit_key: str
    secret_key: str

    def bff_env(self, demo: bool) -> dict[str, str]:
        """What the BFF needs to create the accounts and key its trail and cookies."""
        env = {
            "GREENAI_BOOTSTRAP_ADMIN_PASSWORD": self.admin_password,
            "GREENAI_BOOTSTRAP_ADMIN_TOKEN": self.token,
            "GREENAI_AUDIT_KEY": self.audit_key,
            "GREENAI_SECRET_KEY": self.secret_key,
        }
        if demo:
            env["GREENAI_BOOTSTRAP_DEMO_ANALYST_PASSWORD"] = self.demo_analyst_password
        return env


def ensure_accounts(home: Path) -> Accounts:
    """The home's accounts: those kept in ``credentials.json``, or new ones."""
    path = Path(home) / CREDENTIALS_FILE
    try:
        found = Accounts(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        found = Accounts(
            admin_password=secrets.token_urlsafe(12),
            token="gat_" + secrets.token_urlsafe(32),
            demo_analyst_password=secrets.token_urlsafe(12),
            audit_key=secrets.token_urlsafe(32),
            secret_key=secrets.token_urlsafe(32),
        )
        write_private(path, json.dumps(asdict(found), indent=2) + "\n")
    return found
