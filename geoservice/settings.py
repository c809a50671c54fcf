"""OS2geo settings. Every value comes from the environment; see `.env.example`."""

import os
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.utils import get_random_secret_key
from django.utils.csp import CSP

from geoservice.lib.env import database_from_url, env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    # Development: the key script/server and script/test made for this checkout, or a random
    # one for this process. Never a key written in the code, which everyone would know.
    _key_file = BASE_DIR / "var" / "secret-key"
    SECRET_KEY = (_key_file.read_text().strip() if _key_file.exists()
                  else get_random_secret_key())
# Old keys that still verify signatures (sessions, mail links) while a new SECRET_KEY is
# rolled out: the previous key goes here, comma-separated, and is dropped later.
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS", [])

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
# Proxies in front of the service (addresses or networks): the client address is then read
# from X-Forwarded-For (geoservice.lib.client), and X-Forwarded-Proto says whether the
# client used HTTPS.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", [])
if TRUSTED_PROXIES:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.gis",
    "rest_framework",
    "rest_framework_gis",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "maps",
    "reports",
    "frontend",
]

MIDDLEWARE = [
    "geoservice.middleware.DependencyOutageMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "geoservice.middleware.ApiBodySizeLimitMiddleware",
    "geoservice.middleware.RejectNulMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "geoservice.urls"
WSGI_APPLICATION = "geoservice.wsgi.application"
ASGI_APPLICATION = "geoservice.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

_database_url = env_str("DATABASE_URL")
if not _database_url:
    raise ImproperlyConfigured(
        "DATABASE_URL is not set. Run script/server or script/test, which provision a local "
        "PostGIS cluster, or set DATABASE_URL=postgres://user:password@host:5432/os2geo"
    )
DATABASES = {"default": database_from_url(_database_url)}
# A streaming replica of the primary for public reads (geoservice.lib.replica); after it
# fails, reads stay on the primary this many seconds before the replica is tried again.
DATABASE_REPLICA_URL = env_str("DATABASE_REPLICA_URL")
REPLICA_RETRY_SECONDS = env_int("REPLICA_RETRY_SECONDS", 10)
DATABASE_ROUTERS: list[str] = []
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = {**database_from_url(DATABASE_REPLICA_URL),
                            "TEST": {"MIRROR": "default"}}
    DATABASE_ROUTERS = ["geoservice.lib.replica.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Rate-limit counters live in the cache: per process by default; set CACHE_URL (a Redis URL)
# so that several processes share them.
CACHE_URL = env_str("CACHE_URL")
CACHES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
if CACHE_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": CACHE_URL,
                          # A Redis that hangs must not hang every request.
                          "OPTIONS": {"socket_timeout": 2, "socket_connect_timeout": 2}}}

CHANNEL_LAYERS: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "da"
LANGUAGES = [("da", "Dansk"), ("sv", "Svenska"), ("en", "English")]
TIME_ZONE = env_str("TIME_ZONE", "Europe/Copenhagen")
USE_I18N = True
USE_TZ = True
LOCALE_PATHS = [BASE_DIR / "locale"]

LOGIN_URL = "/staff/login/"
LOGIN_REDIRECT_URL = "/staff/"
LOGOUT_REDIRECT_URL = "/staff/login/"

STATIC_URL = "static/"
# Browser libraries from npm (frontend/package.json, installed by the set-up scripts),
# served from our own static files: no CDN at run time.
STATICFILES_DIRS = [
    ("vendor/maplibre-gl", BASE_DIR / "frontend" / "node_modules" / "maplibre-gl" / "dist"),
]
# The map's base layer: "osm" (OpenStreetMap's raster tiles, with attribution), "none" (no
# base layer: boundaries and reports only), or the URL of a MapLibre style JSON.
BASEMAP_STYLE = env_str("BASEMAP_STYLE", "osm")


def _basemap_origins(setting: str) -> list[str]:
    from urllib.parse import urlsplit

    if setting == "osm":
        return ["https://tile.openstreetmap.org"]
    if setting.startswith(("http://", "https://")):
        parts = urlsplit(setting)
        return [f"{parts.scheme}://{parts.netloc}"]
    return []


# Content-Security-Policy on every response (Django's own middleware), in development too,
# so that the browser tests run under it. Scripts come only from our own static files
# (templates pass data as JSON, never inline script); MapLibre draws in workers it starts
# from blob: URLs and fetches the base layer's tiles itself (connect-src); style attributes
# are allowed, MapLibre and the dashboard's bars set them. The base layer's origins come
# from BASEMAP_STYLE; CSP_EXTRA_ORIGINS adds more (the tile hosts a style URL names).
_MAP_ORIGINS = [*_basemap_origins(BASEMAP_STYLE), *env_list("CSP_EXTRA_ORIGINS", [])]
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:", "blob:", *_MAP_ORIGINS],
    "connect-src": [CSP.SELF, *_MAP_ORIGINS],
    "worker-src": [CSP.SELF, "blob:"],
    "child-src": [CSP.SELF, "blob:"],
    "font-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
