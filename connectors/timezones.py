"""Turning vendor timestamps into aware UTC datetimes.

Carrier checkpoint times (AfterShip `checkpoint_time`) are the carrier's *local wall time* and sometimes
arrive without a UTC offset. The rule Tower applies, in order:

1. The text carries an offset (`…+08:00`, `…Z`): use it; the result is that instant in UTC.
2. No offset: find the zone of the checkpoint's location and read the wall time in that zone:
   - country (ISO alpha-2 or alpha-3, e.g. `US` / `USA`) with one zone → that zone
     (pytz's country table; its first zone for a country with several, e.g. CN → Asia/Shanghai);
   - a country with several zones (US, CA, AU, MX, BR, RU …): the state/province code or name
     picks the zone (`CA`/`California` → America/Los_Angeles); without a known state, a known
     city picks it (`Chicago`); otherwise the country's most populous zone (`PRIMARY_ZONE`);
   - no usable country: UTC (the least surprising guess; the raw text is kept for audit).
3. Daylight saving: a wall time that happens twice (autumn fall-back) takes the *first* occurrence
   (fold=0); a wall time that never happens (spring gap) is read with the offset in force before the
   gap, i.e. moved forward by the gap (02:30 on the US spring-forward night becomes 03:30 local).

The caller keeps the raw text in `tracking_events.raw_checkpoint_time`, so the rule can be audited.
Date-only values (`2026-11-24`) mean "that day" and are placed at a chosen time of day in the zone.
"""
from __future__ import annotations

import re
from datetime import date, datetime, time, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pytz

UTC = timezone.utc

# ISO 3166 alpha-3 → alpha-2 for the countries a supply chain like this touches (AfterShip sends
# alpha-3 in `country_region`; other sources send alpha-2). Unknown codes pass through unchanged.
ALPHA3 = {
    "USA": "US", "CAN": "CA", "MEX": "MX", "BRA": "BR", "ARG": "AR", "CHL": "CL", "COL": "CO",
    "PER": "PE", "GBR": "GB", "IRL": "IE", "FRA": "FR", "DEU": "DE", "ESP": "ES", "PRT": "PT",
    "ITA": "IT", "NLD": "NL", "BEL": "BE", "LUX": "LU", "CHE": "CH", "AUT": "AT", "DNK": "DK",
    "SWE": "SE", "NOR": "NO", "FIN": "FI", "ISL": "IS", "POL": "PL", "CZE": "CZ", "SVK": "SK",
    "HUN": "HU", "ROU": "RO", "BGR": "BG", "GRC": "GR", "HRV": "HR", "SVN": "SI", "EST": "EE",
    "LVA": "LV", "LTU": "LT", "UKR": "UA", "RUS": "RU", "TUR": "TR", "ISR": "IL", "ARE": "AE",
    "SAU": "SA", "QAT": "QA", "EGY": "EG", "ZAF": "ZA", "NGA": "NG", "KEN": "KE", "MAR": "MA",
    "IND": "IN", "PAK": "PK", "BGD": "BD", "LKA": "LK", "CHN": "CN", "HKG": "HK", "MAC": "MO",
    "TWN": "TW", "JPN": "JP", "KOR": "KR", "VNM": "VN", "THA": "TH", "MYS": "MY", "SGP": "SG",
    "IDN": "ID", "PHL": "PH", "KHM": "KH", "MMR": "MM", "LAO": "LA", "AUS": "AU", "NZL": "NZ",
    "KAZ": "KZ",
}

# Zone for a multi-zone country when the state is unknown: where most people (and parcels) are.
PRIMARY_ZONE = {
    "US": "America/New_York", "CA": "America/Toronto", "AU": "Australia/Sydney",
    "MX": "America/Mexico_City", "BR": "America/Sao_Paulo", "RU": "Europe/Moscow",
    "ID": "Asia/Jakarta", "KZ": "Asia/Almaty", "CN": "Asia/Shanghai", "AR": "America/Argentina/Buenos_Aires",
    "CL": "America/Santiago", "ES": "Europe/Madrid", "PT": "Europe/Lisbon", "DE": "Europe/Berlin",
}

