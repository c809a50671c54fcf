"""reports_import_kle on the real KLE plan (XML format 2.0, 2015-08-01)."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from reports.importers.kle import parse_kle
from reports.models import KleSubject

pytestmark = pytest.mark.django_db


def test_counts_per_level_and_in_use_match_the_published_plan():
    levels = {"hovedgruppe": (41, 36), "gruppe": (691, 480), "emne": (3457, 2136)}
    for level, (total, in_use) in levels.items():
        subjects = KleSubject.objects.filter(level=level)
        assert subjects.count() == total
        assert subjects.filter(retired=False).count() == in_use


def test_hierarchy_titles_and_retirement():
    pothole = KleSubject.objects.get(number="05.01.08")
    assert pothole.title == "Vejvedligeholdelse og vejrenovering"
    assert pothole.parent.number == "05.01" and pothole.parent.parent.number == "05"
    assert pothole.level == "emne" and not pothole.retired
    retired = KleSubject.objects.get(number="00.02.00")
    assert retired.retired and str(retired.retired_on) == "2000-01-01"
    moved = KleSubject.objects.filter(replaced_by="15.40.00").first()
    assert moved is not None and moved.retired
    assert KleSubject.objects.filter(level="hovedgruppe", parent__isnull=False).count() == 0
    assert KleSubject.objects.filter(level="emne", parent__level="gruppe").count() == 3457


def test_reimport_changes_nothing_and_dry_run_writes_nothing(data_dir):
    path = str(data_dir / "kle" / "KLE-Emneplan_Version2-0_2015-08-01.xml.gz")
    out = io.StringIO()
    call_command("reports_import_kle", path, stdout=out, stderr=io.StringIO())
    assert "KLE subjects: 0 created, 0 updated, 4189 unchanged" in out.getvalue()
    assert "41 hovedgruppe (36 in use), 691 gruppe (480 in use), 3457 emne (2136 in use)" in \
        out.getvalue()
    KleSubject.objects.filter(number="05.01.08").update(title="changed")
    out = io.StringIO()
    call_command("reports_import_kle", path, "--dry-run", stdout=out, stderr=io.StringIO())
    assert "Would have: KLE subjects: 0 created, 1 updated" in out.getvalue()
    assert KleSubject.objects.get(number="05.01.08").title == "changed"
    call_command("reports_import_kle", path, stdout=io.StringIO(), stderr=io.StringIO())
    assert KleSubject.objects.get(number="05.01.08").title == "Vejvedligeholdelse og vejrenovering"


def test_unknown_format_and_broken_xml_are_refused(tmp_path):
    other = tmp_path / "rest.xml"
    other.write_text("<KLE-REST><Emne/></KLE-REST>")
    with pytest.raises(CommandError, match=r"unknown KLE format \(root element <KLE-REST>\)"):
        call_command("reports_import_kle", str(other), stdout=io.StringIO())
    broken = tmp_path / "broken.xml"
    broken.write_text("<KLE-Emneplan><Hovedgruppe>")
    with pytest.raises(CommandError, match="not well-formed XML"):
        call_command("reports_import_kle", str(broken), stdout=io.StringIO())


def test_a_small_plan_parses_with_parents(tmp_path):
    path = tmp_path / "mini.xml"
    path.write_text(
        "<KLE-Emneplan><UdgivelsesDato>2020-01-01</UdgivelsesDato><Hovedgruppe>"
        "<HovedgruppeNr>05</HovedgruppeNr><HovedgruppeTitel>Veje</HovedgruppeTitel>"
        "<Gruppe><GruppeNr>05.01</GruppeNr><GruppeTitel>Vejbyggeri</GruppeTitel>"
        "<Emne><EmneNr>05.01.08</EmneNr><EmneTitel>Vejvedligeholdelse</EmneTitel></Emne>"
        "</Gruppe></Hovedgruppe></KLE-Emneplan>")
    plan = parse_kle(path)
    assert str(plan.published) == "2020-01-01"
    assert [(e.number, e.parent_number, e.level) for e in plan.entries] == [
        ("05", None, "hovedgruppe"), ("05.01", "05", "gruppe"), ("05.01.08", "05.01", "emne")]
