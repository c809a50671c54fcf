"""Areas (polygons that reports are routed by) and imported address points.

Everything is stored in SRID 4326 (WGS84, lon/lat); importers reproject at the edge.
"""

from __future__ import annotations

from django.contrib.gis.db import models
from django.db.models.functions import Collate


class Area(models.Model):
    class Kind(models.TextChoices):
        MUNICIPALITY = "municipality", "Municipality"
        DISTRICT = "district", "District"
        ROAD_OWNER = "road_owner", "Road owner"
        CUSTOM = "custom", "Custom"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    code = models.CharField(max_length=64, help_text="Code in the source data, e.g. 0151 or 2750.")
    name = models.CharField(max_length=200)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    # spatial_index=True (the default) gives the GiST index every point lookup uses.
    geom = models.MultiPolygonField(srid=4326)
    source = models.CharField(max_length=300, blank=True, help_text="File it was imported from.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "parent", "code"],
                name="area_unique_kind_parent_code",
                nulls_distinct=False,
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()} {self.code})"


class Address(models.Model):
    """An official address point (DAWA adgangspunkt)."""

    municipality_code = models.CharField(max_length=4)
    street_code = models.CharField(max_length=4)
    street_name = models.CharField(max_length=200)
    house_number = models.CharField(max_length=12)
    postcode = models.CharField(max_length=4)
    postal_name = models.CharField(max_length=100)
    location = models.PointField(srid=4326)
    # Lower-cased "street house, postcode town" for prefix search (a byte-order index).
    search_text = models.CharField(max_length=400, editable=False)

    class Meta:
        ordering = ["street_name", "house_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["municipality_code", "street_code", "house_number"],
                name="address_unique_dawa_key",
            )
        ]
        indexes = [
            # Byte order ("C"): serves both the prefix match and the ORDER BY of a search,
            # so a short prefix that matches a million addresses reads only the first rows
            # (varchar_pattern_ops served the match but not the order: 300 ms at 1 M).
            models.Index(Collate("search_text", "C"), name="address_search_c"),
        ]

    @property
    def label(self) -> str:
        return f"{self.street_name} {self.house_number}, {self.postcode} {self.postal_name}"

    def __str__(self) -> str:
        return self.label
