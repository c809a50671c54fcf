"""Forms of the staff dashboard: the queue's filters and the input of each action."""

from __future__ import annotations

from django import forms
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from reports.lifecycle import Status
from reports.models import KLE_PREFIX_PATTERN, Priority
from reports.staff.selectors import SORTS, QueueFilters


class QueueFilterForm(forms.Form):
    status = forms.MultipleChoiceField(label=_("Status"), choices=Status.choices,
                                       required=False, widget=forms.CheckboxSelectMultiple)
    category = forms.ChoiceField(label=_("Category"), required=False)
    kle = forms.RegexField(label=_("KLE prefix"), regex=rf"^{KLE_PREFIX_PATTERN}$",
                           required=False,
                           error_messages={"invalid": _("Use NN, NN.NN or NN.NN.NN.")})
    area = forms.ChoiceField(label=_("Area"), required=False)
    department = forms.ChoiceField(label=_("Department"), required=False)
    asset_type = forms.ChoiceField(label=_("Asset type"), required=False)
    mine = forms.BooleanField(label=_("Assigned to me"), required=False)
    older_than = forms.IntegerField(label=_("Older than (days)"), required=False, min_value=0,
                                    max_value=3650)
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)
    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    sort = forms.ChoiceField(label=_("Sort"), required=False, choices=[
        ("newest", _("Newest first")), ("oldest", _("Oldest first")), ("due", _("Due first")),
        ("priority", _("Priority")), ("updated", _("Recently changed"))])

    def __init__(self, data, *, categories, departments, areas, asset_types):
        super().__init__(data)
        self.fields["category"].choices = [("", _("All"))] + [
            (c.code, f"{c.name} ({c.municipality.name})") for c in categories]
        self.fields["department"].choices = [("", _("All"))] + [
            (str(d.pk), d.name) for d in departments]
        self.fields["area"].choices = [("", _("All"))] + [(str(a.pk), a.name) for a in areas]
        self.fields["asset_type"].choices = [("", _("All"))] + [
            (str(t.pk), t.name) for t in asset_types]

    def filters(self) -> QueueFilters:
        data = self.cleaned_data if self.is_valid() else {}
        return QueueFilters(
            statuses=data.get("status") or [], category=data.get("category") or "",
            kle_prefix=data.get("kle") or "",
            area_id=int(data["area"]) if data.get("area") else None,
            department_id=int(data["department"]) if data.get("department") else None,
            asset_type_id=int(data["asset_type"]) if data.get("asset_type") else None,
            assigned_to_me=bool(data.get("mine")), older_than_days=data.get("older_than"),
            overdue=bool(data.get("overdue")), q=data.get("q") or "",
            sort=data.get("sort") if data.get("sort") in SORTS else "newest")


class VersionedForm(forms.Form):
    """An action on one report: it carries the version the user saw (a stale one is 409).
    The detail page renders these forms (their labels, widgets and ids); the ids are the
    page's and its script's handles."""

    label_suffix = ""
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


def _text(rows: int, id_: str, **attrs) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows, "id": id_, **attrs})


class StatusForm(VersionedForm):
    status = forms.ChoiceField(label=_("New status"), choices=Status.choices,
                               widget=forms.Select(attrs={"id": "status-select"}))
    public_text = forms.CharField(label=_("Public reply (needed to resolve or reject)"),
                                  required=False, widget=_text(3, "status-text"),
                                  max_length=5000)
    internal_text = forms.CharField(label=_("Internal note"), required=False, max_length=5000,
                                    widget=_text(2, "status-internal"))


class MergeForm(VersionedForm):
    into = forms.IntegerField(label=_("Original report"), min_value=1, required=False)
    into_other = forms.IntegerField(label=_("Or its number"), min_value=1, required=False,
                                    widget=forms.TextInput(attrs={"id": "merge-other",
                                                                  "inputmode": "numeric"}))
    public_text = forms.CharField(label=_("Public reply"), required=False, max_length=5000,
                                  widget=_text(2, "merge-text"))


    def clean(self):
        data = super().clean()
        data["into"] = data.get("into_other") or data.get("into")
        if not data["into"]:
            raise forms.ValidationError({"into": _("Choose the original report.")})
        return data


class RerouteForm(VersionedForm):
    department = forms.TypedChoiceField(label=_("Department"), coerce=int,
                                        widget=forms.Select(attrs={"id": "department"}))
    reason = forms.CharField(label=_("Reason (internal)"), required=False, max_length=500,
                             widget=forms.TextInput(attrs={"id": "reroute-reason"}))


class CategoryForm(VersionedForm):
    category = forms.ChoiceField(label=_("Category"),
                                 widget=forms.Select(attrs={"id": "category"}))


