"""What the API accepts as an alert subscription: a target that fits its channel."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bff.routers.alerts import SubscriptionIn


def test_a_webhook_needs_an_http_url_and_may_bring_its_own_long_secret() -> None:
    made = SubscriptionIn(
        name="desk", channel="webhook", target="https://hooks.example/x", secret="s" * 16
    )
    assert made.secret == "s" * 16
    for target in ("ftp://hooks.example/x", "http://hooks.example:abc/", "https://", "hooks"):
        with pytest.raises(ValidationError, match="http"):
            SubscriptionIn(name="desk", channel="webhook", target=target)
    with pytest.raises(ValidationError):
        SubscriptionIn(name="desk", channel="webhook", target="https://h.example", secret="short")


def test_an_email_subscription_is_one_address_and_has_no_secret() -> None:
    assert SubscriptionIn(name="ops", channel="email", target="ops@example.com").secret is None
    for target in ("ops.example.com", "a@example.com, b@example.com", "a@x.example\r\nBcc: z"):
        with pytest.raises(ValidationError, match="one address"):
            SubscriptionIn(name="ops", channel="email", target=target)
    with pytest.raises(ValidationError, match="secret"):
        SubscriptionIn(name="ops", channel="email", target="ops@example.com", secret="s" * 16)


def test_filters_name_known_severities_only() -> None:
    with pytest.raises(ValidationError):
        SubscriptionIn.model_validate(
            {"name": "x", "channel": "email", "target": "a@b.example", "severities": ["LOUD"]}
        )
