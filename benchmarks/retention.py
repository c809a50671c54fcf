"""The retention run on a municipality's archive: N closed reports over ten years, each with
its reporter's name, e-mail and phone (also typed into the description), a follower, a
receipt in the outbox (snapshot and rendered body), timeline rows that name the reporter,
and photos on some; one rule (resolved: contact data after 5 years, photos after 1). The
run removes what is due, and then every text, JSON and binary column of every table is
searched for the removed reports' addresses, numbers and names, table by table, and every
photo file of theirs on disk.

    .venv/bin/python benchmarks/retention.py [--reports 100000]
    .venv/bin/python benchmarks/retention.py --smoke     # a fresh database, 2,000 reports

Printed: the time of the run against a floor (one UPDATE that blanks the three contact
columns of the due reports and nothing else: no copies, no followers, no log), what was
removed, and for each table and column what is left of the due reports' data (must be 0)
and of the others' (must be what it was).
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import run_benchmark, seed_reports  # noqa: E402

CONTACT_DAYS, PHOTO_DAYS, SPAN_DAYS = 1826, 365, 3650

# Per report: a name, an address and a number that name it by id, so that a pattern finds
# every copy and says whose it is.
_PEOPLE = r"""
UPDATE reports_report SET
    status = 'resolved',
    closed_at = now() - make_interval(days => ((id::bigint * 7919) %% %(span)s)::int),
    reporter_name = 'Borger' || id || ' Jensen',
    reporter_email = 'borger' || id || '@example.dk',
    reporter_phone = '+45 2' || lpad(id::text, 7, '0'),
    description = 'Hul i vejen. Ring til mig på +45 2' || lpad(id::text, 7, '0'),
    public_description = 'Hul i vejen. Ring til mig på ***********',
    device_id = 'device-' || id
"""
_EVENTS = r"""
INSERT INTO reports_reportevent (report_id, kind, actor_label, from_status, to_status,
                                 public_text, internal_text, created_at)
SELECT id, 'created', 'citizen', '', 'submitted', '', '', created_at FROM reports_report
UNION ALL
SELECT id, 'internal_note', 'Vej og Park', '', '', '',
       'Talt med borger' || id || '@example.dk om stedet', created_at FROM reports_report
UNION ALL
SELECT id, 'status', 'Vej og Park', 'submitted', 'resolved', 'Lavet.', '', closed_at
  FROM reports_report
"""
_OUTBOX = r"""
INSERT INTO reports_notification (channel, event, report_id, recipient, subject, template,
    language, context, body_text, body_html, headers, state, attempts, next_attempt_at,
    claimed_by, last_error, created_at, sent_at)
SELECT 'email', 'reporter.receipt', id, reporter_email, 'Tak for din anmeldelse',
       'reporter_receipt', 'da',
       jsonb_build_object('report', jsonb_build_object('pk', id, 'description', description,
           'reporter_name', reporter_name, 'reporter_email', reporter_email,
           'reporter_phone', reporter_phone)),
       'Kære ' || reporter_name || E'\n' || description,
       '<p>Kære ' || reporter_name || '</p>', '{}'::jsonb, 'sent', 1, created_at, '', '',
       created_at, created_at
  FROM reports_report
