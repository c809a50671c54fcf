"""The pages behind the signed links for people outside the staff: the reporter answering
a question, and an external party working on a case handed to them. No account: the link
is the credential (hence no CSRF token: a forged POST would need the link). The pages work
without JavaScript: plain forms, multipart for photos."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from geoservice.errors import ApplicationError, Conflict, NotFound
from reports import selectors
from reports.notifications.links import BadToken
from reports.photos import read_uploads
from reports.services import casework


def _message(request, title: str, message: str, status: int = 200) -> HttpResponse:
    return render(request, "frontend/message.html", {"title": title, "message": message},
                  status=status)


def _errors(exc: ApplicationError) -> list[str]:
    return [message for messages in exc.errors.values() for message in messages] or \
        [exc.message]


def _from_link(request, find, token: str):
    """(what the link names, None), or (None, the page saying that the link does not work)."""
    try:
        return find(token), None
    except (BadToken, NotFound) as exc:
        return None, _message(request, _("Link not valid"), str(exc), 400)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def question_page(request, token: str):
    question, refused = _from_link(request, casework.question_for, token)
    if refused is not None:
        return refused
    report = question.report
    context = {"question": question, "report": report,
               "open": question.state == "open" and timezone.now() <= question.answer_by}
    if request.method == "POST":
        try:
            casework.question_answer(
                token=token, answer=request.POST.get("answer", ""),
                photos=read_uploads(request.FILES.getlist("photo"), "photo"))
        except Conflict:
            return _message(request, _("This question is closed"),
                            _("It has been answered, or the time to answer it has run out."),
                            409)
        except ApplicationError as exc:
            return render(request, "frontend/question.html",
                          {**context, "errors": _errors(exc),
                           "answer": request.POST.get("answer", "")},
                          status=exc.status_code)
        return _message(request, _("Thank you for your answer"),
                        _("%(department)s has it now, with your report #%(id)s.") % {
                            "department": report.department.name, "id": report.pk})
    if not context["open"]:
        return _message(request, _("This question is closed"),
                        _("It has been answered, or the time to answer it has run out."))
    return render(request, "frontend/question.html", context)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def handover_page(request, token: str):
    handover, refused = _from_link(request, casework.handover_for, token)
    if refused is not None:
        return refused
    report = handover.report
    context = {"handover": handover, "report": report,
               "photos": list(selectors.public_photos().queryset.filter(report=report)),
               "open": casework.handover_open(handover)}
    if request.method == "POST":
        action = request.POST.get("action", "reply")
        try:
            casework.handover_respond(
                token=token, action=action, text=request.POST.get("text", ""),
                photos=read_uploads(request.FILES.getlist("photo"), "photo"))
        except Conflict:
            return _message(request, _("This case is closed for you"),
                            _("It was marked done or refused, taken back, or the link "
                              "expired."), 409)
        except ApplicationError as exc:
            return render(request, "frontend/handover.html",
                          {**context, "errors": _errors(exc),
                           "text": request.POST.get("text", "")}, status=exc.status_code)
        if action == "reply":
            return render(request, "frontend/handover.html",
                          {**context, "sent": True})
        return _message(request, _("Thank you"), _(
            "%(municipality)s can see that you marked case #%(id)s done.")
            % {"municipality": report.municipality.name, "id": report.pk}
            if action == "done" else _(
            "%(municipality)s can see that you refused case #%(id)s.")
            % {"municipality": report.municipality.name, "id": report.pk})
    return render(request, "frontend/handover.html", context)
