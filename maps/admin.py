from django.contrib.gis import admin

from maps.models import Address, Area


@admin.register(Area)
class AreaAdmin(admin.GISModelAdmin):
    list_display = ["name", "kind", "code", "parent", "updated_at"]
    list_filter = ["kind"]
    search_fields = ["name", "code"]
    raw_id_fields = ["parent"]


@admin.register(Address)
class AddressAdmin(admin.GISModelAdmin):
    list_display = ["label", "municipality_code", "postcode"]
    list_filter = ["municipality_code"]
    search_fields = ["search_text"]
    readonly_fields = ["search_text"]
