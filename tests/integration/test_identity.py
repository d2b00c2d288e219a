"""Identity on the real stack: sign-in and sessions, API tokens, every route × role allowed or
refused (401 unauthenticated, 403 forbidden, 404 outside the user's recons), CSRF, session
fixation, lockout, the password policy and the HTTP hardening."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest
import redis
import yaml

from greenai.localstack import ServerUrls
from streams.ingest.synthetic import TradeGenerator
from tests.integration.browser import Browser
from tests.integration.pipeline import ROOT, Pipeline, start_pipeline

ROLES = ("viewer", "analyst", "approver", "admin")
PASSWORD = "a long and unusual passphrase"
SESSION_IDLE = 6  # seconds (the module's BFF runs with short sessions)
SESSION_ABSOLUTE = 15
SIGN_INS_PER_MINUTE = 60  # every test signs in from 127.0.0.1: room for all of them


@dataclass
class Stack:
    pipeline: Pipeline
    tokens: dict[str, str]  # role (or "scoped") -> an API token of a user with that role
    break_id: str
    other_break_id: str  # a break of the recon the scoped user may not see


def admin(stack: Stack) -> httpx.Client:
    return client(stack, stack.pipeline.admin_token)


def client(stack: Stack, token: str | None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=stack.pipeline.bff_url, headers=headers, timeout=30)


@pytest.fixture(scope="module")
def stack(servers: ServerUrls, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    home = tmp_path_factory.mktemp("identity")
    pipeline = start_pipeline(
        servers,
        home,
        "identity",
        bff_env={
            "GREENAI_SESSION_IDLE": f"{SESSION_IDLE}s",
            "GREENAI_SESSION_ABSOLUTE": f"{SESSION_ABSOLUTE}s",
            "GREENAI_SIGN_IN_PER_IP_PER_MINUTE": str(SIGN_INS_PER_MINUTE),
        },
    )
    try:
        demo = yaml.safe_load((ROOT / "examples" / "demo" / "trades.yaml").read_text())
        for name in ("trades", "fx"):
            path = home / f"{name}.yaml"
            path.write_text(
                yaml.safe_dump(demo | {"name": name, "match_window": "2s"}, sort_keys=False)
            )
            pipeline.cli("recon", "apply", str(path))
        generator = TradeGenerator(seed=3, break_rate=0.5)
        pipeline.publish("trades", [generator.pair() for _ in range(60)])
        pipeline.publish("fx", [generator.pair() for _ in range(60)])
        pipeline.cli("wait", "--timeout", "120", timeout=180)
        tokens = {}
        with httpx.Client(
            base_url=pipeline.bff_url,
            headers={"Authorization": f"Bearer {pipeline.admin_token}"},
            timeout=30,
        ) as api:
            for role, recons in [(r, None) for r in ROLES] + [("scoped", ["fx"])]:
                roles = ["analyst"] if role == "scoped" else [role]
                name = f"{role}-user"
                created = api.post(
                    "/api/users",
                    json={"username": name, "roles": roles, "recons": recons, "password": PASSWORD},
                )
                assert created.status_code == 201, created.text
                made = api.post("/api/tokens", json={"username": name, "name": "tests"})
                assert made.status_code == 201, made.text
                tokens[role] = made.json()["token"]
            breaks = api.get("/api/breaks?status=all&limit=1000").json()
        trades = next(b for b in breaks if b["recon"] == "trades")["break_id"]
        fx = next(b for b in breaks if b["recon"] == "fx")["break_id"]
        yield Stack(pipeline, tokens, fx, trades)
    finally:
        pipeline.group.stop_all()


# --- the route x role matrix ----------------------------------------------------------------

Call = Callable[[httpx.Client, Stack], httpx.Response]


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # as in the OpenAPI document
    permission: str | None  # None: any signed-in principal; "public": nobody needs to be
    call: Call


def _get(path: str) -> Call:
    return lambda c, s: c.get(path.format(b=s.break_id))


def _stream(c: httpx.Client, s: Stack) -> httpx.Response:
    with c.stream("GET", "/api/stream") as response:
        return response


def _throwaway_user(c: httpx.Client, s: Stack) -> str:
    name = f"tmp-{time.monotonic_ns()}"
    admin(s).post("/api/users", json={"username": name, "roles": ["viewer"]})
    return name


def _throwaway_token(s: Stack) -> int:
    made = admin(s).post("/api/tokens", json={"username": "viewer-user", "name": "throwaway"})
    return int(made.json()["token_id"])


ROUTES = [
    Route("GET", "/api/auth/methods", "public", _get("/api/auth/methods")),
    Route("POST", "/api/auth/sign-in", "public", lambda c, s: c.post(
        "/api/auth/sign-in", json={"username": "viewer-user", "password": PASSWORD},
        headers={"Origin": s.pipeline.bff_url})),
    Route("GET", "/api/auth/me", None, _get("/api/auth/me")),
    Route("POST", "/api/auth/sign-out", None, lambda c, s: c.post("/api/auth/sign-out")),
    Route("POST", "/api/auth/password", None, lambda c, s: c.post(
        "/api/auth/password", json={"current": "wrong", "new": PASSWORD + "!"})),
    Route("GET", "/api/breaks", "read", _get("/api/breaks")),
    Route("GET", "/api/breaks/{break_id}", "read", _get("/api/breaks/{b}")),
    Route("GET", "/api/breaks/{break_id}/decisions", "read", _get("/api/breaks/{b}/decisions")),
    Route("GET", "/api/breaks/{break_id}/audit", "read", _get("/api/breaks/{b}/audit")),
    Route("GET", "/api/stream", "read", _stream),
    Route("GET", "/api/recons", "read", _get("/api/recons")),
    Route("GET", "/api/recons/{name}", "read", _get("/api/recons/fx")),
    Route("GET", "/api/progress", "read", _get("/api/progress")),
    Route("GET", "/api/model/versions", "read", _get("/api/model/versions")),
    Route("GET", "/openapi.json", "read", _get("/openapi.json")),
    Route("POST", "/api/breaks/{break_id}/label", "label", lambda c, s: c.post(
        f"/api/breaks/{s.break_id}/label", json={"cause": "FX"})),
    Route("POST", "/api/breaks/labels", "label", lambda c, s: c.post(
        "/api/breaks/labels", json={"labels": [{"break_id": s.break_id, "cause": "FX"}]})),
    Route("POST", "/api/breaks/{break_id}/reverse", "label", lambda c, s: c.post(
        f"/api/breaks/{s.break_id}/reverse", json={"disposition": "QUEUE"})),
    Route("POST", "/api/breaks/{break_id}/actions", "comment", lambda c, s: c.post(
        f"/api/breaks/{s.break_id}/actions", json={"action": "comment", "text": "matrix"})),
    Route("POST", "/api/breaks/actions", "assign", lambda c, s: c.post(
        "/api/breaks/actions", json={"action": "take", "break_ids": [s.break_id]})),
    Route("GET", "/api/breaks/{break_id}/comments", "read", _get("/api/breaks/{b}/comments")),
    Route("GET", "/api/breaks/{break_id}/history", "read", _get("/api/breaks/{b}/history")),
    Route("GET", "/api/approvals", "approve", _get("/api/approvals")),
    Route("GET", "/api/breaks/export", "read", _get("/api/breaks/export?format=csv")),
    Route("GET", "/api/stats", "read", _get("/api/stats")),
    Route("GET", "/api/reports/eod", "read", _get("/api/reports/eod?recon=fx")),
    Route("GET", "/api/schedule", "read", _get("/api/schedule")),
    Route("GET", "/api/schedule/runs", "read", _get("/api/schedule/runs?job=sla")),
    Route("POST", "/api/schedule/{job}/run", "admin", lambda c, s: c.post(
        "/api/schedule/sla/run")),
    Route("GET", "/api/audit", "audit", _get("/api/audit")),
    Route("GET", "/api/audit/export", "audit", _get("/api/audit/export?format=jsonl")),
    Route("GET", "/api/audit/verify", "audit", _get("/api/audit/verify")),
    Route("GET", "/api/users", "admin", _get("/api/users")),
    Route("POST", "/api/users", "admin", lambda c, s: c.post(
        "/api/users", json={"username": f"u{time.monotonic_ns()}", "roles": ["viewer"]})),
    Route("PATCH", "/api/users/{username}", "admin", lambda c, s: c.patch(
        f"/api/users/{_throwaway_user(c, s)}", json={"display_name": "changed"})),
    Route("POST", "/api/users/{username}/sessions/revoke", "admin", lambda c, s: c.post(
        f"/api/users/{_throwaway_user(c, s)}/sessions/revoke")),
    Route("GET", "/api/tokens", "admin", _get("/api/tokens")),
    Route("POST", "/api/tokens", "admin", lambda c, s: c.post(
        "/api/tokens", json={"username": "viewer-user", "name": "matrix"})),
    Route("DELETE", "/api/tokens/{token_id}", "admin", lambda c, s: c.delete(
        f"/api/tokens/{_throwaway_token(s)}")),
    Route("PUT", "/api/recons/{name}", "admin", lambda c, s: c.put(
        "/api/recons/fx", json=c.get("/api/recons/fx").json().get("definition")
        if c.get("/api/recons/fx").status_code == 200 else {})),
    Route("POST", "/api/replay", "admin", lambda c, s: c.post(
        "/api/replay", json={"recon": "fx", "from": "2100-01-01T00:00:00Z"})),
    Route("POST", "/api/model/rollback", "admin", lambda c, s: c.post(
        "/api/model/rollback", json={"version": 1})),
    Route("GET", "/metrics", "admin", _get("/metrics")),
    Route("GET", "/api/alerts/subscriptions", "admin", _get("/api/alerts/subscriptions")),
    Route("POST", "/api/alerts/subscriptions", "admin", lambda c, s: c.post(
        "/api/alerts/subscriptions", json={"name": f"m{time.monotonic_ns()}",
                                           "channel": "email", "target": "ops@x.example"})),
    Route("DELETE", "/api/alerts/subscriptions/{name}", "admin", lambda c, s: c.delete(
        "/api/alerts/subscriptions/no-such-subscription")),
    Route("GET", "/api/alerts/deliveries", "admin", _get("/api/alerts/deliveries")),
]  # fmt: skip
GRANTS = {
    "viewer": {"read"},
    "analyst": {"read", "label", "comment", "assign", "propose"},
    "approver": {"read", "audit", "approve"},
    "admin": {"read", "audit", "admin"},
}
NOT_IN_SCHEMA = {("GET", "/openapi.json"), ("GET", "/metrics")}


def test_the_matrix_covers_every_route_of_the_api(stack: Stack) -> None:
    schema = admin(stack).get("/openapi.json").json()
    served = {
        (method.upper(), path)
        for path, item in schema["paths"].items()
        for method in item
        if path.startswith("/api/")
    }
    listed = {(r.method, r.path) for r in ROUTES if r.path.startswith("/api/")}
    assert served == listed


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_without_credentials_only_the_public_routes_answer(stack: Stack, route: Route) -> None:
    status = route.call(client(stack, None), stack).status_code
    if route.permission == "public":
        assert status not in (401, 403), status
    else:
        assert status == 401, status


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    "route", [r for r in ROUTES if r.permission != "public"], ids=lambda r: f"{r.method} {r.path}"
)
def test_each_role_is_allowed_exactly_its_permissions(
    stack: Stack, route: Route, role: str
) -> None:
    response = route.call(client(stack, stack.tokens[role]), stack)
    allowed = route.permission is None or route.permission in GRANTS[role]
    if route.path == "/api/auth/sign-out":  # a token signs nothing out: refused, never 401/403
        assert response.status_code == 400
    elif allowed:
        assert response.status_code not in (401, 403), (response.status_code, response.text)
    else:
        assert response.status_code == 403, (response.status_code, response.text)


def test_objects_outside_a_users_recons_do_not_exist_for_them(stack: Stack) -> None:
    scoped = client(stack, stack.tokens["scoped"])
    hidden = stack.other_break_id
    assert scoped.get(f"/api/breaks/{hidden}").status_code == 404
    assert scoped.get(f"/api/breaks/{hidden}/decisions").status_code == 404
    assert scoped.get(f"/api/breaks/{hidden}/audit").status_code == 404
    labelled = scoped.post(f"/api/breaks/{hidden}/label", json={"cause": "FX"})
    assert labelled.status_code == 404
    assert scoped.get("/api/recons/trades").status_code == 404
    assert {r["name"] for r in scoped.get("/api/recons").json()} == {"fx"}
    listed = scoped.get("/api/breaks?status=all").json()
    assert listed and {b["recon"] for b in listed} == {"fx"}
    assert scoped.get(f"/api/breaks/{stack.break_id}").status_code == 200


def test_the_stream_carries_only_the_users_recons(stack: Stack) -> None:
    from tests.integration.sse import SseRecorder

    everyone = SseRecorder(f"{stack.pipeline.bff_url}/api/stream", stack.tokens["analyst"])
    scoped = SseRecorder(f"{stack.pipeline.bff_url}/api/stream", stack.tokens["scoped"])
    for recorder in (everyone, scoped):
        recorder.start()
        assert recorder.ready.wait(20)
    generator = TradeGenerator(seed=44, break_rate=1.0)
    stack.pipeline.publish("trades", [generator.pair() for _ in range(20)])
    stack.pipeline.publish("fx", [generator.pair() for _ in range(20)])
    stack.pipeline.cli("wait", "--timeout", "120", timeout=180)
    time.sleep(1)
    for recorder in (everyone, scoped):
        recorder.stop()
    assert {d["recon"] for e, _, d in everyone.events if e == "break"} == {"trades", "fx"}
    assert {d["recon"] for e, _, d in scoped.events if e == "break"} == {"fx"}


# --- browser sessions ------------------------------------------------------------------------


def browser(stack: Stack) -> Browser:
    return Browser(stack.pipeline.bff_url)


def test_a_session_is_an_httponly_cookie_and_no_token_reaches_the_page(stack: Stack) -> None:
    b = browser(stack)
    response = b.sign_in("analyst-user", PASSWORD)
    assert response.status_code == 200
    (header,) = response.headers.get_list("set-cookie")
    assert header.startswith("__Host-greenai_session=")
    attributes = {part.strip().lower() for part in header.split(";")}
    assert {"httponly", "secure", "path=/", "samesite=lax"} <= attributes
    assert not any(a.startswith("domain") for a in attributes)
    body = response.json()
    assert set(body) == {
        "username", "display_name", "roles", "permissions", "recons", "via", "csrf_token"
    }  # fmt: skip
    assert b.get("/api/auth/me").json()["username"] == "analyst-user"


def test_sign_in_starts_a_new_session_whatever_the_browser_brought(stack: Stack) -> None:
    """Session fixation: a session id planted before sign-in is never the one used after."""
    planted = browser(stack)
    planted.sign_in("viewer-user", PASSWORD)
    name, old = planted.session_cookie() or ("", "")
    victim = browser(stack)
    victim.cookies[name] = old  # the attacker's id, planted in the victim's browser
    victim.sign_in("analyst-user", PASSWORD)
    assert victim.session_cookie() is not None and victim.session_cookie()[1] != old
    assert victim.get("/api/auth/me").json()["username"] == "analyst-user"
    stale = Browser(stack.pipeline.bff_url)
    stale.cookies[name] = old
    assert stale.get("/api/auth/me").status_code == 401  # the planted id was ended


def test_changes_need_the_csrf_token_and_this_sites_origin(stack: Stack) -> None:
    b = browser(stack)
    b.sign_in("analyst-user", PASSWORD)
    path = f"/api/breaks/{stack.break_id}/label"
    assert b.post(path, json={"cause": "FEE"}, csrf=False).status_code == 403
    wrong = b.post(path, json={"cause": "FEE"}, headers={"X-CSRF-Token": "guess"})
    assert wrong.status_code == 403
    foreign = b.post(path, json={"cause": "FEE"}, headers={"Origin": "https://evil.example"})
    assert foreign.status_code == 403
    assert b.post(path, json={"cause": "FEE"}).status_code == 200
    forged = Browser(stack.pipeline.bff_url, origin="https://evil.example")
    assert forged.sign_in("analyst-user", PASSWORD).status_code == 403  # login CSRF


def test_sign_out_and_an_admin_revoke_end_sessions_at_once(stack: Stack) -> None:
    b = browser(stack)
    b.sign_in("viewer-user", PASSWORD)
    assert b.post("/api/auth/sign-out").status_code == 204
    assert b.get("/api/auth/me").status_code == 401
    first, second = browser(stack), browser(stack)
    first.sign_in("approver-user", PASSWORD)
    second.sign_in("approver-user", PASSWORD)
    revoked = admin(stack).post("/api/users/approver-user/sessions/revoke")
    assert revoked.json()["sessions"] >= 2
    assert first.get("/api/auth/me").status_code == 401
    assert second.get("/api/auth/me").status_code == 401


def test_sessions_end_when_idle_and_after_their_absolute_lifetime(stack: Stack) -> None:
    idle = browser(stack)
    idle.sign_in("viewer-user", PASSWORD)
    time.sleep(SESSION_IDLE + 1)
    assert idle.get("/api/auth/me").status_code == 401
    busy = browser(stack)
    busy.sign_in("viewer-user", PASSWORD)
    deadline = time.monotonic() + SESSION_ABSOLUTE + 2
    while time.monotonic() < deadline and busy.get("/api/auth/me").status_code == 200:
        time.sleep(2)  # used all the time, never idle
    assert busy.get("/api/auth/me").status_code == 401


def test_five_wrong_passwords_lock_the_account_and_every_attempt_is_audited(
    stack: Stack,
) -> None:
    admin(stack).post(
        "/api/users", json={"username": "lucky", "roles": ["viewer"], "password": PASSWORD}
    )
    b = browser(stack)
    for _ in range(5):
        assert b.sign_in("lucky", "not the password").status_code == 401
    assert b.sign_in("lucky", PASSWORD).status_code == 401  # locked, even with the password
    failed = admin(stack).get("/api/audit?actor=lucky").json()
    reasons = [e["after"]["reason"] for e in failed if e["action"] == "auth.sign_in_failed"]
    assert len(reasons) == 6 and reasons[-1] == "account locked"
    assert all(e["ip"] and e["user_agent"] and e["request_id"] for e in failed)


def test_weak_and_common_passwords_are_refused(stack: Stack) -> None:
    api = admin(stack)
    for weak in ("short", "password123", "qwertyuiop"):
        made = api.post(
            "/api/users", json={"username": "weak", "roles": ["viewer"], "password": weak}
        )
        assert made.status_code == 400, weak
    long = "x" * 100 + " still fine"
    made = api.post("/api/users", json={"username": "long", "roles": ["viewer"], "password": long})
    assert made.status_code == 201
    assert browser(stack).sign_in("long", long).status_code == 200


def test_a_revoked_or_disabled_token_opens_nothing(stack: Stack) -> None:
    api = admin(stack)
    made = api.post("/api/tokens", json={"username": "viewer-user", "name": "short-lived"}).json()
    token = client(stack, made["token"])
    assert token.get("/api/breaks").status_code == 200
    assert api.delete(f"/api/tokens/{made['token_id']}").status_code == 204
    assert token.get("/api/breaks").status_code == 401
    extra = api.post("/api/tokens", json={"username": "viewer-user", "name": "other"}).json()
    api.patch("/api/users/viewer-user", json={"disabled": True})
    try:
        assert client(stack, extra["token"]).get("/api/breaks").status_code == 401
    finally:
        api.patch("/api/users/viewer-user", json={"disabled": False})


def test_a_token_carries_no_more_roles_than_its_user(stack: Stack) -> None:
    made = admin(stack).post(
        "/api/tokens", json={"username": "viewer-user", "name": "greedy", "roles": ["admin"]}
    )
    assert made.status_code == 400


def test_the_local_stacks_redis_keeps_only_digests_of_session_ids(stack: Stack) -> None:
    b = browser(stack)
    b.sign_in("analyst-user", PASSWORD)
    _, session_id = b.session_cookie() or ("", "")
    with redis.Redis.from_url(stack.pipeline.env["REDIS_URL"]) as r:
        keys = [
            k.decode() for k in r.keys(f"{stack.pipeline.env['GREENAI_TOPIC_PREFIX']}:session:*")
        ]
    assert keys and not any(session_id in k for k in keys)


# --- HTTP hardening --------------------------------------------------------------------------


def test_every_response_carries_the_security_headers(stack: Stack) -> None:
    for path in ("/", "/api/auth/methods", "/api/breaks"):
        headers = httpx.get(f"{stack.pipeline.bff_url}{path}", timeout=10).headers
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"
        assert headers["x-request-id"]


def test_unknown_hosts_are_refused_and_no_cors_is_granted(stack: Stack) -> None:
    url = f"{stack.pipeline.bff_url}/api/auth/methods"
    assert httpx.get(url, headers={"Host": "evil.example"}, timeout=10).status_code == 400
    preflight = httpx.options(
        url,
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        timeout=10,
    )
    assert "access-control-allow-origin" not in preflight.headers
    plain = httpx.get(url, headers={"Origin": "https://evil.example"}, timeout=10)
    assert "access-control-allow-origin" not in plain.headers


def test_the_api_description_and_the_metrics_need_a_role(stack: Stack) -> None:
    base = stack.pipeline.bff_url
    assert httpx.get(f"{base}/openapi.json", timeout=10).status_code == 401
    assert httpx.get(f"{base}/docs", timeout=10).status_code == 404
    assert client(stack, stack.tokens["viewer"]).get("/metrics").status_code == 403
    assert admin(stack).get("/metrics").status_code == 200


def test_each_address_is_limited_in_its_sign_in_attempts(stack: Stack) -> None:
    """(Last in the module: it uses up this minute's attempts of 127.0.0.1.)"""
    b = browser(stack)
    codes = [b.sign_in(f"nobody-{n}", "x").status_code for n in range(SIGN_INS_PER_MINUTE + 5)]
    assert codes[-1] == 429 and set(codes) == {401, 429}
