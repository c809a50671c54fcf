"""Municipalities, their departments, and staff roles in them."""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.db import models
from django.core.exceptions import ValidationError


class Municipality(models.Model):
    """A municipality this installation serves. Its boundary is an imported Area."""

    code = models.CharField(max_length=4, unique=True, help_text="Kommunekode, e.g. 0151.")
    name = models.CharField(max_length=100)
    area = models.OneToOneField("maps.Area", on_delete=models.PROTECT, related_name="+")
    default_department = models.ForeignKey(
        "Department", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="Receives reports that no routing rule matches; they are flagged for triage.",
    )
    active = models.BooleanField(default=True, help_text="Accepts new reports.")
    confirm_anonymous_reports = models.BooleanField(
        default=False, help_text="Reports from the public web page (no API key) wait, "
                                 "unpublished, until the reporter confirms them by mail.")
    password_login = models.BooleanField(
        default=True, help_text="Staff of this municipality may log in with a password; "
                                "off: only through its identity provider (single sign-on).")
    reporter_answer_days = models.PositiveSmallIntegerField(
        default=14, help_text="Days a reporter has to answer a question from staff; then "
                              "the report is back in the queue without the answer.")
    follow_up_days = models.PositiveSmallIntegerField(
        null=True, blank=True, default=28,
        help_text="Days after a report is resolved until its reporter is asked whether it "
                  "was fixed; empty: never asked.")
    redaction_keep_days = models.PositiveSmallIntegerField(
        default=30, help_text="Days staff can still read what they redacted from a report; "
                              "then it is purged from every table.")

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "municipalities"

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def clean(self) -> None:
        """A served municipality's boundary is a municipality area that overlaps no other
        served municipality's: the boundary decides who receives which reports."""
        from maps.models import Area
        from maps.selectors import overlap_m2

        if not self.area_id:
            return
        if self.area.kind != Area.Kind.MUNICIPALITY:
            raise ValidationError({"area": "Choose a municipality boundary, not a "
                                           f"{self.area.get_kind_display().lower()}."})
        others = list(Municipality.objects.exclude(pk=self.pk).values_list("area_id",
                                                                           flat=True))
        clash = overlap_m2(self.area, others)
        if clash:
            names = ", ".join(Municipality.objects.filter(area_id__in=clash)
                              .values_list("name", flat=True))
            raise ValidationError({"area": f"This boundary overlaps {names}."})


class Department(models.Model):
    municipality = models.ForeignKey(
        Municipality, on_delete=models.CASCADE, related_name="departments"
    )
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)

    class Meta:
        ordering = ["municipality__name", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "name"], name="department_unique_name"
            )
        ]

    def __str__(self) -> str:
        return self.name


class StaffMembership(models.Model):
    """What a staff user may see and do: a role in one department, or in a whole municipality.

    Caseworkers and department leads belong to a department; a municipality admin has no
    department and covers the whole municipality.
    """

    class Role(models.TextChoices):
        CASEWORKER = "caseworker", "Caseworker"
        DEPARTMENT_LEAD = "department_lead", "Department lead"
        MUNICIPALITY_ADMIN = "municipality_admin", "Municipality admin"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    municipality = models.ForeignKey(Municipality, on_delete=models.CASCADE, related_name="+")
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "municipality", "department"],
                name="membership_unique",
                nulls_distinct=False,
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(role="municipality_admin", department__isnull=True)
                    | (~models.Q(role="municipality_admin") & models.Q(department__isnull=False))
                ),
                name="membership_department_matches_role",
            ),
        ]

    def __str__(self) -> str:
        scope = self.department or self.municipality
        return f"{self.user} — {self.get_role_display()} — {scope}"

    def clean(self) -> None:
        _same_municipality(self)


def _same_municipality(row) -> None:
    """A row's department belongs to the row's municipality (a rule or a webhook pointing
    at another municipality's department would hand it this municipality's reports)."""
    if row.department_id and row.municipality_id and \
            row.department.municipality_id != row.municipality_id:
        raise ValidationError({"department": "Choose a department of the same municipality."})
