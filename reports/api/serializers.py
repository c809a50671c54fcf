"""Explicit input serializers (query strings and bodies) and output for non-report objects."""

from __future__ import annotations

import re

from rest_framework import serializers
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from maps.geo import MAX_RADIUS_M
from maps.models import Area
from reports.api.fields import (
    AwareDateTimeField,
    BBoxField,
    CommaListField,
    GeoJSONPointField,
    LonLatField,
    StrictCharField,
    StrictEmailField,
    checked_point,
    parse_float,
)
from reports.lifecycle import Status
from reports.models import (
    DESCRIPTION_MAX_LENGTH,
    KLE_PREFIX_PATTERN,
    Category,
    CategoryQuestion,
    Municipality,
)

PHONE = re.compile(r"[0-9 +()\-]{0,40}")


class NoUnknownFields(serializers.Serializer):
    """Refuse fields the serializer does not know: a typo should not pass silently."""

    def to_internal_value(self, data):
        errors = {}
        if isinstance(data, dict):
            errors = {name: ["Unknown field."] for name in sorted(set(data) - set(self.fields))}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if isinstance(exc.detail, dict):
                exc.detail.update(errors)
            raise
        if errors:
            raise serializers.ValidationError(errors)
        return value


class ReporterInput(NoUnknownFields):
    name = StrictCharField(max_length=200, required=False, allow_blank=True, default="")
    email = StrictEmailField(required=False, allow_blank=True, default="")
    phone = StrictCharField(max_length=40, required=False, allow_blank=True, default="")

    def validate_phone(self, value: str) -> str:
        if not PHONE.fullmatch(value):
            raise serializers.ValidationError("Digits, spaces, +, (, ) and - only.")
        return value


class ReportCreateInput(NoUnknownFields):
    location = GeoJSONPointField()
    category = StrictCharField(max_length=64)
    description = StrictCharField(max_length=DESCRIPTION_MAX_LENGTH)
    address = StrictCharField(max_length=300, required=False, allow_blank=True, default="")
    reporter = ReporterInput(required=False)
    answers = serializers.DictField(required=False, default=dict)
    asset = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, default=None,
        help_text="The id of the asset the report is about (GET /api/v1/assets/nearest/), "
                  "one of the category's asset types, near the location.")


def _whole_numbers(value: list[str], what: str) -> list[int]:
    if not all(v.isdigit() for v in value):
        raise serializers.ValidationError(f"{what} are whole numbers.")
    return [int(v) for v in value]


class ReportListQuery(serializers.Serializer):
    bbox = BBoxField(required=False)
    near = LonLatField(required=False)
    radius = serializers.FloatField(required=False, min_value=1, max_value=MAX_RADIUS_M)
    status = CommaListField(required=False)
    category = CommaListField(required=False)
    kle = serializers.RegexField(rf"^{KLE_PREFIX_PATTERN}$", required=False,
                                 error_messages={"invalid": "Use NN, NN.NN or NN.NN.NN."})
    municipality = CommaListField(required=False)
    department = CommaListField(required=False)
    asset = CommaListField(required=False, help_text="Asset ids: reports about these assets.")
    updated_after = AwareDateTimeField(required=False)
    limit = serializers.IntegerField(required=False, min_value=1)
    cursor = serializers.CharField(required=False)
    view = serializers.ChoiceField(
        ["full", "map"], required=False, default="full",
        help_text="full: every public property; map: id, point, status, category and "
                  "municipality codes and version, with the page's category names once in "
                  "`categories`.",
        error_messages={"invalid_choice": "Use full or map."})

    def validate_status(self, value: list[str]) -> list[str]:
        unknown = [s for s in value if s not in Status.values]
        if unknown:
            raise serializers.ValidationError(
                f"Unknown status {', '.join(unknown)}; use {', '.join(Status.values)}."
            )
        return value

    def validate_department(self, value: list[str]) -> list[int]:
        return _whole_numbers(value, "Department ids")

    def validate_asset(self, value: list[str]) -> list[int]:
        return _whole_numbers(value, "Asset ids")

    def validate(self, attrs):
        if "radius" in attrs and "near" not in attrs:
            raise serializers.ValidationError({"radius": ["radius needs near=lon,lat."]})
        return attrs


