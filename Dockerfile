# OS2geo web and worker image. Debian's GDAL/GEOS/PROJ are what GeoDjango loads.
FROM python:3.12-slim-bookworm

RUN apt-get update \
 && apt-get install -y --no-install-recommends gdal-bin libgeos-c1v5 postgresql-client \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY geoservice geoservice
COPY maps maps
COPY reports reports
COPY frontend frontend
RUN pip install --no-cache-dir .
COPY . .

ENV PYTHONUNBUFFERED=1
EXPOSE 8000
CMD ["python", "-m", "geoservice.serve", "-b", "0.0.0.0", "-p", "8000", "geoservice.asgi:application"]
