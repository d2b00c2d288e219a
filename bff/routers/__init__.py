"""HTTP routes of the BFF, one module per area; every error they answer is documented."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$")


def _iso_8601(value: Any) -> Any:
    """Only ISO 8601 text (or an instant): not the epoch numbers pydantic would also take."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO.match(value):
        return value
    raise ValueError("an ISO 8601 instant, e.g. 2026-12-01T09:30:00Z")


Instant = Annotated[datetime, BeforeValidator(_iso_8601)]


class Problem(BaseModel):
    """Why a request was refused, in one line."""

    detail: str


def problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the refusals a route can answer (besides FastAPI's 422)."""
    said = {
        400: "the request cannot be done as asked",
        401: "sign in first (no credentials, or they no longer open anything)",
        403: "signed in, but not allowed (or a cross-site request)",
        404: "no such object, or not one of the caller's recons",
        409: "it conflicts with what is stored",
        413: "the request body is too large",
        429: "too many attempts: wait",
        503: "a dependency (PostgreSQL) is away: retry shortly",
    }
    return {code: {"model": Problem, "description": said[code]} for code in codes}


# what every route of the API may answer
COMMON = problems(400, 401, 403, 404, 413, 503)