class TileQuery(serializers.Serializer):
    status = CommaListField(required=False)
    category = CommaListField(required=False)
    v = serializers.CharField(required=False, max_length=40,
                              help_text="Ignored: lets a client ask for a fresh tile.")

    validate_status = ReportListQuery.validate_status


class AssetTileQuery(serializers.Serializer):
    type = CommaListField(help_text="Asset type ids (a category's `asset_types`).")

    def validate_type(self, value: list[str]) -> list[int]:
        return _whole_numbers(value, "Asset type ids")


class PointQuery(serializers.Serializer):
    lon = serializers.CharField()
    lat = serializers.CharField()

    def validate(self, attrs):
        try:
            lon = parse_float(attrs["lon"], "lon")
            lat = parse_float(attrs["lat"], "lat")
            attrs["point"] = checked_point(lon, lat)
        except serializers.ValidationError as exc:
            raise serializers.ValidationError({"lon": exc.detail, "lat": exc.detail}) from None
        return attrs


class QuestionOutput(serializers.ModelSerializer):
    class Meta:
        model = CategoryQuestion
        fields = ["code", "question", "description", "datatype", "required", "order", "values"]


class CategoryOutput(serializers.ModelSerializer):
    municipality = serializers.CharField(source="municipality.code")
    kle = serializers.SerializerMethodField()
    questions = QuestionOutput(many=True)
    # A private category's reports are on no public map or list (apps say so beforehand).
    private = serializers.SerializerMethodField()
    # Whose assets a report may name (tiles: /api/v1/tiles/assets/…?type=<id>).
    asset_types = serializers.SerializerMethodField()

    class Meta:
        model = Category
        fields = ["code", "name", "description", "group", "kle", "anonymous_allowed",
                  "private", "municipality", "questions", "asset_types"]

    def get_asset_types(self, category: Category) -> list[dict]:
        return [{"id": t.id, "code": t.code, "name": t.name,
                 "select_distance_m": t.select_distance_m} for t in category.asset_types.all()]

    def get_private(self, category: Category) -> bool:
        from reports.services.privacy import is_category_private

        return is_category_private(category)

    def get_kle(self, category: Category) -> dict:
        return {"number": category.kle.number, "title": category.kle.title}


class MunicipalityOutput(serializers.ModelSerializer):
    bbox = serializers.SerializerMethodField()

    class Meta:
        model = Municipality
        fields = ["code", "name", "bbox"]

    def get_bbox(self, municipality: Municipality) -> list[float]:
        return [round(v, 6) for v in municipality.area.geom.extent]


class AreaOutput(GeoFeatureModelSerializer):
    parent = serializers.CharField(source="parent.code", default=None)

    class Meta:
        model = Area
        geo_field = "geom"
        fields = ["id", "kind", "code", "name", "parent"]


class AreaQuery(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Area.Kind.values, required=False)
    municipality = serializers.RegexField(r"^\d{4}$", required=False)
    simplify = serializers.FloatField(required=False, min_value=0, max_value=0.1)


class AddressQuery(serializers.Serializer):
    q = serializers.CharField(min_length=2, max_length=200)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=50, default=10)



class FollowInput(NoUnknownFields):
    email = StrictEmailField()
    # Also be asked "is it fixed?" once the report is resolved (reports.services.followup).
    follow_up = serializers.BooleanField(required=False, default=False)


class AlertInput(NoUnknownFields):
    email = StrictEmailField()
    area = serializers.IntegerField(required=False, min_value=1)
    near = GeoJSONPointField(required=False)
    radius = serializers.IntegerField(required=False, min_value=50, max_value=5000, default=500)
    frequency = serializers.ChoiceField(choices=["immediate", "daily"], default="immediate")

    def validate(self, attrs):
        if ("area" in attrs) == ("near" in attrs):
            raise serializers.ValidationError({"area": ["Give either area or near."]})
        return attrs


class AssetNearestQuery(PointQuery):
    type = CommaListField(help_text="Asset type ids (a category's `asset_types`).")
    limit = serializers.IntegerField(required=False, min_value=1, max_value=20, default=5)

    def validate_type(self, value: list[str]) -> list[int]:
        return _whole_numbers(value, "Asset type ids")
