from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "Reports and routing"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_out

        from geoservice.errors import register_surface
        from reports.open311.formats import error_response

        register_surface("/open311/", error_response)
        # A logout ends the user's open staff sockets at once, not at their next check.
        user_logged_out.connect(_close_staff_sockets, dispatch_uid="reports-staff-logout")


def _close_staff_sockets(sender, request=None, user=None, **kwargs) -> None:
    from reports.live import events

    if user is not None and user.pk is not None:
        events.staff_access_changed(user.pk)
