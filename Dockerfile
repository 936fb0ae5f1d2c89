# The production image: gunicorn for the web, the same image for the Celery worker and beat.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    VAR_DIR=/app/var MEDIA_ROOT=/app/var/media STATIC_ROOT=/app/var/static

# CJK fonts (the 公文 faces and their free stand-ins, see reports/compilations/render/fonts.py) and HarfBuzz
# subsetting for the PDFs; Pango for WeasyPrint; poppler for PDF checks;
# PostgreSQL's client (pg_dump / pg_restore, the same major version as the compose database) for
# `manage.py backup` / `restore`.
RUN apt-get update \
 && apt-get install -y --no-install-recommends fonts-noto-cjk fonts-noto-cjk-extra fonts-arphic-gkai00mp \
    fonts-arphic-ukai fonts-lxgw-wenkai fonts-cwtex-fs libharfbuzz-subset0 libpango-1.0-0 \
    libpangoft2-1.0-0 poppler-utils postgresql-client-15 \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml requirements.txt ./
# The runtime dependencies of pyproject.toml at exactly the versions of the lock file (requirements.txt, used
# as constraints so the image leaves out the dev tools); the project itself is not a package.
RUN pip install --upgrade pip && pip install -c requirements.txt .
COPY . .
RUN useradd --create-home portal && mkdir -p /app/var && chown -R portal /app/var
USER portal
# collectstatic needs settings that import; these placeholders are not used at run time.
RUN SECRET_KEY=build-only DEBUG=0 ALLOWED_HOSTS=localhost python manage.py collectstatic --noinput

EXPOSE 8000
CMD ["gunicorn", "campaign.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "60"]
