"""The pages behind the signed links for people outside the staff: the reporter answering
a question, and an external party working on a case handed to them. No account: the link
is the credential (hence no CSRF token: a forged POST would need the link). The pages work
without JavaScript: plain forms, multipart for photos."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from geoservice.errors import ApplicationError, Conflict, InvalidInput, NotFound
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
               "photos": list(report.photos.all()),  # the public ones (casework.handover_for)
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


def _choice(value: str | None, allowed: dict):
    return allowed.get(value or "")


@csrf_exempt
@require_http_methods(["GET", "POST"])
def follow_up_page(request, token: str):
    """"Is it fixed?": one answer, in the language the mail was written in."""
    from django.utils import translation

    from reports.services import followup

    follow_up, refused = _from_link(request, followup.follow_up_for, token)
    if refused is not None:
        return refused
    translation.activate(follow_up.language)
    request.LANGUAGE_CODE = follow_up.language
    report = follow_up.report
    context = {"follow_up": follow_up, "report": report, "scores": range(1, 6)}
    closed = (_("Thank you, you have answered"),
              _("Your answer about report #%(id)s has reached %(department)s.") % {
                  "id": report.pk, "department": report.department.name})
    if request.method == "POST":
        fixed = _choice(request.POST.get("fixed"), {"yes": True, "no": False})
        score = _choice(request.POST.get("satisfaction"), {str(n): n for n in range(1, 6)})
        try:
            answered = followup.follow_up_answer(
                token=token, fixed=fixed, satisfaction=score,
                comment=request.POST.get("comment", ""),
                photos=read_uploads(request.FILES.getlist("photo"), "photo"))
        except Conflict:
            return _message(request, *closed, 409)
        except ApplicationError as exc:
            return render(request, "frontend/follow_up.html",
                          {**context, "errors": _errors(exc), "posted": request.POST},
                          status=exc.status_code)
        if answered.fixed:
            return _message(request, _("Thank you for your answer"),
                            _("We are glad it was fixed."))
        return _message(request, _("Thank you for your answer"), _(
            "%(department)s will look at report #%(id)s again and tell you what they "
            "decide.") % {"department": report.department.name, "id": report.pk})
    if follow_up.answered_at is not None:
        return _message(request, *closed)
    return render(request, "frontend/follow_up.html", {**context, "posted": {}})


@require_http_methods(["GET", "POST"])
def my_reports_request(request):
    """Ask for the link to one's reports: the same answer whether or not the address filed
    or follows anything (no one learns whose address is known)."""
    from reports.api import access
    from reports.services import my_reports

    if request.method != "POST":
        return render(request, "frontend/my_reports_request.html", {"email": ""})
    email = request.POST.get("email", "")
    try:
        access.check_rate(request, None, posting=True)
        my_reports.my_reports_link_request(email=email, language=request.LANGUAGE_CODE)
    except InvalidInput:
        return render(request, "frontend/my_reports_request.html",
                      {"email": email, "error": _("Enter a valid e-mail address.")},
                      status=400)
    return _message(request, _("Check your mail"), _(
        "If the address has filed or follows reports, a link to them is on its way. It "
        "works for %(hours)s hours.") % {"hours": settings.MY_REPORTS_LINK_HOURS})


@csrf_exempt
@require_http_methods(["GET", "POST"])
def my_reports_page(request, token: str):
    from reports.services import my_reports

    message = ""
    try:
        if request.method == "POST":
            report_id = int(request.POST.get("report") or 0)
            if request.POST.get("action") == "withdraw":
                my_reports.my_report_withdraw(token=token, report_id=report_id)
                message = _("Report #%(id)s is withdrawn.") % {"id": report_id}
            else:
                my_reports.my_report_unfollow(token=token, report_id=report_id)
                message = _("You no longer follow report #%(id)s.") % {"id": report_id}
        email, found = my_reports.my_reports(token=token)
    except BadToken as exc:
        return _message(request, _("Link not valid"), str(exc), 400)
    except (Conflict, NotFound) as exc:
        email, found = my_reports.my_reports(token=token)
        return render(request, "frontend/my_reports.html",
                      {"email": email, "reports": found, "message": exc.message},
                      status=exc.status_code)
    response = render(request, "frontend/my_reports.html",
                      {"email": email, "reports": found, "message": message})
    response["Cache-Control"] = "private, no-store"
    return response
