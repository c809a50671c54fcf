from django.contrib import messages
from django.contrib.gis import admin

from geoservice.errors import ApplicationError
from reports import services, tiles
from reports.api.keys import api_key_issue, api_key_revoke
from reports.live import events
from reports.models import (
    ApiClient,
    ApiKey,
    Asset,
    AssetType,
    BodyRule,
    Category,
    CategoryNotice,
    CategoryQuestion,
    DeletionLog,
    Department,
    Destination,
    ExternalCase,
    GroupRole,
    IdentityProvider,
    KleSubject,
    Municipality,
    Notification,
    Report,
    ReportEvent,
    ResponseTemplate,
    ResponsibleBody,
    RetentionRule,
    RoutingRule,
    StaffMembership,
    Webhook,
)
from reports.notifications.worker import notification_retry
from reports.services import privacy
from reports.staff.admin import RoleScopedAdmin


class RetentionRuleInline(admin.TabularInline):
    """How long contact data and photos are kept after each final state (empty: kept)."""

    model = RetentionRule
    extra = 0


@admin.register(Municipality)
class MunicipalityAdmin(RoleScopedAdmin, admin.ModelAdmin):
    municipality_path = "id"
    others_may_add = False
    list_display = ["name", "code", "default_department", "active"]
    raw_id_fields = ["area"]
    inlines = [RetentionRuleInline]

    def get_readonly_fields(self, request, obj=None):
        # A boundary decides which reports (with their reporters' contact data) a
        # municipality receives: only superusers set boundaries, codes and whether a
        # municipality is served.
        # Whether passwords still work goes with the identity provider, which only
        # superusers set up (a switch without a working provider locks the staff out).
        if request.user.is_superuser:
            return super().get_readonly_fields(request, obj)
        return ["code", "area", "active", "password_login"]


class GroupRoleInline(admin.TabularInline):
    model = GroupRole
    extra = 1


@admin.register(IdentityProvider)
class IdentityProviderAdmin(admin.ModelAdmin):
    """A municipality's OpenID Connect login for staff, and which of its groups get which
    role here (reports.staff.identity). Superusers only: it decides who becomes staff."""

    list_display = ["name", "municipality", "issuer", "active"]
    inlines = [GroupRoleInline]

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser


@admin.register(Department)
class DepartmentAdmin(RoleScopedAdmin, admin.ModelAdmin):
    list_display = ["name", "municipality", "email"]
    list_filter = ["municipality"]
    search_fields = ["name"]


@admin.register(KleSubject)
class KleSubjectAdmin(admin.ModelAdmin):
    list_display = ["number", "title", "level", "retired"]
    list_filter = ["level", "retired"]
    search_fields = ["number", "title"]
    raw_id_fields = ["parent"]


class CategoryQuestionInline(admin.TabularInline):
    model = CategoryQuestion
    extra = 0
    fields = ["order", "code", "question", "datatype", "required", "values", "description"]


@admin.register(Category)
class CategoryAdmin(RoleScopedAdmin, admin.ModelAdmin):
    list_display = ["name", "code", "municipality", "kle", "group", "active", "visibility",
                    "anonymous_allowed"]
    list_filter = ["municipality", "active", "group"]
    search_fields = ["name", "code", "kle__number"]
    autocomplete_fields = ["kle"]
    inlines = [CategoryQuestionInline]

    # Tiles carry the category's code: a saved or deleted category rebuilds every tile.
    # Its reports follow a change of its visibility (reports.services.privacy).
    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if "visibility" in form.changed_data:
            changed = privacy.category_visibility_apply(obj)
            self.message_user(request, f"{changed} reports of the category follow its "
                                       "new visibility.")
        tiles.invalidate_all()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        tiles.invalidate_all()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        tiles.invalidate_all()


class ApiKeyInline(admin.TabularInline):
    model = ApiKey
    extra = 0
    can_delete = False
    fields = readonly_fields = ("prefix", "label", "created_at", "last_used_at", "revoked_at")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ApiClient)
