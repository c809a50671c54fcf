"""What can be reported and where it goes: the KLE plan, categories with their questions
and reply templates, and routing rules."""

from __future__ import annotations

from django.contrib.gis.db import models
from django.core.validators import RegexValidator

from reports.lifecycle import Status
from reports.models.organisation import Department, Municipality, _same_municipality

# A KLE number or prefix: NN (hovedgruppe), NN.NN (gruppe) or NN.NN.NN (emne).
KLE_PREFIX_PATTERN = r"\d{2}(\.\d{2}){0,2}"
KLE_PREFIX_VALIDATOR = RegexValidator(
    rf"^({KLE_PREFIX_PATTERN})?$",
    "A KLE prefix is empty (all subjects), NN, NN.NN or NN.NN.NN.",
)


class KleSubject(models.Model):
    """One node of KL's Emnesystematik: hovedgruppe (NN), gruppe (NN.NN) or emne (NN.NN.NN)."""

    class Level(models.TextChoices):
        MAIN_GROUP = "hovedgruppe", "Hovedgruppe"
        GROUP = "gruppe", "Gruppe"
        SUBJECT = "emne", "Emne"

    number = models.CharField(max_length=8, unique=True)
    title = models.CharField(max_length=300)
    level = models.CharField(max_length=12, choices=Level.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    retired = models.BooleanField(default=False)
    retired_on = models.DateField(null=True, blank=True)
    replaced_by = models.CharField(
        max_length=8, blank=True, help_text="Number that took over when the subject moved."
    )
    created_on = models.DateField(null=True, blank=True)
    changed_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["number"]
        verbose_name = "KLE subject"
        indexes = [
            models.Index(fields=["number"], name="kle_number_prefix",
                         opclasses=["varchar_pattern_ops"]),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"


class Category(models.Model):
    """What a citizen can report in one municipality; `code` is the Open311 service_code."""

    municipality = models.ForeignKey(
        Municipality, on_delete=models.CASCADE, related_name="categories"
    )
    code = models.SlugField(max_length=64)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    kle = models.ForeignKey(
        KleSubject, on_delete=models.PROTECT, related_name="categories",
        limit_choices_to={"level": KleSubject.Level.SUBJECT},
    )
    group = models.CharField(max_length=100, blank=True)
    class Visibility(models.TextChoices):
        PUBLIC = "public", "Public: its reports are on the map and in the APIs"
        PRIVATE = "private", ("Private: citizens file them, nobody but staff and the "
                              "reporter sees them")
        STAFF_ONLY = "staff_only", "Staff only: filed by staff, seen by staff"

    active = models.BooleanField(default=True)
    visibility = models.CharField(max_length=10, choices=Visibility.choices,
                                  default=Visibility.PUBLIC)
    anonymous_allowed = models.BooleanField(default=True)
    expected_handling_hours = models.PositiveIntegerField(
        default=120, help_text="How long handling is expected to take; a report's due time "
                               "(expected_datetime) is its creation plus this.")

    class Meta:
        ordering = ["municipality__name", "group", "name"]
        verbose_name_plural = "categories"
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "code"], name="category_unique_code"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.municipality.code})"


class CategoryQuestion(models.Model):
    """An extra question a category asks (an Open311 service definition attribute)."""

    class Datatype(models.TextChoices):
        STRING = "string", "Short text"
        NUMBER = "number", "Number"
        DATETIME = "datetime", "Date and time"
        TEXT = "text", "Long text"
        SINGLEVALUELIST = "singlevaluelist", "One of a list"
        MULTIVALUELIST = "multivaluelist", "Several of a list"

    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="questions")
    code = models.SlugField(max_length=64)
    question = models.CharField(max_length=300)
    description = models.CharField(max_length=500, blank=True)
    datatype = models.CharField(max_length=20, choices=Datatype.choices)
    required = models.BooleanField(default=False)
    order = models.PositiveIntegerField(default=0)
    # For the list datatypes: [{"key": "broken", "name": "Knækket"}, …]
    values = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["category", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["category", "code"], name="question_unique_code")
        ]

    def __str__(self) -> str:
        return f"{self.category.code}: {self.code}"


class ResponseTemplate(models.Model):
    """A ready public reply staff can pick (and edit) for a category and status."""

    municipality = models.ForeignKey(Municipality, on_delete=models.CASCADE,
                                     related_name="response_templates")
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="response_templates",
                                 help_text="Empty: every category of the municipality.")
    status = models.CharField(max_length=20, choices=Status.choices, blank=True,
                              help_text="Empty: any status change or reply.")
    title = models.CharField(max_length=200)
    text = models.TextField()

    class Meta:
        ordering = ["municipality", "title"]

    def __str__(self) -> str:
        return self.title


class RoutingRule(models.Model):
    """Reports of `municipality` whose KLE number starts with `kle_prefix` (and that lie in
    `area`, when set) go to `department`. The most specific matching rule wins (see
    reports.routing)."""

    municipality = models.ForeignKey(
        Municipality, on_delete=models.CASCADE, related_name="routing_rules"
    )
    kle_prefix = models.CharField(max_length=8, blank=True, validators=[KLE_PREFIX_VALIDATOR])
    area = models.ForeignKey(
        "maps.Area", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="rules")
    priority = models.IntegerField(default=0, help_text="Higher wins among equally specific rules.")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["municipality__name", "kle_prefix", "-priority", "id"]

    def __str__(self) -> str:
        where = f" in {self.area.name}" if self.area else ""
        return f"#{self.pk} {self.kle_prefix or '*'}{where} → {self.department.name}"

    def clean(self) -> None:
        _same_municipality(self)


class CategoryNotice(models.Model):
    """Text a citizen reads before and in the form: a notice (the form goes on), or a
    stopper (the flow ends: the municipality is the wrong address, "ring 112 ved akut
    fare"), for one category or all of a municipality's, anywhere or inside one area.
    Shown in the map's form, the REST categories list and Open311; a stopper also refuses
    a report filed through the APIs."""

    class Kind(models.TextChoices):
        NOTICE = "notice", "Notice"
        STOPPER = "stopper", "Stopper"

    municipality = models.ForeignKey(Municipality, on_delete=models.CASCADE,
                                     related_name="notices")
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="notices", help_text="Empty: every category.")
    area = models.ForeignKey("maps.Area", null=True, blank=True, on_delete=models.CASCADE,
                             related_name="+", help_text="Empty: anywhere in the municipality.")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.NOTICE)
    text_da = models.TextField(help_text="Danish (shown when there is no text in the "
                                         "reader's language).")
    text_sv = models.TextField(blank=True)
    text_en = models.TextField(blank=True)
    link = models.URLField(max_length=500, blank=True,
                           help_text="Where to go instead (a stopper), or to read more.")
    phone = models.CharField(max_length=40, blank=True, help_text="A number to call instead.")
    order = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.text_da[:60]}"

    def text(self, language: str) -> str:
        return getattr(self, f"text_{language[:2]}", "") or self.text_da

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if self.category is not None and self.category.municipality_id != self.municipality_id:
            raise ValidationError({"category": "Choose a category of the same municipality."})
