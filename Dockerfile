# OS2geo web and worker image. Debian's GDAL/GEOS/PROJ are what GeoDjango loads.

# The map's browser libraries (MapLibre GL JS) from npm, served from our own static files.
FROM node:20-bookworm-slim AS browser-libraries
WORKDIR /frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM python:3.12-slim-bookworm

RUN apt-get update \
 && apt-get install -y --no-install-recommends gdal-bin libgeos-c1v5 postgresql-client gettext \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY geoservice geoservice
COPY maps maps
COPY reports reports
COPY frontend frontend
RUN pip install --no-cache-dir .
COPY . .
COPY --from=browser-libraries /frontend/node_modules frontend/node_modules
# Compiled translations (Danish, Swedish) are build output, not in git.
RUN SECRET_KEY=build DATABASE_URL=postgres://build@localhost/build \
    python manage.py compilemessages --ignore=node_modules -v 0

ENV PYTHONUNBUFFERED=1
EXPOSE 8000
CMD ["python", "-m", "geoservice.serve", "-b", "0.0.0.0", "-p", "8000", "geoservice.asgi:application"]