# Where the map opens: lon, lat, zoom (Ballerup by default, the demo's first municipality).
MAP_START = env_str("MAP_START", "12.3633,55.7300,12")
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "var" / "static")))
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))

# Largest request body the JSON API accepts; larger bodies get 413 before they are parsed.
API_MAX_BODY_BYTES = env_int("API_MAX_BODY_BYTES", 64 * 1024)
# Non-file form fields; file parts are limited by API_MAX_UPLOAD_BYTES and PHOTO_MAX_BYTES.
DATA_UPLOAD_MAX_MEMORY_SIZE = API_MAX_BODY_BYTES

# How many features one page of /api/v1/reports/ may hold, and the default page size.
API_PAGE_SIZE = env_int("API_PAGE_SIZE", 100)
API_MAX_PAGE_SIZE = env_int("API_MAX_PAGE_SIZE", 1000)

# A report created without an address gets the nearest imported address within this distance.
REPORT_ADDRESS_MAX_DISTANCE_M = env_int("REPORT_ADDRESS_MAX_DISTANCE_M", 100)

REST_FRAMEWORK: dict[str, Any] = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "EXCEPTION_HANDLER": "geoservice.errors.api_exception_handler",
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "OS2geo REST API",
    "DESCRIPTION": (
        "Citizen issue reports as GeoJSON (RFC 7946, [longitude, latitude]). Errors: "
        '{"message": …, "errors": {field: […]}}. Open311 GeoReport v2 lives at /open311/v2/ '
        "(docs/open311.md)."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # The docs page loads Swagger UI from our own static files, never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": "/api/v1",
}
if DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"].append(
        "rest_framework.renderers.BrowsableAPIRenderer"
    )

# Debian 12 ships GDAL 3.6, older than Django 6.1 prefers; everything OS2geo uses works on it.
SILENCED_SYSTEM_CHECKS = ["gis.W001"]

LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# HTTPS=1 when the service is reached over HTTPS only (in production, usually behind a
# TLS-terminating proxy listed in TRUSTED_PROXIES): secure cookies, HTTP redirected to HTTPS
# (the health check excepted, for load balancers that probe over HTTP), and HSTS.
# `manage.py check --deploy` is clean with HTTPS=1, DEBUG=0, a real SECRET_KEY and
# ALLOWED_HOSTS (tests/test_deployment.py). SECURE_COOKIES=1 is the older name.
HTTPS = env_bool("HTTPS", env_bool("SECURE_COOKIES", False))
if HTTPS:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = True
    SECURE_REDIRECT_EXEMPT = [r"^api/v1/health/?$"]
    SECURE_HSTS_SECONDS = env_int("HSTS_SECONDS", 365 * 24 * 3600)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("HSTS_PRELOAD", True)
SESSION_COOKIE_HTTPONLY = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"


# Serve /static/ from the ASGI process itself (fine for one municipality's traffic; put a
# web server or CDN in front for more).
SERVE_STATIC = env_bool("SERVE_STATIC", True)

# Live updates (Channels). One process: in-memory layer. Several processes: set REDIS_URL.
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # redis-py (8.x) times out socket reads after 5 s by default, the same as
                # channels_redis's BRPOP wait: an idle process's receive then failed with a
                # TimeoutError every few seconds. Reads get longer than the BRPOP wait.
                "hosts": [{"address": REDIS_URL, "socket_timeout": 15}],
                # Messages waiting per websocket connection before channels_redis drops new
                # ones (it then only logs at INFO, which LOGGING below makes visible).
                "capacity": env_int("CHANNEL_CAPACITY", 5000),
                "expiry": env_int("CHANNEL_EXPIRY_SECONDS", 60),
                "group_expiry": 86400,
            },
        }
    }
    LOGGING["loggers"]["channels_redis"] = {"level": "INFO"}
# Map sockets join one group per web-mercator tile at this zoom (about 5 x 5 km in Denmark
# at 12); a viewport needing more than LIVE_MAX_TILES tiles joins municipality groups.
LIVE_TILE_ZOOM = env_int("LIVE_TILE_ZOOM", 12)
LIVE_MAX_TILES = env_int("LIVE_MAX_TILES", 64)
# Staff sockets check their login and roles again this often (and at once on logout or a
# role change made in the admin).
STAFF_SOCKET_RECHECK_SECONDS = env_int("STAFF_SOCKET_RECHECK_SECONDS", 60)

