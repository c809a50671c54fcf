"""Looking for a piece of personal data everywhere: every text, JSON and binary column of
every table in the database, and every file under MEDIA_ROOT. Tests of redaction,
retention and erasure use it to show that nothing is left behind, instead of checking the
places they know about."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db import connection

_TYPES = ("text", "character varying", "json", "jsonb", "bytea")


def columns() -> list[tuple[str, str, str]]:
    """(table, column, type) of every column that can hold text, in the public schema."""
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT c.table_name, c.column_name, c.data_type
              FROM information_schema.columns c
              JOIN information_schema.tables t
                ON t.table_schema = c.table_schema AND t.table_name = c.table_name
             WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'
               AND c.data_type = ANY(%s)
             ORDER BY 1, 2""", [list(_TYPES)])
        return cursor.fetchall()


def places_holding(needle: str) -> dict[str, int]:
    """{"table.column": rows} for every column in which `needle` occurs (case-insensitive
    for text and JSON, byte-exact for binary)."""
    found = {}
    with connection.cursor() as cursor:
        for table, column, kind in columns():
            if kind == "bytea":
                condition = f'position(%s::bytea in "{column}") > 0'
                params: list = [needle.encode()]
            else:
                condition = f'strpos(lower("{column}"::text), lower(%s)) > 0'
                params = [needle]
            cursor.execute(f'SELECT count(*) FROM "{table}" WHERE {condition}', params)
            (count,) = cursor.fetchone()
            if count:
                found[f"{table}.{column}"] = count
    return found


def media_files() -> set[str]:
    root = Path(settings.MEDIA_ROOT)
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}
