# One image for every mapsite process: web (gunicorn), Celery worker and Celery beat.
# docker-compose.yml picks the process with its `command`.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    MAPSITE_ENV=production \
    MAPSITE_DATA_DIR=/data

WORKDIR /app

# The PDF export (WeasyPrint) lays text out with Pango and subsets fonts with HarfBuzz.
# Its fonts are bundled in static/fonts; nothing is fetched while rendering.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 \
       libharfbuzz-subset0 \
    && rm -rf /var/lib/apt/lists/*

# Dependencies first, so this layer is rebuilt only when pyproject.toml changes.
# `pip install .` installs the pinned dependencies only; the code runs from /app.
COPY pyproject.toml ./
RUN pip install . && rm -rf build ./*.egg-info

# An unprivileged user owns the data directory (uploads, collected static files);
# the code itself stays read-only to it.
RUN useradd --system --user-group --uid 10001 --home-dir /app --no-create-home mapsite \
    && mkdir -p /data/media \
    && chown -R mapsite:mapsite /data

COPY . .

USER mapsite
EXPOSE 8000

# The web process; compose runs migrations and collectstatic before it.
CMD ["gunicorn", "mapsite.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--threads", "4", \
     "--access-logfile", "-", "--logger-class", "mapsite.gunicorn_logging.RedactingLogger", \
     "--no-control-socket"]
