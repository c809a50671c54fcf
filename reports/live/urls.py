"""Websocket URL routes."""

from channels.auth import AuthMiddlewareStack
from channels.security.websocket import AllowedHostsOriginValidator
from django.urls import path

from reports.live.consumers import MapConsumer, ReportConsumer, StaffConsumer

websocket_urlpatterns = [
    path("ws/map/", MapConsumer.as_asgi()),
    path("ws/reports/<int:report_id>/", ReportConsumer.as_asgi()),
    # Session cookies authenticate staff sockets, so their Origin must be one of ours.
    path("ws/staff/", AllowedHostsOriginValidator(AuthMiddlewareStack(StaffConsumer.as_asgi()))),
]