# Vector tiles of reports: counted clusters at and below this zoom, single reports above;
# how long browsers and proxies may reuse a tile without asking (0: always ask, and get a
# 304 when the ETag still matches).
TILE_CLUSTER_MAX_ZOOM = env_int("TILE_CLUSTER_MAX_ZOOM", 11)
# Above that zoom a tile holding more than TILE_MAX_POINTS reports sends clusters too (0:
# never), except at TILE_MAX_ZOOM, the deepest tiles the map asks for (it enlarges them
# beyond), which always hold single reports.
TILE_MAX_POINTS = env_int("TILE_MAX_POINTS", 5000)
TILE_MAX_ZOOM = env_int("TILE_MAX_ZOOM", 16)
TILE_MAX_AGE_SECONDS = env_int("TILE_MAX_AGE_SECONDS", 0)
# Built tiles are kept this long in the shared cache (reports.tiles), each under a version
# that a change to a report in it replaces. Off (0) without CACHE_URL: a cache of its own in
# each process would not hear of changes made in another (the worker's, a second web's).
# Also the longest a tile stays stale when a new version could not be written (the cache
# unreachable just then, or the process killed between its COMMIT and the write).
TILE_CACHE_SECONDS = env_int("TILE_CACHE_SECONDS", 60 if CACHE_URL else 0)

# While the database is unreachable every route answers 503 with this Retry-After.
OUTAGE_RETRY_AFTER_SECONDS = env_int("OUTAGE_RETRY_AFTER_SECONDS", 5)

# Idempotency-Key records are kept this long (the promise to clients is at least 24 hours).
IDEMPOTENCY_KEEP_HOURS = env_int("IDEMPOTENCY_KEEP_HOURS", 48)
# A POST with an Idempotency-Key holds its key for as long as its transaction runs; if the
# process handling it goes silent for this long mid-transaction (hung, or its host gone),
# PostgreSQL ends the transaction and the key is free for a retry (reports.api.idempotency).
IDEMPOTENCY_LEASE_SECONDS = env_int("IDEMPOTENCY_LEASE_SECONDS", 30)
# Anonymous report posting (the public web page) is limited per client address.
ANONYMOUS_POSTS_PER_MINUTE = env_int("ANONYMOUS_POSTS_PER_MINUTE", 10)
# Photos: largest upload in bytes, largest image in pixels, and how many per report.
PHOTO_MAX_BYTES = env_int("PHOTO_MAX_BYTES", 15 * 1024 * 1024)
PHOTO_MAX_PIXELS = env_int("PHOTO_MAX_PIXELS", 50_000_000)
PHOTO_MAX_PER_REPORT = env_int("PHOTO_MAX_PER_REPORT", 6)
# Django refuses a multipart request with more files than this before reading them.
DATA_UPLOAD_MAX_NUMBER_FILES = PHOTO_MAX_PER_REPORT
# Photos decoded at once per process, and how long one may wait for a turn (then 503).
PHOTO_DECODE_CONCURRENCY = env_int("PHOTO_DECODE_CONCURRENCY", os.cpu_count() or 2)
PHOTO_DECODE_WAIT_SECONDS = env_int("PHOTO_DECODE_WAIT_SECONDS", 30)
# The citizen map makes photos at most this many pixels on their longest side before it
# sends them (phones take 4000-pixel photos of several MB).
PHOTO_BROWSER_RESIZE_SIDE = env_int("PHOTO_BROWSER_RESIZE_SIDE", 1600)
# Open reports of the same category within this many metres are offered to the citizen to
# follow instead of filing a new one.
DUPLICATE_RADIUS_M = env_int("DUPLICATE_RADIUS_M", 250)
# Longest side of stored photos and thumbnails, in pixels.
PHOTO_MAX_SIDE = env_int("PHOTO_MAX_SIDE", 2048)
PHOTO_THUMBNAIL_SIDE = env_int("PHOTO_THUMBNAIL_SIDE", 320)
# Multipart requests (photos) may be this large in all; JSON bodies stay at API_MAX_BODY_BYTES.
API_MAX_UPLOAD_BYTES = env_int("API_MAX_UPLOAD_BYTES", 4 * PHOTO_MAX_BYTES)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
# Serve uploaded media from this process (development); use a web server or S3 elsewhere.
SERVE_MEDIA = env_bool("SERVE_MEDIA", DEBUG)
# Photo storage: the local folder MEDIA_ROOT by default; an S3-compatible bucket when
# STORAGE_S3_BUCKET is set (install the `s3` extra: pip install -e ".[s3]").
if env_str("STORAGE_S3_BUCKET"):
    STORAGES = {
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": env_str("STORAGE_S3_BUCKET"),
                "endpoint_url": env_str("STORAGE_S3_ENDPOINT_URL") or None,
                "access_key": env_str("STORAGE_S3_ACCESS_KEY"),
                "secret_key": env_str("STORAGE_S3_SECRET_KEY"),
                "region_name": env_str("STORAGE_S3_REGION") or None,
                "querystring_auth": False,
                "file_overwrite": False,
            },
        },
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }

