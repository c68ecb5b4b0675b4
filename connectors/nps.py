"""Delighted survey responses → `nps_responses` (NPS project) and `csat_responses` (CSAT project).

`GET survey_responses.json?per_page=100&page=N&updated_since=<unix>&order=asc:updated_at
&expand[]=person`, HTTP Basic with the project's API key as user name; pages until one comes back
short. Incremental on `updated_at` (cursor `survey_responses`, unix seconds are inclusive).
Mapping: Delighted has no order or shop fields, so Tower reads them from `person_properties`
(the properties sent with the survey: `order_id`, `shop`, `market`; common capitalised spellings
such as `Order ID` are accepted too).
A Delighted project holds one survey type, so each project is its own source: `kind = "nps"` (scores
0–10) or `kind = "csat"` (scores 1–5). A response whose `survey_type` is not the project's, or whose
score is outside the scale, is rejected (counted in the run, not loaded).
"""
from __future__ import annotations

from typing import ClassVar, Optional

from pydantic import field_validator

from connectors.base import Http, Instant, Record, Run, Source, Table
from connectors.timezones import country_code, iso_z

PROPERTY_NAMES = {
    "order_id": ("order_id", "Order ID", "orderId", "order"),
    "merchant_id": ("shop", "Shop", "merchant", "merchant_id", "store"),
    "market": ("market", "Market", "country", "Country"),
}


class SurveyResponse(Record):
    id: str
    survey_type: Optional[str] = None
    score: int
    comment: Optional[str] = None
    created_at: Instant
    updated_at: Optional[Instant] = None
    person_properties: Optional[dict] = None

    @field_validator("id", mode="before")
    @classmethod
    def _text(cls, v):
        return str(v) if v is not None else v


class NpsResponse(SurveyResponse):
    @field_validator("score")
    @classmethod
    def _range(cls, v: int) -> int:
        if not 0 <= v <= 10:
            raise ValueError("score outside 0–10")
        return v


class CsatResponse(SurveyResponse):
    @field_validator("score")
    @classmethod
    def _range(cls, v: int) -> int:
        if not 1 <= v <= 5:
            raise ValueError("score outside 1–5")
        return v


def prop(props: dict, column: str) -> str | None:
    for name in PROPERTY_NAMES[column]:
        if props.get(name) not in (None, ""):
            return str(props[name])
    return None


class DelightedSource(Source):
    """One Delighted project. Subclasses set the survey type, its record model and its table."""
    survey_type: ClassVar[str] = ""
    model: ClassVar[type[SurveyResponse]] = SurveyResponse

    def http_auth(self, secret):
        return (secret or "", "")

    def extract(self, run: Run, http: Http) -> None:
        url = self.options["base_url"].rstrip("/") + "/survey_responses.json"
        per_page = int(self.options.get("page_size", 100))
        since = run.cursor_time("survey_responses")
        base = {"per_page": per_page, "order": "asc:updated_at", "expand[]": "person"}
        if since:
            base["updated_since"] = int(since.timestamp())
        table = self.tables[0].name
        newest, page = since, 1
        while True:
            run.check_cancel()
            body, _ = http.get_json(url, {**base, "page": page})
            if not isinstance(body, list):
                raise ValueError("unexpected Delighted response: not a JSON array")
            for raw in body:
                what = f"survey response {_ident(raw)}"
                r = run.validate(self.model, raw, what)
                changed = (r.updated_at or r.created_at) if r else None
                run.saw(1, changed)
                if r is None:
                    continue
                newest = max(newest, changed) if newest else changed
                if r.survey_type not in (None, self.survey_type):
                    run.reject(what, f"survey_type {r.survey_type!r} in a {self.survey_type} project")
                    continue
                props = r.person_properties or {}
                run.emit(table, {
                    "response_id": r.id, "order_id": prop(props, "order_id"),
                    "merchant_id": prop(props, "merchant_id"),
                    "market": country_code(prop(props, "market")), "score": r.score,
                    "comment": r.comment, "created_at": r.created_at, "updated_at": changed,
                })
            if len(body) < per_page:
                break
            page += 1
        if newest:
            run.set_cursor("survey_responses", iso_z(newest))


class NpsSource(DelightedSource):
    kind = "nps"
    survey_type = "nps"
    model = NpsResponse
    tables = (Table("nps_responses", ("response_id",), "merge"),)


class CsatSource(DelightedSource):
    """Post-delivery CSAT ("How satisfied were you?", 1–5); CSAT = share of answers that are 4 or 5."""
    kind = "csat"
    survey_type = "csat"
    model = CsatResponse
    tables = (Table("csat_responses", ("response_id",), "merge"),)


def _ident(raw) -> str:
    return str(raw.get("id", "?"))[:40] if isinstance(raw, dict) else "?"