class ApiClientAdmin(RoleScopedAdmin, admin.ModelAdmin):
    """Keys are issued with the action below; the full key is shown once, then only its
    hash is kept."""

    list_display = ["name", "municipality", "active", "rate_limit_per_minute", "created_at"]
    list_filter = ["active", "municipality"]
    inlines = [ApiKeyInline]
    actions = ["issue_key", "revoke_keys"]

    @admin.action(description="Issue a new API key (shown once)")
    def issue_key(self, request, queryset):
        for client in queryset:
            key = api_key_issue(client=client, label=f"issued by {request.user}")
            self.message_user(request, f"New key for {client.name} (copy it now, it is not "
                                       f"shown again): {key}", messages.WARNING)

    @admin.action(description="Revoke every key of the selected clients")
    def revoke_keys(self, request, queryset):
        keys = ApiKey.objects.filter(client__in=queryset, revoked_at__isnull=True)
        for key in keys:
            api_key_revoke(key=key)
        self.message_user(request, f"{len(keys)} keys revoked.")


@admin.register(RoutingRule)
class RoutingRuleAdmin(RoleScopedAdmin, admin.ModelAdmin):
    lead_department_path = "department"
    list_display = ["id", "municipality", "kle_prefix", "area", "department", "priority",
                    "active"]
    list_filter = ["municipality", "active"]
    raw_id_fields = ["area"]


class ExternalCaseInline(admin.TabularInline):
    model = ExternalCase
    extra = 0
    can_delete = False
    fields = readonly_fields = ("destination", "state", "service_request_id", "token",
                                "sent_at", "external_status", "external_updated_at",
                                "last_error")

    def has_add_permission(self, request, obj=None):
        return False


class ReportEventInline(admin.TabularInline):
    model = ReportEvent
    extra = 0
    can_delete = False
    fields = readonly_fields = ("created_at", "kind", "actor_label", "from_status", "to_status",
                                "public_text", "internal_text")

    def has_add_permission(self, request, obj=None):
        return False


def _transition_action(status: str, label: str, public_text: str):
    def action(modeladmin, request, queryset):
        done, refused = 0, []
        for report in queryset:
            try:
                services.report_transition(
                    report_id=report.pk, to_status=status, actor=request.user,
                    public_text=public_text)
                done += 1
            except ApplicationError as exc:
                refused.append(f"#{report.pk}: {exc.message}")
        modeladmin.message_user(request, f"{done} reports are now {status}.")
        if refused:
            modeladmin.message_user(request, "Not changed: " + "; ".join(refused),
                                    messages.WARNING)

    action.__name__ = f"mark_{status}"
    return admin.action(description=label)(action)


@admin.register(Report)
class ReportAdmin(RoleScopedAdmin, admin.GISModelAdmin):
    """Fields are read-only here; the staff dashboard is where reports are handled. The
    actions below change status through the lifecycle service, so each change is on the
    timeline."""

    list_display = ["id", "status", "category", "department", "municipality", "created_at"]
    others_may_add = False

    def scope_q(self, user):
        from django.db.models import Q

        from reports.selectors import staff_department_ids

        departments = staff_department_ids(user)
        return Q(department_id__in=departments) if departments else None
    list_filter = ["status", "municipality", "department"]
    search_fields = ["description", "address"]
    inlines = [ExternalCaseInline, ReportEventInline]
    actions = [
        _transition_action("acknowledged", "Acknowledge",
                           "Tak for din henvendelse. Vi har modtaget den."),
        _transition_action("in_progress", "Start work", "Vi er i gang med opgaven."),
        _transition_action("resolved", "Resolve", "Opgaven er løst. Tak for hjælpen."),
    ]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False

    # A deleted report leaves the tiles that drew it.
    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        tiles.invalidate_around(obj.location.x, obj.location.y)

    def delete_queryset(self, request, queryset):
        locations = list(queryset.values_list("location", flat=True))
        super().delete_queryset(request, queryset)
        for location in locations:
            tiles.invalidate_around(location.x, location.y)


