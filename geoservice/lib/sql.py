"""Query expressions for building JSON inside PostgreSQL.

The public GeoJSON of reports is built by the database (json_build_object + ST_AsGeoJSON)
and fetched as text: serialising 1,000 features in Python costs several times what the
database needs, and the list endpoint is the hottest path of the service.
"""

from __future__ import annotations

from django.db.models import Expression, F, Func, TextField, Value


class JsonObject(Func):
    """json_build_object(key1, value1, key2, value2, …)."""

    function = "json_build_object"
    output_field = TextField()

    def __init__(self, **fields: Expression | str):
        args: list[Expression] = []
        for key, value in fields.items():
            args.append(Value(key))
            args.append(F(value) if isinstance(value, str) else value)
        super().__init__(*args)


class AsJson(Func):
    """Cast text that holds JSON (e.g. ST_AsGeoJSON's output) to json, so it nests."""

    template = "(%(expressions)s)::json"
    output_field = TextField()


class AsText(Func):
    """Cast json to text, so psycopg hands the string over without parsing it."""

    template = "(%(expressions)s)::text"
    output_field = TextField()
