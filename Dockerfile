# One image for web (gunicorn), worker and beat. Settings come from the environment (.env.example).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Pango and the Korean font for the monthly report's PDF (WeasyPrint): without fonts-noto-cjk every
# Korean glyph in it would be a box.
RUN apt-get update \
    && apt-get install -y --no-install-recommends curl libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-cjk \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 1000 portal

WORKDIR /app
COPY pyproject.toml README.md ./
RUN pip install --upgrade pip && pip install .
COPY . .
RUN pip install --no-deps . \
    && DJANGO_SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput -v 0 \
    && mkdir -p /app/var /app/media && chown -R portal:portal /app/var /app/media

USER portal
EXPOSE 8000
ENTRYPOINT ["/app/docker/entrypoint.sh"]
CMD ["web"]
