"""Settings and deployment files: safe defaults, and a compose file that matches the design."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


def run_settings(env: dict) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL"))}
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); from django.conf import settings; "
         "print(settings.DEBUG, settings.TIME_ZONE, settings.LANGUAGE_CODE, settings.SESSION_COOKIE_SECURE)"],
        cwd=ROOT, env={**clean, "DJANGO_SETTINGS_MODULE": "allocation_portal.settings", **env},
        capture_output=True, text=True, check=False,
    )


def test_a_missing_secret_key_is_an_error_with_debug_off():
    """The web server refuses to start, and so does any use of the key; commands that need no
    key (makemigrations) still run."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL"))}
    web = subprocess.run([sys.executable, "-c", "import allocation_portal.wsgi"], cwd=ROOT, env=clean,
                         capture_output=True, text=True, check=False)
    assert web.returncode != 0 and "DJANGO_SECRET_KEY is not set" in web.stderr
    signing = subprocess.run(
        [sys.executable, "-c", "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='allocation_portal.settings'; "
         "django.setup(); from django.core import signing; signing.dumps(1)"],
        cwd=ROOT, env=clean, capture_output=True, text=True, check=False,
    )
    assert signing.returncode != 0 and "SECRET_KEY" in signing.stderr
    migrations = subprocess.run([sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"], cwd=ROOT,
                                env=clean, capture_output=True, text=True, check=False)
    assert migrations.returncode == 0, migrations.stderr[-500:]


def test_the_worker_refuses_to_start_without_a_secret_key():
    from django.core.exceptions import ImproperlyConfigured
    from django.test import override_settings

    from allocation_portal.celery import refuse_to_start_without_a_secret_key

    with override_settings(SECRET_KEY=""), pytest.raises(ImproperlyConfigured):
        refuse_to_start_without_a_secret_key()


def test_debug_is_off_unless_asked():
    result = run_settings({"DJANGO_SECRET_KEY": "k"})
    assert result.stdout.split() == ["False", "Asia/Seoul", "ko", "True"]
    debug = run_settings({"DJANGO_DEBUG": "1"})
    assert debug.stdout.split()[0] == "True"


def test_compose_runs_one_image_for_web_worker_and_beat():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "redis", "web", "worker", "beat"}
    images = {services[name]["image"] for name in ("web", "worker", "beat")}
    assert len(images) == 1
    for name in ("web", "worker", "beat"):
        service = services[name]
        assert service["build"] == "."
        assert service["env_file"] == ".env"
        assert "healthcheck" in service
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert "DATABASE_URL" in service["environment"] and "REDIS_URL" in service["environment"]
    assert [services[n]["command"] for n in ("web", "worker", "beat")] == [["web"], ["worker"], ["beat"]]
    entrypoint = (ROOT / "docker" / "entrypoint.sh").read_text()
    assert "migrate --noinput" in entrypoint and "gunicorn" in entrypoint
    for name in ("postgres", "redis"):
        assert "healthcheck" in services[name]
