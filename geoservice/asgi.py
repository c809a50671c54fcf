"""ASGI entry point: daphne serves HTTP and websockets on one port."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "geoservice.settings")

from geoservice.handlers import get_asgi_application  # noqa: E402

django_application = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402

from reports.live.urls import websocket_urlpatterns  # noqa: E402

if settings.SERVE_STATIC:
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    django_application = ASGIStaticFilesHandler(django_application)

application = ProtocolTypeRouter({
    "http": django_application,
    "websocket": URLRouter(websocket_urlpatterns),
})
