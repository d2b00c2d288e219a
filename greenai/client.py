"""The BFF's API as the command line uses it, authenticated with an API token.

The token is ``GREENAI_TOKEN``, or — next to a local stack, in the same ``GREENAI_HOME`` —
the token ``greenai up`` created for this stack's command line and keeps in
``$GREENAI_HOME/credentials.json`` (readable by its owner only). The BFF is
``GREENAI_BFF_URL``, or the local stack's. Every failure is one line.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import httpx

from streams.settings import NotConfigured, Settings

CREDENTIALS = "credentials.json"  # greenai.localstack.accounts writes it


class ApiError(RuntimeError):
    """The BFF refused or failed (the message is its one-line reason)."""


class ApiUnavailable(ApiError):
    """The BFF does not answer, or answers that it cannot serve now (502, 503, 504)."""


def local_credentials(settings: Settings) -> dict[str, Any]:
    """What ``greenai up`` keeps for this home's command line (empty: no local stack)."""
    path = settings.greenai_home / CREDENTIALS
    try:
        return dict(json.loads(path.read_text()))
    except (OSError, ValueError):
        return {}


class Bff:
    def __init__(self, settings: Settings, timeout: float = 120.0) -> None:
        token = os.environ.get("GREENAI_TOKEN") or local_credentials(settings).get("token")
        if not token:
            raise NotConfigured(
                "no API token: set GREENAI_TOKEN (an admin creates one with `greenai users "
                "token create`), or run next to the local stack (GREENAI_HOME)"
            )
        self.base = os.environ.get("GREENAI_BFF_URL") or settings.bff_url
        self.http = httpx.Client(
            base_url=self.base,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=timeout,
        )

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise ApiUnavailable(f"the BFF at {self.base} does not answer ({exc})") from None
        if response.status_code in (502, 503, 504):
            raise ApiUnavailable(f"the BFF cannot serve now ({response.status_code})")
        if response.status_code >= 500:
            raise ApiError(f"the BFF failed ({response.status_code}): {_detail(response)}")
        if response.status_code >= 400:
            raise ApiError(_detail(response))
        return response

    def get(self, path: str, **params: Any) -> Any:
        return self.call("GET", path, params=_params(params)).json()

    def post(self, path: str, body: Any = None) -> Any:
        response = self.call("POST", path, json=body)
        return response.json() if response.content else None

    def put(self, path: str, body: Any) -> Any:
        return self.call("PUT", path, json=body).json()

    def patch(self, path: str, body: Any) -> Any:
        return self.call("PATCH", path, json=body).json()

    def delete(self, path: str) -> None:
        self.call("DELETE", path)

    def pages(self, path: str, **params: Any) -> Iterator[Any]:
        """Every item of a keyset-paged list (following ``X-Next-Cursor``)."""
        cursor = None
        while True:
            response = self.call("GET", path, params=_params(params | {"cursor": cursor}))
            yield from response.json()
            cursor = response.headers.get("x-next-cursor")
            if not cursor:
                return

    def stream(self, path: str, **params: Any) -> Iterator[bytes]:
        """A download, in chunks."""
        with self.http.stream("GET", path, params=_params(params)) as response:
            if response.status_code >= 400:
                response.read()
                raise ApiError(f"{response.status_code}: {_detail(response)}")
            yield from response.iter_bytes()


def _params(params: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if v is not None}


def _detail(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail")
    except ValueError:
        return response.text.strip().splitlines()[0] if response.text.strip() else "no reason given"
    if isinstance(detail, list):  # a validation error: the first problem, in one line
        first = detail[0] if detail else {}
        where = ".".join(str(p) for p in first.get("loc", [])[1:])
        return f"{where}: {first.get('msg', 'invalid')}" if where else str(first.get("msg"))
    return str(detail)
