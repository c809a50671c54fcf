"""Assets a citizen can report against: the very street light, bin, gully, tree or bench.

An asset type belongs to a municipality and to the categories whose reports may name one of
its assets; assets are imported (reports.importers.assets) and updated by their external id
(the number on the lamp post). An import never deletes an asset: one no longer in the file
is marked removed, so the reports filed against it keep it."""

from __future__ import annotations

from django.contrib.gis.db import models
from django.core.exceptions import ValidationError
from django.utils import timezone

from reports.models.organisation import Municipality
from reports.models.subjects import Category


class AssetType(models.Model):
    municipality = models.ForeignKey(Municipality, on_delete=models.CASCADE,
                                     related_name="asset_types")
    code = models.SlugField(max_length=64)
    name = models.CharField(max_length=200, help_text="E.g. Gadelys.")
    categories = models.ManyToManyField(Category, blank=True, related_name="asset_types",
                                        help_text="The categories whose reports name one.")
    # [{"key": "watt", "label": "Effekt (W)"}, …]: the imported properties kept and shown.
    fields = models.JSONField(default=list, blank=True,
                              help_text='The properties kept from the file and shown to '
                                        'staff, e.g. [{"key": "armatur", "label": "Armatur"}].')
    select_distance_m = models.PositiveSmallIntegerField(
        default=30, help_text="How far from the pin an asset is offered, and may be chosen.")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["municipality__name", "name"]
        constraints = [models.UniqueConstraint(fields=["municipality", "code"],
                                               name="asset_type_unique_code")]

    def __str__(self) -> str:
        return f"{self.name} ({self.municipality.code})"

    def clean(self) -> None:
        if not isinstance(self.fields, list) or not all(
                isinstance(f, dict) and isinstance(f.get("key"), str) and f["key"]
                for f in self.fields):
            raise ValidationError({"fields": 'A list of {"key": …, "label": …}.'})


class Asset(models.Model):
    asset_type = models.ForeignKey(AssetType, on_delete=models.CASCADE, related_name="assets")
    external_id = models.CharField(max_length=100, help_text="The owner's id, e.g. the "
                                                             "number on the lamp post.")
    label = models.CharField(max_length=200)
    location = models.PointField(srid=4326)
    properties = models.JSONField(default=dict, blank=True)
    removed_at = models.DateTimeField(null=True, blank=True,
                                      help_text="No longer in the imported file.")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    source = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["asset_type", "external_id"]
        constraints = [models.UniqueConstraint(fields=["asset_type", "external_id"],
                                               name="asset_unique_external_id")]

    def __str__(self) -> str:
        return self.label or self.external_id