_PACIFIC, _MOUNTAIN, _ARIZONA = "America/Los_Angeles", "America/Denver", "America/Phoenix"
_CENTRAL, _EASTERN = "America/Chicago", "America/New_York"
# State/province → zone (the zone covering most of its population).
STATE_ZONE = {
    "US": {
        "AL": _CENTRAL, "AK": "America/Anchorage", "AZ": _ARIZONA, "AR": _CENTRAL, "CA": _PACIFIC,
        "CO": _MOUNTAIN, "CT": _EASTERN, "DE": _EASTERN, "DC": _EASTERN, "FL": _EASTERN,
        "GA": _EASTERN, "HI": "Pacific/Honolulu", "ID": "America/Boise", "IL": _CENTRAL,
        "IN": "America/Indiana/Indianapolis", "IA": _CENTRAL, "KS": _CENTRAL,
        "KY": "America/Kentucky/Louisville", "LA": _CENTRAL, "ME": _EASTERN, "MD": _EASTERN,
        "MA": _EASTERN, "MI": "America/Detroit", "MN": _CENTRAL, "MS": _CENTRAL, "MO": _CENTRAL,
        "MT": _MOUNTAIN, "NE": _CENTRAL, "NV": _PACIFIC, "NH": _EASTERN, "NJ": _EASTERN,
        "NM": _MOUNTAIN, "NY": _EASTERN, "NC": _EASTERN, "ND": _CENTRAL, "OH": _EASTERN,
        "OK": _CENTRAL, "OR": _PACIFIC, "PA": _EASTERN, "RI": _EASTERN, "SC": _EASTERN,
        "SD": _CENTRAL, "TN": _CENTRAL, "TX": _CENTRAL, "UT": _MOUNTAIN, "VT": _EASTERN,
        "VA": _EASTERN, "WA": _PACIFIC, "WV": _EASTERN, "WI": _CENTRAL, "WY": _MOUNTAIN,
        "PR": "America/Puerto_Rico",
    },
    "CA": {
        "BC": "America/Vancouver", "AB": "America/Edmonton", "SK": "America/Regina",
        "MB": "America/Winnipeg", "ON": "America/Toronto", "QC": "America/Toronto",
        "NB": "America/Moncton", "NS": "America/Halifax", "PE": "America/Halifax",
        "NL": "America/St_Johns", "YT": "America/Whitehorse", "NT": "America/Yellowknife",
        "NU": "America/Iqaluit",
    },
    "AU": {
        "NSW": "Australia/Sydney", "ACT": "Australia/Sydney", "VIC": "Australia/Melbourne",
        "QLD": "Australia/Brisbane", "SA": "Australia/Adelaide", "WA": "Australia/Perth",
        "TAS": "Australia/Hobart", "NT": "Australia/Darwin",
    },
    "MX": {"BC": "America/Tijuana", "BCN": "America/Tijuana", "SON": "America/Hermosillo",
           "CHH": "America/Chihuahua", "SIN": "America/Mazatlan", "ROO": "America/Cancun"},
    "BR": {"AM": "America/Manaus", "MT": "America/Cuiaba", "MS": "America/Campo_Grande",
           "AC": "America/Rio_Branco", "RO": "America/Porto_Velho", "RR": "America/Boa_Vista"},
}
US_STATE_NAMES = {
    "ALABAMA": "AL", "ALASKA": "AK", "ARIZONA": "AZ", "ARKANSAS": "AR", "CALIFORNIA": "CA",
    "COLORADO": "CO", "CONNECTICUT": "CT", "DELAWARE": "DE", "DISTRICT OF COLUMBIA": "DC",
    "FLORIDA": "FL", "GEORGIA": "GA", "HAWAII": "HI", "IDAHO": "ID", "ILLINOIS": "IL",
    "INDIANA": "IN", "IOWA": "IA", "KANSAS": "KS", "KENTUCKY": "KY", "LOUISIANA": "LA",
    "MAINE": "ME", "MARYLAND": "MD", "MASSACHUSETTS": "MA", "MICHIGAN": "MI", "MINNESOTA": "MN",
    "MISSISSIPPI": "MS", "MISSOURI": "MO", "MONTANA": "MT", "NEBRASKA": "NE", "NEVADA": "NV",
    "NEW HAMPSHIRE": "NH", "NEW JERSEY": "NJ", "NEW MEXICO": "NM", "NEW YORK": "NY",
    "NORTH CAROLINA": "NC", "NORTH DAKOTA": "ND", "OHIO": "OH", "OKLAHOMA": "OK", "OREGON": "OR",
    "PENNSYLVANIA": "PA", "RHODE ISLAND": "RI", "SOUTH CAROLINA": "SC", "SOUTH DAKOTA": "SD",
    "TENNESSEE": "TN", "TEXAS": "TX", "UTAH": "UT", "VERMONT": "VT", "VIRGINIA": "VA",
    "WASHINGTON": "WA", "WEST VIRGINIA": "WV", "WISCONSIN": "WI", "WYOMING": "WY",
    "PUERTO RICO": "PR", "BRITISH COLUMBIA": "BC", "ALBERTA": "AB", "SASKATCHEWAN": "SK",
    "MANITOBA": "MB", "ONTARIO": "ON", "QUEBEC": "QC", "NEW SOUTH WALES": "NSW",
    "VICTORIA": "VIC", "QUEENSLAND": "QLD", "WESTERN AUSTRALIA": "WA", "TASMANIA": "TAS",
}
# Big logistics cities, for multi-zone countries when the state is missing.
CITY_ZONE = {
    ("US", "LOS ANGELES"): _PACIFIC, ("US", "LONG BEACH"): _PACIFIC, ("US", "ONTARIO"): _PACIFIC,
    ("US", "SAN FRANCISCO"): _PACIFIC, ("US", "OAKLAND"): _PACIFIC, ("US", "SEATTLE"): _PACIFIC,
    ("US", "PORTLAND"): _PACIFIC, ("US", "SAN DIEGO"): _PACIFIC, ("US", "LAS VEGAS"): _PACIFIC,
    ("US", "RENO"): _PACIFIC, ("US", "PHOENIX"): _ARIZONA, ("US", "DENVER"): _MOUNTAIN,
    ("US", "SALT LAKE CITY"): _MOUNTAIN, ("US", "CHICAGO"): _CENTRAL, ("US", "DALLAS"): _CENTRAL,
    ("US", "HOUSTON"): _CENTRAL, ("US", "MEMPHIS"): _CENTRAL, ("US", "AUSTIN"): _CENTRAL,
    ("US", "MINNEAPOLIS"): _CENTRAL, ("US", "KANSAS CITY"): _CENTRAL, ("US", "ST LOUIS"): _CENTRAL,
    ("US", "LOUISVILLE"): "America/Kentucky/Louisville",
    ("US", "INDIANAPOLIS"): "America/Indiana/Indianapolis",
    ("US", "DETROIT"): "America/Detroit", ("US", "ANCHORAGE"): "America/Anchorage",
    ("US", "HONOLULU"): "Pacific/Honolulu",
    ("CA", "VANCOUVER"): "America/Vancouver", ("CA", "CALGARY"): "America/Edmonton",
    ("CA", "EDMONTON"): "America/Edmonton", ("CA", "WINNIPEG"): "America/Winnipeg",
    ("CA", "HALIFAX"): "America/Halifax", ("AU", "PERTH"): "Australia/Perth",
    ("AU", "BRISBANE"): "Australia/Brisbane", ("AU", "ADELAIDE"): "Australia/Adelaide",
    ("AU", "MELBOURNE"): "Australia/Melbourne", ("AU", "DARWIN"): "Australia/Darwin",
}

