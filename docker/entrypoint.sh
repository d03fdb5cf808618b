#!/bin/sh
# migrate: (as the owner role) migrate, then grant the runtime role its privileges.
# web: gunicorn. worker / beat: Celery. Anything else runs as given.
set -e
case "$1" in
  migrate)
    python manage.py migrate --noinput
    exec python manage.py grant_runtime_role
    ;;
  web)
    exec gunicorn allocation_portal.wsgi:application \
      --bind 0.0.0.0:8000 \
      --workers "${GUNICORN_WORKERS:-3}" \
      --timeout "${GUNICORN_TIMEOUT:-60}" \
      --access-logfile - --error-logfile -
    ;;
  worker)
    exec celery -A allocation_portal worker -l "${CELERY_LOG_LEVEL:-info}" --concurrency "${CELERY_CONCURRENCY:-2}"
    ;;
  beat)
    exec celery -A allocation_portal beat -l "${CELERY_LOG_LEVEL:-info}" -s /app/var/celerybeat-schedule
    ;;
  *)
    exec "$@"
    ;;
esac
