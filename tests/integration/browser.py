"""An HTTP client that behaves as the ReconWorkstation in a browser does: it sends its own
origin, keeps the session cookie, and sends the session's CSRF token with every change.

(The cookie is kept by hand: it is ``Secure``, which Python's cookie jar sends over HTTPS
only, while browsers also send it to this machine's own addresses over plain HTTP.)
"""

from __future__ import annotations

from http.cookies import SimpleCookie
from typing import Any

import httpx

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


class Browser:
    def __init__(self, base_url: str, origin: str | None = None) -> None:
        self.base_url = base_url
        self.origin = origin or base_url
        self.cookies: dict[str, str] = {}
        self.csrf: str | None = None
        self.http = httpx.Client(base_url=base_url, timeout=30)

    def request(
        self, method: str, path: str, *, csrf: bool = True, **kwargs: Any
    ) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        headers.setdefault("Origin", self.origin)
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if csrf and method.upper() in UNSAFE and self.csrf:
            headers.setdefault("X-CSRF-Token", self.csrf)
        response = self.http.request(method, path, headers=headers, **kwargs)
        self.keep(response)
        return response

    def keep(self, response: httpx.Response) -> None:
        for header in response.headers.get_list("set-cookie"):
            jar: SimpleCookie = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                if morsel["max-age"] == "0" or morsel.value in ("", '""'):
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value

    def sign_in(self, username: str, password: str) -> httpx.Response:
        response = self.request(
            "POST", "/api/auth/sign-in", json={"username": username, "password": password}
        )
        if response.status_code == 200:
            self.csrf = response.json()["csrf_token"]
        return response

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def session_cookie(self) -> tuple[str, str] | None:
        for name, value in self.cookies.items():
            if name.endswith("greenai_session"):
                return name, value
        return None