_OFFSET_RE = re.compile(r"(Z|[+-]\d{2}:?\d{2})$", re.IGNORECASE)


def country_code(value: str | None) -> str | None:
    """ISO alpha-2 for an alpha-2 or alpha-3 code (upper-cased); None for blank input."""
    if not value or not str(value).strip():
        return None
    code = str(value).strip().upper()
    return ALPHA3.get(code, code)


@lru_cache(maxsize=4096)
def zone_for(country: str | None, state: str | None = None, city: str | None = None) -> ZoneInfo | None:
    """The zone of a location by the rule in the module docstring; None when the country is unknown."""
    cc = country_code(country)
    if not cc:
        return None
    zones = pytz.country_timezones.get(cc)
    if not zones:
        return None
    name = zones[0]
    if len(zones) > 1:
        name = PRIMARY_ZONE.get(cc, zones[0])
        st = (state or "").strip().upper()
        st = US_STATE_NAMES.get(st, st)
        by_state = STATE_ZONE.get(cc, {})
        if st in by_state:
            name = by_state[st]
        elif city and (cc, city.strip().upper()) in CITY_ZONE:
            name = CITY_ZONE[(cc, city.strip().upper())]
    try:
        return ZoneInfo(name)
    except ZoneInfoNotFoundError:  # pragma: no cover - tzdata always has the names above
        return None


def has_offset(text: str) -> bool:
    return bool(_OFFSET_RE.search(text.strip()))


def parse_instant(value, zone: ZoneInfo | None = None) -> datetime | None:
    """An aware UTC datetime from ISO-8601 text, a unix number, or a datetime.

    Text without an offset is wall time in `zone` (UTC when None), with the DST rule of the module
    docstring. Raises ValueError for text that is not a timestamp; returns None for blank input."""
    if value is None:
        return None
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(float(value), UTC)
    else:
        text = str(value).strip()
        if not text:
            return None
        if re.fullmatch(r"\d{9,11}(\.\d+)?", text):  # unix seconds as text
            return datetime.fromtimestamp(float(text), UTC)
        if text[-1:] in "zZ":
            text = text[:-1] + "+00:00"
        dt = datetime.fromisoformat(text)
    if dt.tzinfo is None:
        # fold=0: ambiguous wall times take the first occurrence; gap times keep the pre-gap offset.
        dt = dt.replace(tzinfo=zone or UTC, fold=0)
    return dt.astimezone(UTC)


def parse_date(value) -> date | None:
    """A calendar date from `YYYY-MM-DD` (or the date part of a timestamp); None for blank input."""
    if value is None or not str(value).strip():
        return None
    return date.fromisoformat(str(value).strip()[:10])


def date_or_instant(value, zone: ZoneInfo | None = None,
                    day_time: time = time(23, 59, 59)) -> datetime | None:
    """For fields that may be a date or a timestamp (estimated/promised delivery): a date means
    `day_time` on that day in `zone` (end of day by default: "delivered by that day")."""
    if value is None or not str(value).strip():
        return None
    text = str(value).strip()
    if len(text) == 10:
        d = date.fromisoformat(text)
        return datetime.combine(d, day_time, tzinfo=zone or UTC).astimezone(UTC)
    return parse_instant(text, zone)


def iso_z(dt: datetime) -> str:
    """`YYYY-MM-DDTHH:MM:SSZ`, floored to the second (inclusive when used as a lower bound)."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
