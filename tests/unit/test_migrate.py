"""streams.migrate: which role the migrations grant the application's privileges to."""

from __future__ import annotations

from streams.migrate import app_role
from streams.settings import Settings

OWNER = "postgresql://greenai:pw@db:5432/greenai"


def settings(database_url: str | None) -> Settings:
    return Settings(database_url=database_url, GREENAI_DATABASE_OWNER_URL=OWNER)


def test_the_application_role_is_database_urls_user() -> None:
    assert app_role(settings("postgresql://greenai_app:pw@db:5432/greenai")) == "greenai_app"


def test_one_role_for_everything_grants_nothing() -> None:
    assert app_role(settings(OWNER)) is None
    assert app_role(settings(None)) is None
