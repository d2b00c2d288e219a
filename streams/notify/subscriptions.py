"""A subscription and which alerts it takes (pure).

>>> s = Subscription(1, "fx-desk", "webhook", "https://hooks.example/x", "k",
...                  recons=["trades"], severities=["CRITICAL"], kinds=None)
>>> s.wants({"recon": "trades", "severity": "CRITICAL", "kind": "SLA_BREACH"})
True
>>> s.wants({"recon": "payments", "severity": "CRITICAL", "kind": "SLA_BREACH"})
False
>>> s.wants({"recon": None, "severity": "CRITICAL", "kind": "MODEL_DRIFT"})  # no recon
False
>>> Subscription(2, "all", "email", "ops@example.com", None).wants({"severity": "INFO"})
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Channel = Literal["webhook", "email"]


@dataclass(frozen=True)
class Subscription:
    subscription_id: int
    name: str
    channel: Channel
    target: str  # the webhook's URL, or the e-mail address
    secret: str | None = field(repr=False)  # the webhook's HMAC-SHA256 key
    recons: list[str] | None = None  # None: every recon (and alerts of no recon)
    severities: list[str] | None = None  # None: every severity
    kinds: list[str] | None = None  # None: every kind

    def wants(self, alert: dict[str, Any]) -> bool:
        """Whether ``alert`` (an Alert datum) passes every filter this subscription sets."""
        return (
            (self.recons is None or alert.get("recon") in self.recons)
            and (self.severities is None or alert.get("severity") in self.severities)
            and (self.kinds is None or alert.get("kind") in self.kinds)
        )