# Mail (Django 6.1 MAILERS). Development writes each mail to a file in var/mail; set
# EMAIL_HOST to send through SMTP.
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "OS2geo <noreply@os2geo.example.dk>")
if env_str("EMAIL_HOST"):
    MAILERS = {"default": {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {
            "host": env_str("EMAIL_HOST"), "port": env_int("EMAIL_PORT", 587),
            "username": env_str("EMAIL_HOST_USER"), "password": env_str("EMAIL_HOST_PASSWORD"),
            "use_tls": env_bool("EMAIL_USE_TLS", True), "timeout": env_int("EMAIL_TIMEOUT", 20),
        },
    }}
else:
    MAILERS = {"default": {
        "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "OPTIONS": {"file_path": env_str("EMAIL_FILE_PATH", str(BASE_DIR / "var" / "mail"))},
    }}
# Notification delivery: attempts before giving up, first retry delay (doubling each time,
# at most NOTIFY_MAX_BACKOFF_SECONDS), webhook timeout, and how long a claimed row stays
# leased to one worker.
NOTIFY_MAX_ATTEMPTS = env_int("NOTIFY_MAX_ATTEMPTS", 8)
NOTIFY_BACKOFF_SECONDS = env_int("NOTIFY_BACKOFF_SECONDS", 30)
NOTIFY_MAX_BACKOFF_SECONDS = env_int("NOTIFY_MAX_BACKOFF_SECONDS", 3600)
# The whole webhook call (connect, send, answer) must be done in this many seconds.
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 10)
# Webhooks to loopback, private or link-local addresses are refused unless this is on (a
# receiver on the same host or network, as in the demo).
WEBHOOK_ALLOW_PRIVATE_NETWORKS = env_bool("WEBHOOK_ALLOW_PRIVATE_NETWORKS", False)
# Destinations (the SMTP server, each webhook) are delivered to side by side, this many at
# once, with at most NOTIFY_PER_DESTINATION rows of one destination per batch.
NOTIFY_CONCURRENCY = env_int("NOTIFY_CONCURRENCY", 4)
NOTIFY_PER_DESTINATION = env_int("NOTIFY_PER_DESTINATION", 10)
# A lease covers one delivery: it is renewed just before each (reports.notifications.worker).
NOTIFY_LEASE_SECONDS = env_int("NOTIFY_LEASE_SECONDS", 60)
# How long an external party's link to a case handed to them works (days).
HANDOVER_LINK_DAYS = env_int("HANDOVER_LINK_DAYS", 30)
# How often the worker reads status back from the Open311 destinations (back offices).
DESTINATION_POLL_SECONDS = env_int("DESTINATION_POLL_SECONDS", 30)
# The worker touches this file on every turn of its loop (a container health check reads it).
WORKER_HEARTBEAT_FILE = env_str("WORKER_HEARTBEAT_FILE")
# Confirmation links for following a report are valid this many hours.
SUBSCRIPTION_CONFIRM_HOURS = env_int("SUBSCRIPTION_CONFIRM_HOURS", 72)
# Unconfirmed web reports (where a municipality asks for confirmation) expire after this.
REPORT_CONFIRM_HOURS = env_int("REPORT_CONFIRM_HOURS", 48)
# A citizen's "my reports" link (mailed on request, no account) works this many hours.
MY_REPORTS_LINK_HOURS = env_int("MY_REPORTS_LINK_HOURS", 2)
# How long the "is it fixed?" link in a follow-up mail works (60 days).
FOLLOW_UP_LINK_HOURS = env_int("FOLLOW_UP_LINK_HOURS", 1440)

# The demo's accounts' password and its webhook's secret (reports_load_demo): script/server
# makes both once per installation (var/demo-password, var/demo-webhook-secret); unset, the
# demo loader makes random ones and prints the password.
DEMO_PASSWORD = env_str("DEMO_PASSWORD")
DEMO_WEBHOOK_SECRET = env_str("DEMO_WEBHOOK_SECRET")
