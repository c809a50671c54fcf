"""Casework with people outside the staff, by signed links in a mail: one question to the
reporter (the due date pauses while they think), and a case handed to an external party
who may reply, add photos, and mark it done or refuse it. Everything lands on the timeline
as staff-only rows; photos they send are for staff only."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone

from geoservice.errors import Conflict, InvalidInput, NotFound
from reports import changes
from reports.models import Handover, Photo, Report, ReporterQuestion, ReportEvent
from reports.notifications import links, outbox
from reports.photos import process_photo
from reports.services.filing import _store_photo

if TYPE_CHECKING:
    from django.contrib.auth.models import User

TEXT_MAX_LENGTH = 4000
PHOTOS_PER_ANSWER = 3


def _text(value: str, field: str, *, required: bool) -> str:
    value = (value or "").strip()
    if required and not value:
        raise InvalidInput("Some fields are invalid.", {field: ["Write something."]})
    if len(value) > TEXT_MAX_LENGTH:
        raise InvalidInput("Some fields are invalid.",
                           {field: [f"At most {TEXT_MAX_LENGTH} characters."]})
    return value


def _staff_photos(report: Report, photos: list[bytes]) -> list[Photo]:
    if len(photos) > PHOTOS_PER_ANSWER:
        raise InvalidInput("Some fields are invalid.",
                           {"photo": [f"At most {PHOTOS_PER_ANSWER} photos."]})
    processed = [process_photo(data, field="photo") for data in photos]  # all, then store
    stored = [_store_photo(report, photo) for photo in processed]
    Photo.objects.filter(pk__in=[p.pk for p in stored]).update(public=False)
    return stored


def _resume_due(question: ReporterQuestion, report: Report, now: dt.datetime) -> None:
    """The due time moves on by the time the report waited for its reporter."""
    if question.paused_expected_at is not None:
        report.expected_at = question.paused_expected_at + (now - question.asked_at)


# --- a question to the reporter -----------------------------------------------------------

@transaction.atomic
def question_ask(*, actor: User, report_id: int, question: str,
                 expected_version: int | None = None) -> ReporterQuestion:
    """Mail the reporter one question with a link to answer it; the report waits for
    them (its due date paused) until they answer or the municipality's days run out."""
    question = _text(question, "question", required=True)
    report = changes.lock(report_id, expected_version=expected_version, staff=actor)
    if not report.reporter_email:
        raise InvalidInput("Some fields are invalid.", {"question": [
            "The reporter gave no e-mail address; call them if they gave a phone number."]})
    if report.questions.filter(state=ReporterQuestion.State.OPEN).exists():
        raise Conflict("The reporter has an open question already.",
                       {"question": ["Wait for the answer to the open question."]})
    now = timezone.now()
    asked = ReporterQuestion.objects.create(
        report=report, question=question, asked_by=actor, asked_at=now,
        answer_by=now + dt.timedelta(days=report.municipality.reporter_answer_days),
        paused_expected_at=report.expected_at)
    report.expected_at = None
    changes.record(report, kind=ReportEvent.Kind.QUESTION, actor=actor, at=now,
                   internal_text=question, fields=("expected_at",))
    outbox.enqueue_reporter_question(asked, links.url("question-answer", asked.pk))
    return asked


def question_for(token: str) -> ReporterQuestion:
    """The question a link names (links.BadToken, NotFound)."""
    question = ReporterQuestion.objects.select_related("report").filter(
        pk=links.read("question-answer", token)).first()
    if question is None:
        raise NotFound("This question no longer exists.")
    return question


@transaction.atomic
def question_answer(*, token: str, answer: str, photos: list[bytes] | None = None
                    ) -> ReporterQuestion:
    """The reporter's answer, once; the report is back in the queue with it."""
    question_id = links.read("question-answer", token)
    question = ReporterQuestion.objects.select_for_update().filter(pk=question_id).first()
    if question is None:
        raise NotFound("This question no longer exists.")
    now = timezone.now()
    if question.state != ReporterQuestion.State.OPEN or now > question.answer_by:
        raise Conflict("This question has been answered or has closed.")
    answer = _text(answer, "answer", required=not photos)
    report = changes.lock(question.report_id)
    stored = _staff_photos(report, photos or [])
    question.state, question.answer, question.answered_at = (
        ReporterQuestion.State.ANSWERED, answer, now)
    question.save(update_fields=["state", "answer", "answered_at"])
    _resume_due(question, report, now)
    changes.record(report, kind=ReportEvent.Kind.ANSWER, actor_label="citizen", at=now,
                   fields=("expected_at",),
                   internal_text=answer + (f"\n({len(stored)} photos for staff)"
                                           if stored else ""))
    return question


