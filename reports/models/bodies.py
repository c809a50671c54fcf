"""Responsible bodies that are not the municipality: the state road authority
(Vejdirektoratet), a utility, the owners of a private common road (privat fællesvej), a
neighbouring municipality. Each owns areas (imported polygons, or road lines buffered into
polygons by maps_import_areas --line-buffer); a municipality's body rules say, per KLE
prefix, whether a report inside such an area is forwarded to the body or stopped before the
form with the body's name and how to reach it (reports.routing.route_body decides)."""

from __future__ import annotations

from django.contrib.gis.db import models
from django.core.exceptions import ValidationError

from reports.models.organisation import Municipality
from reports.models.subjects import KLE_PREFIX_VALIDATOR


class ResponsibleBody(models.Model):
    class Kind(models.TextChoices):
        STATE_ROADS = "state_roads", "State road authority"
        UTILITY = "utility", "Utility"
        PRIVATE_ROAD = "private_road", "Owners of a private road"
        MUNICIPALITY = "municipality", "Another municipality"
        OTHER = "other", "Other authority or owner"

    name = models.CharField(max_length=200, unique=True, help_text="E.g. Vejdirektoratet.")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    email = models.EmailField(blank=True, help_text="Where forwarded reports are mailed (a "
                                                    "signed link to reply, as a handover).")
    phone = models.CharField(max_length=40, blank=True)
    link = models.URLField(max_length=500, blank=True, help_text="Their own reporting page.")
    text_da = models.TextField(blank=True, help_text="What a citizen reads when a report is "
                                                     "stopped here (Danish); empty: a "
                                                     "standard sentence with the name.")
    text_sv = models.TextField(blank=True)
    text_en = models.TextField(blank=True)
    areas = models.ManyToManyField("maps.Area", blank=True, related_name="bodies",
                                   help_text="Where they are responsible.")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "responsible bodies"

    def __str__(self) -> str:
        return self.name

    def text(self, language: str) -> str:
        return getattr(self, f"text_{language[:2]}", "") or self.text_da


class BodyRule(models.Model):
    """Reports of `municipality` whose KLE number starts with `kle_prefix` and that lie in
    one of `body`'s areas are forwarded to it or stopped before the form. The most specific
    matching rule wins (reports.routing.route_body)."""

    class Action(models.TextChoices):
        FORWARD = "forward", "Forward the report to the body"
        STOP = "stop", "Stop before the form: say whom to contact instead"

    municipality = models.ForeignKey(Municipality, on_delete=models.CASCADE,
                                     related_name="body_rules")
    body = models.ForeignKey(ResponsibleBody, on_delete=models.CASCADE, related_name="rules")
    kle_prefix = models.CharField(max_length=8, blank=True, validators=[KLE_PREFIX_VALIDATOR],
                                  help_text="Empty: every subject.")
    action = models.CharField(max_length=10, choices=Action.choices, default=Action.STOP)
    priority = models.IntegerField(default=0, help_text="Higher wins among equally specific "
                                                        "rules.")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["municipality__name", "kle_prefix", "-priority", "id"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kle_prefix or '*'} in {self.body} → {self.action}"

    def clean(self) -> None:
        if self.action == self.Action.FORWARD and self.body_id and not self.body.email and \
                not self.body.destinations.filter(municipality_id=self.municipality_id,
                                                  active=True).exists():
            raise ValidationError({"action": f"{self.body} has neither an e-mail address nor "
                                             "an Open311 destination to forward to."})