@admin.register(StaffMembership)
class StaffMembershipAdmin(RoleScopedAdmin, admin.ModelAdmin):
    """Roles. A change reaches the user's open staff sockets at once (they follow the new
    departments, or close)."""

    list_display = ["user", "role", "municipality", "department"]
    list_filter = ["role", "municipality"]
    raw_id_fields = ["user"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        events.staff_access_changed(obj.user_id)
        if change and "user" in form.changed_data and form.initial.get("user"):
            events.staff_access_changed(form.initial["user"])

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        events.staff_access_changed(obj.user_id)

    def delete_queryset(self, request, queryset):
        users = set(queryset.values_list("user_id", flat=True))
        super().delete_queryset(request, queryset)
        for user_id in users:
            events.staff_access_changed(user_id)


@admin.register(Webhook)
class WebhookAdmin(RoleScopedAdmin, admin.ModelAdmin):
    list_display = ["url", "municipality", "department", "active"]
    list_filter = ["municipality", "active"]


@admin.register(Destination)
class DestinationAdmin(RoleScopedAdmin, admin.ModelAdmin):
    """Back-office systems that reports are sent on to over Open311, and read back from.

    Every send of one report carries the same Idempotency-Key: a destination that keeps
    keys (OS2geo does) never opens two cases for one report, even when the worker dies
    between their answer and our record of it. One that keeps none may, in that window;
    its requests list shows it."""

    list_display = ["name", "municipality", "department", "category", "endpoint", "poll",
                    "active", "last_sync_at", "last_sync_summary"]
    list_filter = ["municipality", "active", "poll"]
    readonly_fields = ["synced_until", "last_sync_at", "last_sync"]

    @admin.display(description="Last poll")
    def last_sync_summary(self, obj):
        run = obj.last_sync or {}
        return (f"fetched {run.get('fetched', 0)}, applied {run.get('applied', 0)}, "
                f"skipped {run.get('skipped', 0)}, failed {run.get('failed', 0)}") if run else ""


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """The delivery log: every mail and webhook call with its state, attempts, last error
    and response code. Failed ones can be retried at once."""

    list_display = ["id", "channel", "event", "recipient", "state", "attempts",
                    "last_response_code", "next_attempt_at", "sent_at"]
    list_filter = ["state", "channel", "event"]
    search_fields = ["recipient", "last_error"]
    readonly_fields = [f.name for f in Notification._meta.fields]
    actions = ["retry_now"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description="Retry now (with a fresh set of attempts)")
    def retry_now(self, request, queryset):
        count = notification_retry(notification_ids=list(queryset.values_list("id", flat=True)))
        self.message_user(request, f"{count} notifications will be sent again.")


@admin.register(CategoryNotice)
class CategoryNoticeAdmin(RoleScopedAdmin, admin.ModelAdmin):
    """Notices and stoppers before and in the report form, per category and area."""

    list_display = ["kind", "text_da", "category", "area", "municipality", "active"]
    list_filter = ["municipality", "kind", "active"]
    raw_id_fields = ["area"]


@admin.register(AssetType)
class AssetTypeAdmin(RoleScopedAdmin, admin.ModelAdmin):
    """What citizens can report against (street lights, bins, trees): linked to the
    categories whose reports name one; assets come in with manage.py reports_import_assets."""

    list_display = ["name", "code", "municipality", "select_distance_m", "active"]
    list_filter = ["municipality", "active"]
    filter_horizontal = ["categories"]


@admin.register(Asset)
class AssetAdmin(RoleScopedAdmin, admin.GISModelAdmin):
    """Imported assets; an import marks those no longer in its file removed."""

    municipality_path = "asset_type__municipality"
    list_display = ["external_id", "label", "asset_type", "removed_at", "updated_at"]
    list_filter = ["asset_type", "removed_at"]
    search_fields = ["external_id", "label"]
    readonly_fields = ["created_at", "updated_at", "source"]


@admin.register(ResponsibleBody)
class ResponsibleBodyAdmin(admin.ModelAdmin):
    """Bodies other than the municipality that are responsible in some areas (the state
    road authority, a utility, private road owners). They span municipalities: superusers
    set them up; each municipality's body rules say what happens to its reports there."""

    list_display = ["name", "kind", "email", "phone", "active"]
    list_filter = ["kind", "active"]
    filter_horizontal = ["areas"]

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


@admin.register(BodyRule)
class BodyRuleAdmin(RoleScopedAdmin, admin.ModelAdmin):
    """Per KLE prefix: a report in a body's area is forwarded to it, or stopped before the
    form with whom to contact. The most specific rule wins."""

    list_display = ["id", "municipality", "kle_prefix", "body", "action", "priority",
                    "active"]
    list_filter = ["municipality", "action", "active"]


@admin.register(ResponseTemplate)
class ResponseTemplateAdmin(RoleScopedAdmin, admin.ModelAdmin):
    """Ready public replies for the dashboard, per category (or all) and status (or any)."""

    list_display = ["title", "municipality", "category", "status"]
    list_filter = ["municipality", "status"]
    search_fields = ["title", "text"]


@admin.register(DeletionLog)
class DeletionLogAdmin(RoleScopedAdmin, admin.ModelAdmin):
    """What was removed, when and by which rule or request: read only, for the
    data-protection officer."""

    list_display = ["at", "reason", "report_id", "rule", "removed"]
    list_filter = ["reason", "municipality"]
    search_fields = ["=report_id", "=subject_hash"]
    others_may_add = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
