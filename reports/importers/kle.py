"""Import KL's Emnesystematik (KLE) into KleSubject.

Parsing and writing are separate: a parser turns one file format into `KleEntry` rows, and
`import_kle` writes any list of them. Only the official XML format v2.0 ("KLE-Emneplan",
Hovedgruppe > Gruppe > Emne) has a parser today; a parser for the newer KLE REST XML (with
UUIDs and handlingsfacetter) can be added to PARSERS without touching the writer.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from geoservice.lib.importing import ImportFailed, ImportSummary, Progress, no_progress, open_binary
from reports.models import KleSubject

Level = KleSubject.Level


@dataclass(frozen=True)
class KleEntry:
    number: str
    title: str
    level: str
    parent_number: str | None
    retired: bool
    retired_on: dt.date | None
    replaced_by: str
    created_on: dt.date | None
    changed_on: dt.date | None


@dataclass(frozen=True)
class KlePlan:
    published: dt.date | None
    entries: list[KleEntry]


def _date(text: str | None) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text.strip()[:10])
    except ValueError:
        return None


def _parse_v2(root: ET.Element) -> KlePlan:
    """The official KLE-Emneplan XML, format version 2.0 (2011)."""
    entries: list[KleEntry] = []
    # (element tag prefix, level, child tag)
    levels = (("Hovedgruppe", Level.MAIN_GROUP, "Gruppe"), ("Gruppe", Level.GROUP, "Emne"),
              ("Emne", Level.SUBJECT, None))

    def visit(element: ET.Element, depth: int, parent: str | None) -> None:
        tag, level, child_tag = levels[depth]
        number = (element.findtext(f"{tag}Nr") or "").strip()
        title = (element.findtext(f"{tag}Titel") or "").strip()
        if not number or not title:
            raise ImportFailed(f"a <{tag}> without {tag}Nr or {tag}Titel (under {parent})")
        info = element.find(f"{tag}AdministrativInfo")
        historic = info.find("Historisk") if info is not None else None
        retired_on, replaced_by = None, ""
        if historic is not None:
            retired_on = _date(historic.findtext("UdgaaetDato"))
            moved = historic.find("Flyttet")
            if moved is not None:
                retired_on = retired_on or _date(moved.findtext("FlyttetDato"))
                successor = moved.find("AfloestAf")
                if successor is not None:
                    replaced_by = next(
                        ((child.text or "").strip() for child in successor if child.text), ""
                    )
        entries.append(KleEntry(
            number=number, title=title, level=level, parent_number=parent,
            retired=historic is not None, retired_on=retired_on, replaced_by=replaced_by,
            created_on=_date(info.findtext("OprettetDato")) if info is not None else None,
            changed_on=_date(info.findtext("RettetDato")) if info is not None else None,
        ))
        if child_tag:
            for child in element.findall(child_tag):
                visit(child, depth + 1, number)

    for main_group in root.findall("Hovedgruppe"):
        visit(main_group, 0, None)
    return KlePlan(published=_date(root.findtext("UdgivelsesDato")), entries=entries)


# Root element tag → parser. Add the KLE REST XML format here.
PARSERS: dict[str, Callable[[ET.Element], KlePlan]] = {"KLE-Emneplan": _parse_v2}


def parse_kle(path: Path | str) -> KlePlan:
    path = Path(path)
    with open_binary(path) as handle:
        try:
            root = ET.parse(handle).getroot()
        except ET.ParseError as exc:
            raise ImportFailed(f"{path.name}: not well-formed XML ({exc})") from None
    tag = root.tag.rsplit("}", 1)[-1]
    parser = PARSERS.get(tag)
    if parser is None:
        raise ImportFailed(
            f"{path.name}: unknown KLE format (root element <{tag}>); "
            f"supported: {', '.join(PARSERS)}"
        )
    plan = parser(root)
    if not plan.entries:
        raise ImportFailed(f"{path.name}: no KLE subjects found")
    return plan


_FIELDS = ("title", "level", "retired", "retired_on", "replaced_by", "created_on", "changed_on")


def import_kle(
    path: Path | str, *, dry_run: bool = False, progress: Progress = no_progress
) -> ImportSummary:
    """Create or update every subject of the plan; subjects missing from the file are kept."""
    plan = parse_kle(path)
    summary = ImportSummary(dry_run=dry_run)
    by_level = {level: 0 for level in Level.values}
    in_use = {level: 0 for level in Level.values}
    with transaction.atomic():
        existing = {s.number: s for s in KleSubject.objects.all()}
        to_create, to_update = [], []
        # Level by level, so that every parent has its id before its children are written.
        for level in Level.values:
            created_here = []
            entries = [e for e in plan.entries if e.level == level]
            for entry in progress(entries, len(entries), f"KLE {level}"):
                by_level[level] += 1
                in_use[level] += not entry.retired
                values = {name: getattr(entry, name) for name in _FIELDS}
                parent = existing.get(entry.parent_number) if entry.parent_number else None
                values["parent_id"] = parent.pk if parent else None
                subject = existing.get(entry.number)
                if subject is None:
                    subject = KleSubject(number=entry.number, **values)
                    created_here.append(subject)
                    existing[entry.number] = subject
                elif any(getattr(subject, k) != v for k, v in values.items()):
                    for key, value in values.items():
                        setattr(subject, key, value)
                    to_update.append(subject)
                else:
                    summary.unchanged += 1
            KleSubject.objects.bulk_create(created_here, batch_size=1000)
            to_create.extend(created_here)
        KleSubject.objects.bulk_update(to_update, [*_FIELDS, "parent"], batch_size=1000)
        summary.created, summary.updated = len(to_create), len(to_update)
        summary.notes.append(
            f"plan published {plan.published}: "
            + ", ".join(f"{by_level[lv]} {lv} ({in_use[lv]} in use)" for lv in Level.values)
        )
        if dry_run:
            transaction.set_rollback(True)
    return summary
