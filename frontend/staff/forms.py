"""Forms of the staff dashboard: the queue's filters and the input of each action."""

from __future__ import annotations

from django import forms
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
    mine = forms.BooleanField(label=_("Assigned to me"), required=False)
    older_than = forms.IntegerField(label=_("Older than (days)"), required=False, min_value=0,
                                    max_value=3650)
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)
    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    sort = forms.ChoiceField(label=_("Sort"), required=False, choices=[
        ("newest", _("Newest first")), ("oldest", _("Oldest first")), ("due", _("Due first")),
        ("priority", _("Priority")), ("updated", _("Recently changed"))])

    def __init__(self, data, *, categories, departments, areas):
        super().__init__(data)
        self.fields["category"].choices = [("", _("All"))] + [
            (c.code, f"{c.name} ({c.municipality.name})") for c in categories]
        self.fields["department"].choices = [("", _("All"))] + [
            (str(d.pk), d.name) for d in departments]
        self.fields["area"].choices = [("", _("All"))] + [(str(a.pk), a.name) for a in areas]

    def filters(self) -> QueueFilters:
        data = self.cleaned_data if self.is_valid() else {}
        return QueueFilters(
            statuses=data.get("status") or [], category=data.get("category") or "",
            kle_prefix=data.get("kle") or "",
            area_id=int(data["area"]) if data.get("area") else None,
            department_id=int(data["department"]) if data.get("department") else None,
            assigned_to_me=bool(data.get("mine")), older_than_days=data.get("older_than"),
            overdue=bool(data.get("overdue")), q=data.get("q") or "",
            sort=data.get("sort") if data.get("sort") in SORTS else "newest")


class VersionedForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class StatusForm(VersionedForm):
    status = forms.ChoiceField(label=_("New status"), choices=Status.choices)
    public_text = forms.CharField(label=_("Public reply (shown to the reporter)"),
                                  required=False, widget=forms.Textarea(attrs={"rows": 3}),
                                  max_length=5000)
    internal_text = forms.CharField(label=_("Internal note"), required=False, max_length=5000,
                                    widget=forms.Textarea(attrs={"rows": 2}))


class MergeForm(VersionedForm):
    into = forms.IntegerField(label=_("Original report"), min_value=1, required=False)
    into_other = forms.IntegerField(label=_("Original report number"), min_value=1,
                                    required=False)
    public_text = forms.CharField(label=_("Public reply"), required=False, max_length=5000,
                                  widget=forms.Textarea(attrs={"rows": 2}))


    def clean(self):
        data = super().clean()
        data["into"] = data.get("into_other") or data.get("into")
        if not data["into"]:
            raise forms.ValidationError({"into": _("Choose the original report.")})
        return data


class RerouteForm(VersionedForm):
    department = forms.TypedChoiceField(label=_("Department"), coerce=int)
    reason = forms.CharField(label=_("Reason (internal)"), required=False, max_length=500)


class CategoryForm(VersionedForm):
    category = forms.ChoiceField(label=_("Category"))


class MoveForm(VersionedForm):
    lon = forms.FloatField(label=_("Longitude"), min_value=-180, max_value=180)
    lat = forms.FloatField(label=_("Latitude"), min_value=-90, max_value=90)


class AssignForm(VersionedForm):
    assignee = forms.TypedChoiceField(label=_("Colleague"), coerce=int, required=False,
                                      empty_value=None)


class PriorityForm(VersionedForm):
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices)
    due = forms.DateTimeField(label=_("Due"), required=False,
                              widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
                              input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"])


class TextForm(VersionedForm):
    text = forms.CharField(label=_("Text"), max_length=5000,
                           widget=forms.Textarea(attrs={"rows": 3}))


class HideForm(VersionedForm):
    reason = forms.CharField(label=_("Why (internal)"), max_length=500)


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
