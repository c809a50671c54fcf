from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "Reports and routing"

    def ready(self) -> None:
        from geoservice.errors import register_surface
        from reports.open311.formats import error_response

        register_surface("/open311/", error_response)
