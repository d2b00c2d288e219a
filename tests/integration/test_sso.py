"""Single sign-on against a real OpenID Connect provider (oidc-provider-mock, a standalone
server process): the authorization code flow with PKCE and a nonce, the provider's groups
mapped to roles and recons, refusals audited, and a callback that does not belong to the
flow its browser started refused."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from greenai.localstack import ServerUrls
from greenai.localstack.ports import free_port
from tests.integration.browser import Browser
from tests.integration.pipeline import Pipeline, start_pipeline

USERS = [
    {"sub": "olga", "preferred_username": "olga", "name": "Olga Ops", "groups": ["recon-ops"]},
    {"sub": "nils", "preferred_username": "nils", "groups": ["strangers"]},
]
GROUPS = {"recon-ops": {"roles": ["analyst"], "recons": ["trades"]}}


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    port = free_port()
    argv = [sys.executable, "-m", "oidc_provider_mock", "--port", str(port), "--require-nonce"]
    for user in USERS:
        argv += ["--user-claims", json.dumps(user)]
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    issuer = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{issuer}/.well-known/openid-configuration").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the OpenID provider did not start"
            time.sleep(0.2)
        yield issuer
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def stack(
    servers: ServerUrls, provider: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Pipeline]:
    pipeline = start_pipeline(
        servers,
        tmp_path_factory.mktemp("sso"),
        "sso",
        bff_env={
            "GREENAI_OIDC_ISSUER": provider,
            "GREENAI_OIDC_CLIENT_ID": "greenai",
            "GREENAI_OIDC_CLIENT_SECRET": "greenai-secret",
            "GREENAI_OIDC_GROUP_MAP": json.dumps(GROUPS),
            "AUTHLIB_INSECURE_TRANSPORT": "1",  # the test provider speaks plain HTTP
        },
    )
    try:
        yield pipeline
    finally:
        pipeline.group.stop_all()


def start_flow(stack: Pipeline) -> tuple[Browser, str]:
    """A browser that asked to sign in with SSO: the provider's authorization URL."""
    browser = Browser(stack.bff_url)
    started = browser.get("/api/auth/sso/login", follow_redirects=False)
    assert started.status_code == 302
    return browser, started.headers["location"]


def authorize(authorization_url: str, sub: str) -> str:
    """The provider's consent, as its form posts it: our callback URL with the code."""
    answered = httpx.post(authorization_url, data={"sub": sub}, follow_redirects=False)
    assert answered.status_code == 302, answered.text
    return answered.headers["location"]


def finish(browser: Browser, callback: str) -> httpx.Response:
    parts = urlsplit(callback)
    return browser.get(f"{parts.path}?{parts.query}", follow_redirects=False)


def test_the_sign_in_page_offers_single_sign_on(stack: Pipeline) -> None:
    methods = httpx.get(f"{stack.bff_url}/api/auth/methods").json()
    assert methods["sso"]["url"] == "api/auth/sso/login"


def test_the_flow_uses_pkce_and_a_nonce_and_maps_groups_to_roles(stack: Pipeline) -> None:
    browser, authorization = start_flow(stack)
    query = parse_qs(urlsplit(authorization).query)
    assert query["response_type"] == ["code"] and query["client_id"] == ["greenai"]
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) >= 43
    assert query["nonce"][0] and query["state"][0]
    done = finish(browser, authorize(authorization, "olga"))
    assert done.status_code == 303 and done.headers["location"] == "/"
    me = browser.get("/api/auth/me").json()
    assert (me["username"], me["display_name"]) == ("olga", "Olga Ops")
    assert me["roles"] == ["analyst"] and me["recons"] == ["trades"] and me["via"] == "session"
    signed_in = stack.api("/api/audit?actor=olga")[-1]
    assert signed_in["action"] == "auth.sign_in" and signed_in["after"]["method"] == "sso"


def test_an_account_whose_groups_grant_no_role_is_refused_and_audited(stack: Pipeline) -> None:
    browser, authorization = start_flow(stack)
    done = finish(browser, authorize(authorization, "nils"))
    assert done.status_code == 303 and "sign_in_error" in done.headers["location"]
    assert browser.get("/api/auth/me").status_code == 401
    refused = stack.api("/api/audit?actor=nils")[-1]
    assert refused["action"] == "auth.sign_in_failed"
    assert "no greenai role" in refused["after"]["reason"]


def test_a_callback_from_another_browsers_flow_is_refused(stack: Pipeline) -> None:
    """The state binds the callback to the browser that started the flow (login CSRF)."""
    _, authorization = start_flow(stack)
    callback = authorize(authorization, "olga")
    stranger = Browser(stack.bff_url)
    done = finish(stranger, callback)
    assert done.status_code == 303 and "sign_in_error" in done.headers["location"]
    assert stranger.get("/api/auth/me").status_code == 401


def test_an_authorization_code_is_good_for_one_sign_in(stack: Pipeline) -> None:
    browser, authorization = start_flow(stack)
    callback = authorize(authorization, "olga")
    assert finish(browser, callback).headers["location"] == "/"
    again = Browser(stack.bff_url)
    again.cookies = {k: v for k, v in browser.cookies.items() if "sso" in k}
    replayed = finish(again, callback)
    assert "sign_in_error" in replayed.headers["location"]