def questions_expire(now: dt.datetime | None = None) -> int:
    """Questions nobody answered in time close; their reports are back in the queue with
    the due date running again. How many closed (the worker's housekeeping)."""
    now = now or timezone.now()
    closed = 0
    for question_id in ReporterQuestion.objects.filter(
            state=ReporterQuestion.State.OPEN, answer_by__lt=now).values_list("pk", flat=True):
        with transaction.atomic():
            question = ReporterQuestion.objects.select_for_update(skip_locked=True).filter(
                pk=question_id, state=ReporterQuestion.State.OPEN).first()
            if question is None:
                continue
            report = changes.lock(question.report_id)
            question.state = ReporterQuestion.State.EXPIRED
            question.save(update_fields=["state"])
            _resume_due(question, report, now)
            changes.record(report, kind=ReportEvent.Kind.ANSWER, actor_label="OS2geo",
                           fields=("expected_at",),
                           internal_text="No answer from the reporter in time; the report "
                                         "is back in the queue.")
            closed += 1
    return closed


# --- a case handed to an external party ---------------------------------------------------

@transaction.atomic
def handover_send(*, actor: User, report_id: int, party: str, email: str,
                  instructions: str = "", share_contact: bool = False,
                  expected_version: int | None = None) -> Handover:
    """Hand the case to an external party by mail (a signed link that expires)."""
    party = (party or "").strip()
    errors = {}
    if not party:
        errors["party"] = ["Name who gets it."]
    if not email:
        errors["email"] = ["Give their e-mail address."]
    if errors:
        raise InvalidInput("Some fields are invalid.", errors)
    instructions = _text(instructions, "instructions", required=False)
    report = changes.lock(report_id, expected_version=expected_version, staff=actor)
    now = timezone.now()
    handover = Handover.objects.create(
        report=report, party=party[:200], email=email, instructions=instructions,
        share_contact=share_contact, sent_by=actor, sent_at=now,
        expires_at=now + dt.timedelta(days=settings.HANDOVER_LINK_DAYS),
        language=report.language)
    changes.record(report, kind=ReportEvent.Kind.HANDOVER, actor=actor, at=now,
                   internal_text=f"Handed to {party} <{email}>"
                                 + (", with the reporter's contact" if share_contact else "")
                                 + (f": {instructions}" if instructions else "."))
    outbox.enqueue_handover(handover, links.url("handover", handover.pk))
    return handover


def handover_for(token: str) -> Handover:
    handover = (Handover.objects.select_related("report__category", "report__municipality",
                                                "report__department")
                .prefetch_related(Prefetch("report__photos", queryset=Photo.objects.filter(
                    public=True).order_by("id")))
                .filter(pk=links.read("handover", token)).first())
    if handover is None:
        raise NotFound("This case is no longer handed to you.")
    return handover


def handover_open(handover: Handover, now: dt.datetime | None = None) -> bool:
    return handover.state == Handover.State.OPEN and (now or timezone.now()) <= \
        handover.expires_at


@transaction.atomic
def handover_respond(*, token: str, action: str, text: str = "",
                     photos: list[bytes] | None = None) -> Handover:
    """The external party replies (`reply`), or marks it `done` or `refused` (which ends
    their part: the link then only shows what happened)."""
    if action not in ("reply", "done", "refused"):
        raise InvalidInput("Some fields are invalid.", {"action": ["Unknown action."]})
    handover = Handover.objects.select_for_update().filter(
        pk=links.read("handover", token)).first()
    if handover is None:
        raise NotFound("This case is no longer handed to you.")
    if not handover_open(handover):
        raise Conflict("This case is closed for you.")
    text = _text(text, "text", required=action != "done" and not photos)
    report = changes.lock(handover.report_id)
    stored = _staff_photos(report, photos or [])
    now = timezone.now()
    if action != "reply":
        handover.state = Handover.State.DONE if action == "done" else Handover.State.REFUSED
        handover.closed_at = now
        handover.save(update_fields=["state", "closed_at"])
    said = {"reply": "replied", "done": "marked it done", "refused": "refused it"}[action]
    changes.record(report, kind=ReportEvent.Kind.EXTERNAL_REPLY, actor_label=handover.party,
                   at=now, internal_text=f"{handover.party} {said}"
                                         + (f": {text}" if text else ".")
                                         + (f" ({len(stored)} photos for staff)"
                                            if stored else ""))
    return handover


@transaction.atomic
def handover_withdraw(*, actor: User, report_id: int, handover_id: int) -> Handover:
    """Staff take the case back: the party's link stops working."""
    report = changes.lock(report_id, staff=actor)
    handover = Handover.objects.select_for_update().filter(
        pk=handover_id, report=report, state=Handover.State.OPEN).first()
    if handover is None:
        raise NotFound("No open handover with that number.")
    handover.state, handover.closed_at = Handover.State.WITHDRAWN, timezone.now()
    handover.save(update_fields=["state", "closed_at"])
    changes.record(report, kind=ReportEvent.Kind.HANDOVER, actor=actor,
                   internal_text=f"Taken back from {handover.party}.")
    return handover