class MoveForm(VersionedForm):
    lat = forms.FloatField(label=_("Latitude"), min_value=-90, max_value=90,
                           widget=forms.TextInput(attrs={"id": "move-lat"}))
    lon = forms.FloatField(label=_("Longitude"), min_value=-180, max_value=180,
                           widget=forms.TextInput(attrs={"id": "move-lon"}))


class AssignForm(VersionedForm):
    assignee = forms.TypedChoiceField(label=_("Colleague"), coerce=int, required=False,
                                      empty_value=None,
                                      widget=forms.Select(attrs={"id": "assignee"}))


class PriorityForm(VersionedForm):
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices,
                                 widget=forms.Select(attrs={"id": "priority"}))
    due = forms.DateTimeField(label=_("Due"), required=False,
                              widget=forms.DateTimeInput(attrs={"type": "datetime-local",
                                                                "id": "due"},
                                                         format="%Y-%m-%dT%H:%M"),
                              input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"])


class TextForm(VersionedForm):
    text = forms.CharField(label=_("Text"), max_length=5000, widget=_text(3, "text"))


class ReplyForm(TextForm):
    text = forms.CharField(label=_("Text (mailed to the reporter and followers)"),
                           max_length=5000, widget=_text(3, "reply-text"))


class NoteForm(TextForm):
    text = forms.CharField(label=_("Text (staff only)"), max_length=5000,
                           widget=_text(2, "note-text"))


class HideForm(VersionedForm):
    reason = forms.CharField(label=_("Why (internal)"), max_length=500,
                             widget=forms.TextInput(attrs={"id": "hide-reason"}))


class PrivateForm(VersionedForm):
    reason = forms.CharField(label=_("Why (staff only)"), max_length=500,
                             widget=forms.TextInput(attrs={"id": "private-reason"}))


class RedactForm(VersionedForm):
    """Remove a passage of the citizen's text: `where` is "description", "answer" or
    "update:<timeline row id>" (the choices are the report's own)."""

    where = forms.ChoiceField(label=_("From"), choices=[],
                              widget=forms.Select(attrs={"id": "redact-where"}))
    passage = forms.CharField(label=_("Passage to remove (copy it exactly)"), max_length=4000,
                              widget=forms.TextInput(attrs={"id": "redact-passage"}))
    reason = forms.CharField(label=_("Why (the public and the reporter read it)"),
                             max_length=300,
                             widget=forms.TextInput(attrs={"id": "redact-reason"}))

    def clean(self):
        data = super().clean()
        target, _sep, event = (data.get("where") or "").partition(":")
        data["target"], data["event"] = target, int(event) if event.isdigit() else None
        return data


class RedactPhotoForm(VersionedForm):
    photo = forms.TypedChoiceField(label=_("Photo"), coerce=int, choices=[],
                                   widget=forms.Select(attrs={"id": "redact-photo"}))
    reason = forms.CharField(label=_("Why (the public and the reporter read it)"),
                             max_length=300,
                             widget=forms.TextInput(attrs={"id": "redact-photo-reason"}))


def redact_choices(report) -> list[tuple[str, str]]:
    choices = [("description", str(_("Description")))]
    if report.answers:
        choices.append(("answer", str(_("Answers"))))
    for event in report.events.filter(kind="citizen_update").order_by("created_at"):
        choices.append((f"update:{event.pk}", str(_("Update from the citizen %(when)s")) % {
            "when": formats.date_format(timezone.localtime(event.created_at),
                                        "SHORT_DATETIME_FORMAT")}))
    return choices


def redact_photo_choices(report) -> list[tuple[int, str]]:
    return [(photo.pk, str(_("Photo %(n)s")) % {"n": n})
            for n, photo in enumerate(report.photos.filter(public=True).order_by("pk"), 1)]


class ReopenForm(VersionedForm):
    request = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class ReopenDeclineForm(ReopenForm):
    reason = forms.CharField(label=_("Why it stays resolved (public; the reporter is told)"),
                             max_length=4000, widget=_text(2, "reopen-reason"))


class AskForm(VersionedForm):
    question = forms.CharField(label=_("Question (mailed to the reporter)"), max_length=4000,
                               widget=_text(3, "ask-question"))


class HandoverForm(VersionedForm):
    party = forms.CharField(label=_("Who gets it"), max_length=200,
                            widget=forms.TextInput(attrs={"id": "handover-party"}))
    email = forms.EmailField(label=_("Their e-mail address"),
                             widget=forms.EmailInput(attrs={"id": "handover-email"}))
    instructions = forms.CharField(label=_("What they should do"), required=False,
                                   max_length=4000, widget=_text(2, "handover-instructions"))
    share_contact = forms.BooleanField(
        label=_("Show them the reporter's name, e-mail and phone"), required=False,
        widget=forms.CheckboxInput(attrs={"id": "handover-share"}))


class WithdrawForm(VersionedForm):
    handover = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


def action_forms(report, *, next_statuses, departments, categories, colleagues) -> dict:
    """Every action's form for one report's page, with its choices and current values."""
    version = {"version": report.version}
    status = StatusForm(initial=version)
    status.fields["status"].choices = [(code, label) for code, label in next_statuses
                                       if code != Status.DUPLICATE]
    reroute = RerouteForm(initial={**version, "department": report.department_id})
    reroute.fields["department"].choices = [(d.pk, d.name) for d in departments]
    category = CategoryForm(initial={**version, "category": report.category.code})
    category.fields["category"].choices = [(c.code, c.name) for c in categories]
    assign = AssignForm(initial={**version, "assignee": report.assigned_to_id})
    assign.fields["assignee"].choices = [("", "—")] + [(u.pk, u.get_username())
                                                      for u in colleagues]
    redact = RedactForm(initial=version)
    redact.fields["where"].choices = redact_choices(report)
    redact_photo = RedactPhotoForm(initial=version)
    redact_photo.fields["photo"].choices = redact_photo_choices(report)
    return {
        "status": status, "merge": MergeForm(initial=version), "reroute": reroute,
        "category": category, "assign": assign,
        "move": MoveForm(initial={**version, "lat": f"{report.location.y:.7f}",
                                  "lon": f"{report.location.x:.7f}"}),
        "priority": PriorityForm(initial={**version, "priority": report.priority,
                                          "due": report.expected_at}),
        "reply": ReplyForm(initial=version), "note": NoteForm(initial=version),
        "hide": HideForm(initial=version), "unhide": VersionedForm(initial=version),
        "ask": AskForm(initial=version), "handover": HandoverForm(initial=version),
        "private": PrivateForm(initial=version), "unprivate": VersionedForm(initial=version),
        "redact": redact, "redact-photo": redact_photo,
    }


class BulkForm(forms.Form):
    action = forms.ChoiceField(choices=[("status", "status"), ("reroute", "reroute"),
                                        ("assign", "assign")])
    reports = forms.CharField()  # comma-separated ids (the checked rows)
    status = forms.ChoiceField(choices=Status.choices, required=False)
    public_text = forms.CharField(required=False, max_length=5000)
    department = forms.IntegerField(required=False)
    assignee = forms.IntegerField(required=False)

    def clean_reports(self) -> list[int]:
        ids = [part for part in self.cleaned_data["reports"].split(",") if part.strip()]
        if not ids or not all(part.strip().isdigit() for part in ids) or len(ids) > 500:
            raise forms.ValidationError(_("Choose between 1 and 500 reports."))
        return [int(part) for part in ids]


# The channels a report taken by staff can come in by (the others are the citizen's own).
STAFF_CHANNELS = ("phone", "counter", "email", "staff")


class StaffReportForm(forms.Form):
    """A report that Borgerservice takes for a caller, at the counter or from a mail."""

    label_suffix = ""
    # Made when the form is shown; a second submit of the same form files nothing new.
    form_token = forms.CharField(widget=forms.HiddenInput, max_length=64)
    channel = forms.ChoiceField(label=_("Channel"))
    category = forms.ChoiceField(label=_("Category"))
    address = forms.CharField(label=_("Address"), required=False, max_length=300,
                              help_text=_("Street and number, postcode and town."),
                              widget=forms.TextInput(attrs={"autocomplete": "off"}))
    lat = forms.FloatField(label=_("Or latitude"), required=False, min_value=-90,
                           max_value=90)
    lon = forms.FloatField(label=_("and longitude"), required=False, min_value=-180,
                           max_value=180)
    description = forms.CharField(label=_("What is the problem?"), max_length=4000,
                                  widget=_text(4, "new-description"))
    name = forms.CharField(label=_("The citizen's name"), required=False, max_length=200)
    email = forms.EmailField(label=_("E-mail (for the receipt and news)"), required=False)
    phone = forms.CharField(label=_("Phone"), required=False, max_length=40)

    def __init__(self, data=None, *, categories, initial=None):
        super().__init__(data, initial=initial)
        from reports.models import Report

        self.fields["channel"].choices = [
            (value, label) for value, label in Report.Source.choices
            if value in STAFF_CHANNELS]
        self.fields["category"].choices = [
            (f"{c.municipality.code}:{c.code}", f"{c.name} ({c.municipality.name})")
            for c in categories]

    def clean(self):
        data = super().clean()
        has_point = data.get("lat") is not None and data.get("lon") is not None
        if not has_point and not (data.get("address") or "").strip():
            raise forms.ValidationError({"address": _(
                "Give the address, or the latitude and longitude.")})
        return data
