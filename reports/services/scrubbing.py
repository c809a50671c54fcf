"""Where copies of a report's personal data live, and removing a piece of text from all of
them. A citizen's words travel: into the timeline, into the outbox (mail snapshots, rendered
bodies, webhook payloads), into the stored answers of idempotent POSTs, into the answers to
staff's questions. `COPIES` names every one of those places once; redaction, erasure and
retention all go through it, and the tests scan every table of the database for what they
removed (tests/reports/test_retention.py)."""

from __future__ import annotations

import html
import json
from collections.abc import Iterable
from typing import Any

from django.db import models
from django.db.models.expressions import RawSQL

from reports.models import (
    ExternalCase,
    FollowUp,
    Handover,
    IdempotencyRecord,
    InboundUpdate,
    Notification,
    Redaction,
    Report,
    ReporterQuestion,
    ReportEvent,
)

# Where text about one report is copied to: (model, text fields, JSON fields). The report's
# own fields are listed too; all rows are found by their `report` foreign key.
COPIES: tuple[tuple[type[models.Model], tuple[str, ...], tuple[str, ...]], ...] = (
    (Report, ("description", "public_description", "address"), ("answers",)),
    (ReportEvent, ("public_text", "internal_text"), ()),
    (Notification, ("recipient", "subject", "body_text", "body_html"),
     ("context", "payload", "headers")),
    (InboundUpdate, ("name", "email", "phone", "media_url"), ()),
    (ReporterQuestion, ("question", "answer"), ()),
    (Handover, ("instructions",), ()),
    (ExternalCase, ("last_error",), ()),
    # The address a follow-up went to is emptied by erasure and retention themselves (it is
    # part of a uniqueness rule); its comment is the citizen's text.
    (FollowUp, ("comment",), ()),
    # Staff's kept copy of what they redacted (until its purge).
    (Redaction, ("original",), ()),
)

# Shorter needles would take bits of ordinary words with them.
MIN_NEEDLE = 3


def spellings(needle: str) -> list[str]:
    """The ways a piece of text is written into stored copies: as it is, escaped in HTML
    (rendered mails, Open311 XML), and escaped in JSON both with and without ASCII escapes
    (DRF writes UTF-8, Python's json module \\u escapes)."""
    forms = [needle, html.escape(needle, quote=False), html.escape(needle),
             json.dumps(needle, ensure_ascii=False)[1:-1], json.dumps(needle)[1:-1]]
    return sorted({form for form in forms if form}, key=len, reverse=True)


def replace_text(value: str, needles: Iterable[str], replacement: str) -> str:
    for needle in needles:
        if len(needle) >= MIN_NEEDLE:
            for form in spellings(needle):
                value = value.replace(form, replacement)
    return value


def replace_json(value: Any, needles: list[str], replacement: str) -> Any:
    """A JSON value with `needles` replaced in every string, keys included."""
    if isinstance(value, str):
        return replace_text(value, needles, replacement)
    if isinstance(value, list):
        return [replace_json(item, needles, replacement) for item in value]
    if isinstance(value, dict):
        return {replace_text(key, needles, replacement): replace_json(item, needles, replacement)
                for key, item in value.items()}
    return value


def scrub_reports(report_ids: list[int], needles: list[str], replacement: str
                  ) -> dict[str, int]:
    """Replace `needles` in every stored copy belonging to these reports; how many rows
    changed, by table. Runs in the caller's transaction (the reports are locked by then)."""
    needles = [n for n in dict.fromkeys(needles) if n and len(n) >= MIN_NEEDLE]
    changed: dict[str, int] = {}
    if not needles or not report_ids:
        return changed
    for model, text_fields, json_fields in COPIES:
        key = "pk" if model is Report else "report_id"
        manager = model._default_manager
        rows = manager.filter(**{f"{key}__in": report_ids}).only(
            "pk", *text_fields, *json_fields)
        dirty = []
        for row in rows:
            touched = False
            for field in text_fields:
                old = getattr(row, field) or ""
                new = replace_text(old, needles, replacement)
                if new != old:
                    setattr(row, field, new)
                    touched = True
            for field in json_fields:
                old = getattr(row, field)
                new = replace_json(old, needles, replacement)
                if new != old:
                    setattr(row, field, new)
                    touched = True
            if touched:
                dirty.append(row)
        if dirty:
            manager.bulk_update(dirty, [*text_fields, *json_fields])
            changed[model._meta.db_table] = len(dirty)
    if stored := scrub_idempotency_records(needles, replacement):
        changed[IdempotencyRecord._meta.db_table] = stored
    return changed


def scrub_idempotency_records(needles: list[str], replacement: str) -> int:
    """The stored answers of idempotent POSTs (kept IDEMPOTENCY_KEEP_HOURS) that contain a
    needle: rewritten, so that a replay answers the same minus what was removed."""
    forms = [form.encode() for needle in needles for form in spellings(needle)]
    if not forms:
        return 0
    # Raw: a bytea search in SQL, so that only the records that hold a needle are read.
    holding = RawSQL(f"SELECT id FROM {IdempotencyRecord._meta.db_table} WHERE "
                     + " OR ".join(["position(%s::bytea in body) > 0"] * len(forms)), forms)
    dirty = []
    for record in IdempotencyRecord.objects.filter(pk__in=holding).only("pk", "body"):
        try:
            body = bytes(record.body).decode()
        except UnicodeDecodeError:
            continue
        new = replace_text(body, needles, replacement)
        if new != body:
            record.body = new.encode()
            dirty.append(record)
    if dirty:
        IdempotencyRecord.objects.bulk_update(dirty, ["body"])
    return len(dirty)
