from django.contrib.gis import admin

from reports.models import (
    Category,
    Department,
    KleSubject,
    Municipality,
    Report,
    ReportEvent,
    RoutingRule,
    StaffMembership,
)


@admin.register(Municipality)
class MunicipalityAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "default_department", "active"]
    raw_id_fields = ["area"]


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["name", "municipality", "email"]
    list_filter = ["municipality"]
    search_fields = ["name"]


@admin.register(KleSubject)
class KleSubjectAdmin(admin.ModelAdmin):
    list_display = ["number", "title", "level", "retired"]
    list_filter = ["level", "retired"]
    search_fields = ["number", "title"]
    raw_id_fields = ["parent"]


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "municipality", "kle", "group", "active", "anonymous_allowed"]
    list_filter = ["municipality", "active", "group"]
    search_fields = ["name", "code", "kle__number"]
    autocomplete_fields = ["kle"]


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = ["id", "municipality", "kle_prefix", "area", "department", "priority",
                    "active"]
    list_filter = ["municipality", "active"]
    raw_id_fields = ["area"]


class ReportEventInline(admin.TabularInline):
    model = ReportEvent
    extra = 0
    can_delete = False
    fields = ["created_at", "kind", "actor_label", "from_status", "to_status", "public_text",
              "internal_text"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Report)
class ReportAdmin(admin.GISModelAdmin):
    """Read-only here: reports change through the services (staff dashboard, APIs)."""

    list_display = ["id", "status", "category", "department", "municipality", "created_at"]
    list_filter = ["status", "municipality", "department"]
    search_fields = ["description", "address"]
    inlines = [ReportEventInline]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


@admin.register(StaffMembership)
class StaffMembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "municipality", "department"]
    list_filter = ["role", "municipality"]
    raw_id_fields = ["user"]
