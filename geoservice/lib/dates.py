"""ISO 8601 date-times from query strings and forms: one reading for every API."""

from __future__ import annotations

import datetime as dt

from django.utils.dateparse import parse_datetime


def parse_iso_datetime(text: str, *, naive_is_utc: bool = True) -> dt.datetime | None:
    """The date-time in `text`, or None if it is not one. An unencoded "+" in a query
    string arrives as a space (…T08:00:00 01:00) and is read as the "+" it was. Without an
    offset the time is UTC (`naive_is_utc`), or None when an offset is required."""
    text = (text or "").strip()
    if "T" in text and " " in text:
        text = text.replace(" ", "+")
    try:
        value = parse_datetime(text)
    except ValueError:
        return None
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC) if naive_is_utc else None
    return value