"""
_FOLLOWERS = r"""
INSERT INTO reports_subscription (report_id, email, language, confirmed_at, created_at)
SELECT id, reporter_email, 'da', created_at, created_at FROM reports_report
"""

# What the pattern of each kind of datum is, and how to read the report id out of it.
PATTERNS = {
    "e-mail": r"borger([0-9]+)@example\.dk",
    "name": r"Borger([0-9]+) Jensen",
    "phone": r"\+45 2([0-9]{7})",
}


def census(due: list[int]) -> dict[tuple[str, str], tuple[int, int]]:
    """{(table.column, kind): (rows naming a due report, rows naming another)} for every
    column that can hold text, in every table."""
    from django.db import connection

    from tests.personal_data import columns

    found = {}
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE IF NOT EXISTS due_ids (id int PRIMARY KEY)")
        cursor.execute("TRUNCATE due_ids")
        cursor.execute("INSERT INTO due_ids SELECT unnest(%s::int[])", [due])
        for table, column, kind in columns():
            if table == "due_ids":
                continue
            text = (f"convert_from(\"{column}\", 'UTF8')" if kind == "bytea"
                    else f'"{column}"::text')
            for what, pattern in PATTERNS.items():
                # Raw: a regular expression over every row of every table (the audit).
                cursor.execute(f"""
                    SELECT count(*) FILTER (WHERE d.id IS NOT NULL),
                           count(*) FILTER (WHERE d.id IS NULL)
                      FROM (SELECT substring({text} from %s)::int AS owner
                              FROM "{table}" WHERE {text} ~ %s) t
                      LEFT JOIN due_ids d ON d.id = t.owner""", [pattern, pattern])
                due_rows, other_rows = cursor.fetchone()
                if due_rows or other_rows:
                    found[(f"{table}.{column}", what)] = (due_rows, other_rows)
    return found


def run(args, url: str) -> None:
    from django.conf import settings
    from django.db import connection
    from PIL import Image

    from reports.models import DeletionLog, Municipality, Photo, Report, RetentionRule
    from reports.photos import process_photo
    from reports.services.filing import _store_photo
    from reports.services.retention import retention_run

    n = 2_000 if args.smoke else args.reports
    settings.MEDIA_ROOT = tempfile.mkdtemp(prefix="os2geo-retention-")
    # A clean slate of reports in this database (everything that hangs off them goes too),
    # then the archive.
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE reports_report CASCADE")
    seed_reports(n)
    with connection.cursor() as cursor:
        started = time.monotonic()
        cursor.execute(_PEOPLE, {"span": SPAN_DAYS})
        for statement in (_EVENTS, _OUTBOX, _FOLLOWERS):
            cursor.execute(statement)
        cursor.execute("ANALYZE")
    out = io.BytesIO()
    Image.new("RGB", (64, 48), "gray").save(out, "JPEG")
    with_photos = list(Report.objects.order_by("?").values_list("pk", flat=True)[
        :max(20, n // 100)])
    processed = process_photo(out.getvalue())
    for report in Report.objects.filter(pk__in=with_photos):
        _store_photo(report, processed)
    print(f"archive: {n:,} resolved reports over {SPAN_DAYS} days, {len(with_photos)} with a "
          f"photo, seeded in {time.monotonic() - started:.1f} s")

    ballerup = Municipality.objects.get(code="0151")
    RetentionRule.objects.filter(municipality=ballerup).delete()
    rule = RetentionRule.objects.create(municipality=ballerup, status="resolved",
                                        contact_days=CONTACT_DAYS, photo_days=PHOTO_DAYS)
    due = list(Report.objects.filter(closed_at__lt=_ago(CONTACT_DAYS)).values_list(
        "pk", flat=True))
    photo_due = set(Report.objects.filter(closed_at__lt=_ago(PHOTO_DAYS)).values_list(
        "pk", flat=True))
    due_files = {name for photo in Photo.objects.filter(report_id__in=photo_due)
                 for name in (photo.image, photo.thumbnail)}
    before = census(due)

    # The floor, on a copy of the due rows' three contact columns (rolled back).
    with connection.cursor() as cursor:
        cursor.execute("BEGIN")
        start = time.monotonic()
        cursor.execute("UPDATE reports_report SET reporter_name = '', reporter_email = '', "
                       "reporter_phone = '' WHERE id = ANY(%s)", [due])
        floor = time.monotonic() - start
        cursor.execute("ROLLBACK")

    start = time.monotonic()
    result = retention_run()
    took = time.monotonic() - start
    after = census(due)
    files_left = sum(1 for name in due_files if (Path(settings.MEDIA_ROOT) / name).exists())
    logs = DeletionLog.objects.filter(reason="retention").count()
    kept = Report.objects.filter(pk__in=due, status="resolved").count()

    print(f"\nretention run, {n:,} reports, rule: {rule.describe('contact')}, "
          f"{rule.describe('photos')}")
    print(f"  due: contact data of {len(due):,} reports, photos of "
          f"{len(photo_due & set(with_photos))} reports ({len(due_files)} files)")
    print(f"  floor: one UPDATE blanking three columns of the due reports: {floor:.2f} s")
    print(f"  run: {took:.2f} s (ratio to floor {took / max(floor, 1e-6):.1f}; "
          f"{len(due) / took:,.0f} reports/s)")
    for line in result.lines():
        print(f"  {line}")
    print(f"  deletion log rows: {logs:,}; due reports still there for the statistics: "
          f"{kept:,} of {len(due):,}")
    print("  table by table (rows naming a due report / another report, before → after):")
    left_due = 0
    for key in sorted(set(before) | set(after)):
        b_due, b_other = before.get(key, (0, 0))
        a_due, a_other = after.get(key, (0, 0))
        left_due += a_due
        flag = "" if a_due == 0 and a_other == b_other else "   <-- !"
        print(f"    {key[0]:<40} {key[1]:<7} due {b_due:>7,} → {a_due:<5,} "
              f"others {b_other:>7,} → {a_other:,}{flag}")
    print(f"  left behind: {left_due} rows of due reports, {files_left} photo files")
    if left_due or files_left:
        raise SystemExit("the retention run left personal data behind")


def _ago(days: int):
    import datetime as dt

    from django.utils import timezone

    return timezone.now() - dt.timedelta(days=days)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--smoke", action="store_true")
    run_benchmark(parser.parse_args(), run)


if __name__ == "__main__":
    main()
