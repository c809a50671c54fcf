"""The Django admin, limited by the staff roles (StaffMembership) instead of Django's
per-model permissions: superusers see everything; a municipality admin configures their
municipality (departments, categories, rules, response templates, API clients, webhooks,
memberships); a department lead manages the routing rules of their departments. Other
staff see no configuration at all."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import Q

from reports.models import Category, Department, Municipality, StaffMembership


def managed_municipality_ids(user) -> list[int]:
    return list(StaffMembership.objects.filter(
        user=user, role=StaffMembership.Role.MUNICIPALITY_ADMIN)
        .values_list("municipality_id", flat=True))


def led_department_ids(user) -> list[int]:
    return list(StaffMembership.objects.filter(
        user=user, role=StaffMembership.Role.DEPARTMENT_LEAD, department__isnull=False)
        .values_list("department_id", flat=True))


class RoleScopedAdmin(admin.ModelAdmin):
    """Mixin for ModelAdmins. `municipality_path` leads from the model to its municipality's
    id; `lead_department_path`, when set, lets department leads manage rows whose department
    is theirs. `others_may_add` is False where only superusers create rows."""

    municipality_path = "municipality"
    lead_department_path: str | None = None
    others_may_add = True

    def scope_q(self, user) -> Q | None:
        q = None
        managed = managed_municipality_ids(user)
        if managed:
            q = Q(**{f"{self.municipality_path}__in": managed})
        if self.lead_department_path:
            led = led_department_ids(user)
            if led:
                lead_q = Q(**{f"{self.lead_department_path}__in": led})
                q = lead_q if q is None else q | lead_q
        return q

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        q = self.scope_q(request.user)
        return qs.filter(q) if q is not None else qs.none()

    def _allowed(self, request, obj=None) -> bool:
        if not (request.user.is_active and request.user.is_staff):
            return False
        q = self.scope_q(request.user)
        if q is None:
            return False
        return obj is None or type(obj).objects.filter(q, pk=obj.pk).exists()

    def has_module_permission(self, request):
        return super().has_module_permission(request) if request.user.is_superuser \
            else self._allowed(request)

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) if request.user.is_superuser \
            else self._allowed(request, obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) if request.user.is_superuser \
            else self._allowed(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) if request.user.is_superuser \
            else self.others_may_add and self._allowed(request, obj)

    def has_add_permission(self, request, *args):
        return super().has_add_permission(request, *args) if request.user.is_superuser \
            else self.others_may_add and self._allowed(request)

    def get_form(self, request, obj=None, change=False, **kwargs):
        """For non-superusers, a form that refuses to save a row outside their scope: the
        choices are limited too, but a scope must hold after every save (an API client of
        theirs whose municipality they cleared could file reports anywhere)."""
        form = super().get_form(request, obj, change=change, **kwargs)
        if request.user.is_superuser:
            return form
        admin = self

        class InScope(form):  # type: ignore[valid-type,misc]  # the admin's form, made at runtime
            def clean(self):
                cleaned = super().clean()
                if not self.errors:
                    admin.check_in_scope(request.user, self.instance, cleaned)
                return cleaned

        return InScope

    def check_in_scope(self, user, instance, cleaned: dict) -> None:
        """Raise ValidationError unless the row, as it will be saved, is in the user's
        scope: its municipality one they manage, or (department leads) its department one
        they lead."""
        def value(field: str):
            return cleaned[field] if field in cleaned else getattr(instance, field, None)

        field = self.municipality_path.split("__")[0]
        if field != "id":
            municipality = value(field)
            if municipality is not None and municipality.pk in managed_municipality_ids(user):
                return
        if self.lead_department_path:
            department = value(self.lead_department_path.split("__")[0])
            if department is not None and department.pk in led_department_ids(user):
                return
        if field == "id" and instance.pk in managed_municipality_ids(user):
            return
        raise ValidationError(
            {field if field in cleaned else NON_FIELD_ERRORS:
             "Choose one of your own municipalities."})

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        """Choices limited to the user's municipalities and departments."""
        if not request.user.is_superuser:
            managed = managed_municipality_ids(request.user)
            led = led_department_ids(request.user)
            model = db_field.remote_field.model
            if model is Municipality:
                kwargs["queryset"] = Municipality.objects.filter(
                    Q(pk__in=managed) | Q(departments__in=led)).distinct()
            elif model is Department:
                kwargs["queryset"] = Department.objects.filter(
                    Q(municipality_id__in=managed) | Q(pk__in=led))
            elif model is Category:
                kwargs["queryset"] = Category.objects.filter(
                    Q(municipality_id__in=managed)
                    | Q(municipality__departments__in=led)).distinct()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
