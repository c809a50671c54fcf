"""ASGI entry point: daphne serves HTTP (and, as the live-update work lands, websockets)."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "geoservice.settings")

from django.conf import settings  # noqa: E402
from django.core.asgi import get_asgi_application  # noqa: E402

django_application = get_asgi_application()

if settings.SERVE_STATIC:
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    django_application = ASGIStaticFilesHandler(django_application)

application = django_application
