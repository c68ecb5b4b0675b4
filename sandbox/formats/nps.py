"""Delighted survey responses: `GET /delighted/v1/survey_responses.json` (the NPS project) and
`GET /delighted-csat/v1/survey_responses.json` (the CSAT project).

In Delighted every project (one survey type each) has its own API key on the same URL; the sandbox
has one token, so it mounts the CSAT project under its own prefix instead. Same response shape;
`survey_type` is "nps" (score 0–10) or "csat" (score 1–5).

As Delighted's API: HTTP Basic auth with the API key as user name, a bare JSON array, numbered pages
(`per_page` ≤ 100, default 20; `page` from 1), unix-time filters `since`/`until` (created) and
`updated_since`/`updated_until`, `order` = asc | desc | asc:updated_at | desc:updated_at,
`expand[]=person` to embed the person instead of its id."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sandbox.formats.base import BadRequest, Query, Reply, within
from sandbox.model import SurveyResponse

MAX_PER_PAGE = 100
ORDERS = {"asc", "desc", "asc:updated_at", "desc:updated_at"}


def unauthorized() -> Reply:
    return Reply(
        401,
        {"status": 401, "message": "Unauthorized: check your API key"},
        headers={"WWW-Authenticate": 'Basic realm="Delighted API"'},
    )


def rate_limited() -> Reply:
    return Reply(429, {"status": 429, "message": "Too Many Requests"}, headers={"Retry-After": "1"})


def bad_request(exc: BadRequest) -> Reply:
    return Reply(
        422,
        {
            "status": 422,
            "message": "Validation failed",
            "errors": [{"field": exc.param, "message": exc.message}],
        },
    )


def _unix(dt: datetime) -> int:
    return int(dt.timestamp())


def _person_id(r: SurveyResponse) -> str:
    # Stable across processes (str hash() is salted per process).
    return str(int(hashlib.sha1(r.email.encode()).hexdigest()[:8], 16))


def response_json(r: SurveyResponse, expand_person: bool) -> dict:
    person = _person_id(r)
    if expand_person:
        person = {
            "id": person,
            "email": r.email,
            "name": None,
            "phone_number": None,
            "created_at": _unix(r.created_at),
            "last_sent_at": _unix(r.created_at),
        }
    return {
        "id": str(r.id),
        "person": person,
        "survey_type": r.survey_type,
        "score": r.score,
        "comment": r.comment or None,
        "permalink": f"https://app.delighted.com/r/{r.id}",
        "created_at": _unix(r.created_at),
        "updated_at": _unix(r.updated_at),
        "person_properties": {
            "order_id": str(r.order_id),
            "order_number": r.order_number,
            "market": r.market,
            "shop": r.shop,
        },
        "notes": [],
        "tags": [],
        "additional_answers": [],
    }


def survey_responses(world, now: datetime, q: Query, survey: str = "nps") -> Reply:
    """One page of the `survey` project's responses ("nps" or "csat")."""
    per_page = q.int("per_page", 20, hi=MAX_PER_PAGE, clamp=True)
    page = q.int("page", 1)
    order = q.get("order", "asc")
    if order not in ORDERS:
        raise BadRequest("order", f"must be one of {sorted(ORDERS)}")
    since, until = q.unix("since"), q.unix("until")
    updated_since, updated_until = q.unix("updated_since"), q.unix("updated_until")
    expand = "person" in q.all("expand[]") or "person" in q.all("expand")
    rows = [
        r
        for r in (world.csat_responses(now) if survey == "csat" else world.nps_responses(now))
        if within(r.created_at, since, until)
        and within(r.updated_at, updated_since, updated_until)
        and r.updated_at <= now
    ]
    by_updated = order.endswith(":updated_at")
    rows.sort(
        key=lambda r: ((r.updated_at if by_updated else r.created_at), r.id), reverse=order.startswith("desc")
    )
    chunk = rows[(page - 1) * per_page : page * per_page]
    return Reply(200, [response_json(r, expand) for r in chunk], records_path=())
