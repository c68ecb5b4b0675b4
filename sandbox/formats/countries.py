"""ISO 3166 country codes: the world speaks alpha-2, AfterShip answers in alpha-3 with a name."""

from __future__ import annotations

_COUNTRIES = {
    # alpha-2: (alpha-3, English short name)
    "AE": ("ARE", "United Arab Emirates"),
    "AT": ("AUT", "Austria"),
    "AU": ("AUS", "Australia"),
    "BE": ("BEL", "Belgium"),
    "BR": ("BRA", "Brazil"),
    "CA": ("CAN", "Canada"),
    "CH": ("CHE", "Switzerland"),
    "CN": ("CHN", "China"),
    "CZ": ("CZE", "Czechia"),
    "DE": ("DEU", "Germany"),
    "DK": ("DNK", "Denmark"),
    "ES": ("ESP", "Spain"),
    "FI": ("FIN", "Finland"),
    "FR": ("FRA", "France"),
    "GB": ("GBR", "United Kingdom"),
    "HK": ("HKG", "Hong Kong"),
    "ID": ("IDN", "Indonesia"),
    "IE": ("IRL", "Ireland"),
    "IN": ("IND", "India"),
    "IT": ("ITA", "Italy"),
    "JP": ("JPN", "Japan"),
    "KR": ("KOR", "South Korea"),
    "MX": ("MEX", "Mexico"),
    "MY": ("MYS", "Malaysia"),
    "NL": ("NLD", "Netherlands"),
    "NO": ("NOR", "Norway"),
    "NZ": ("NZL", "New Zealand"),
    "PL": ("POL", "Poland"),
    "PT": ("PRT", "Portugal"),
    "SE": ("SWE", "Sweden"),
    "SG": ("SGP", "Singapore"),
    "TH": ("THA", "Thailand"),
    "TW": ("TWN", "Taiwan"),
    "US": ("USA", "United States"),
    "VN": ("VNM", "Vietnam"),
}


def alpha3(code: str | None) -> str | None:
    if not code:
        return None
    return _COUNTRIES.get(code.upper(), (code.upper(), code))[0]


def name(code: str | None) -> str | None:
    if not code:
        return None
    return _COUNTRIES.get(code.upper(), (code.upper(), code.upper()))[1]
