"""How a subscriber is told: a signed webhook call or an e-mail. Each returns a line for the
delivery log, or raises :class:`Undelivered` with the reason (the notifier retries)."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
import time
from email.message import EmailMessage
from email.utils import make_msgid

import httpx

from streams.notify import message
from streams.notify.config import SmtpConfig
from streams.notify.signing import SIGNATURE, TIMESTAMP, sign
from streams.notify.subscriptions import Subscription


class Undelivered(Exception):
    """One attempt failed (the message is the reason, one line)."""


async def webhook(client: httpx.AsyncClient, sub: Subscription, alert: dict, attempt: int) -> str:
    body = message.as_json(alert, sub.name)
    now = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "greenai-notifier",
        "X-Greenai-Alert": alert["alert_id"],
        "X-Greenai-Attempt": str(attempt),
        TIMESTAMP: str(now),
        SIGNATURE: sign(sub.secret or "", now, body),
    }
    try:
        response = await client.post(sub.target, content=body, headers=headers)
    except httpx.HTTPError as exc:
        raise Undelivered(f"{type(exc).__name__}: {exc}".strip()) from None
    if not response.is_success:
        raise Undelivered(f"HTTP {response.status_code} {response.reason_phrase}".strip())
    return f"HTTP {response.status_code}"


async def email(smtp: SmtpConfig, timeout: float, sub: Subscription, alert: dict) -> str:
    if not smtp.host:
        raise Undelivered("no SMTP relay configured (GREENAI_SMTP_HOST)")
    mail = EmailMessage()
    mail["From"] = smtp.sender
    mail["To"] = sub.target
    mail["Subject"] = message.subject(alert)
    mail["Message-ID"] = make_msgid(domain="greenai")
    mail["X-Greenai-Alert"] = alert["alert_id"]
    mail.set_content(message.text(alert, sub.name))

    def send() -> str:
        assert smtp.host is not None
        with smtplib.SMTP(smtp.host, smtp.port, timeout=timeout) as relay:
            if smtp.starttls:  # with the relay's certificate checked, before any password
                relay.starttls(context=ssl.create_default_context())
            if smtp.user:
                relay.login(smtp.user, smtp.password or "")
            refused = relay.send_message(mail)
        if refused:
            raise Undelivered(f"refused by the relay: {refused}")
        return f"accepted by {smtp.host}:{smtp.port}"

    try:
        return await asyncio.to_thread(send)
    except (smtplib.SMTPException, OSError) as exc:
        raise Undelivered(f"{type(exc).__name__}: {exc}".strip()) from None
