"""Settings and deployment files: safe defaults, and a compose file that matches the design."""

import os
import shutil
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


def test_compose_runs_one_image_for_migrate_web_worker_and_beat():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "redis", "migrate", "web", "worker", "beat"}
    images = {services[name]["image"] for name in ("migrate", "web", "worker", "beat")}
    assert len(images) == 1
    for name in ("migrate", "web", "worker", "beat"):
        service = services[name]
        assert service["build"] == "."
        assert service["env_file"] == "portal.env"
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert "DATABASE_URL" in service["environment"] and "REDIS_URL" in service["environment"]
    for name in ("web", "worker", "beat"):
        assert "healthcheck" in services[name]
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert [services[n]["command"] for n in ("migrate", "web", "worker", "beat")] == [
        ["migrate"], ["web"], ["worker"], ["beat"]]
    entrypoint = (ROOT / "docker" / "entrypoint.sh").read_text()
    assert "migrate --noinput" in entrypoint and "grant_runtime_role" in entrypoint and "gunicorn" in entrypoint
    for name in ("postgres", "redis"):
        assert "healthcheck" in services[name]


def test_compose_migrates_as_the_owner_and_runs_as_the_runtime_role():
    """Only the one-shot migrate service knows the owner's password; web, worker and beat connect
    as the runtime role, which owns nothing and so cannot disable the audit log's triggers."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert services["migrate"]["environment"]["DATABASE_URL"].startswith("postgres://${PORTAL_DB_OWNER")
    assert "PORTAL_DB_RUNTIME_ROLE" in services["migrate"]["environment"]
    for name in ("web", "worker", "beat"):
        environment = services[name]["environment"]
        assert environment["DATABASE_URL"].startswith("postgres://${PORTAL_DB_RUNTIME_ROLE")
        assert not any("OWNER" in value for value in environment.values()), name
    postgres = services["postgres"]
    assert postgres["environment"]["POSTGRES_USER"] == "postgres"  # the superuser is nobody's runtime role
    assert "./docker/postgres-init:/docker-entrypoint-initdb.d:ro" in postgres["volumes"]
    init = (ROOT / "docker" / "postgres-init" / "10-portal-roles.sh").read_text()
    assert init.count("NOSUPERUSER") == 2 and "ALTER SCHEMA public OWNER TO :\"owner\"" in init
    assert "REVOKE CREATE ON SCHEMA public FROM PUBLIC" in init
    # Database passwords stay with compose; the portal's containers get portal.env, and neither
    # file goes into the image.
    assert "PASSWORD" not in (ROOT / "portal.env.example").read_text().replace("EMAIL_HOST_PASSWORD", "")
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert ".env" in ignored and "portal.env" in ignored


def read_env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            values[key.strip()] = value.strip()
    return values


def test_check_deploy_is_clean_with_the_production_settings_of_compose():
    """`manage.py check --deploy` with the web container's environment: portal.env.example and
    the compose file's own variables, as docker compose would give them."""
    compose_env = read_env_file(ROOT / ".env.example")
    environment = {
        **read_env_file(ROOT / "portal.env.example"),
        "DATABASE_URL": "postgres://{}:{}@postgres:5432/{}".format(
            compose_env["PORTAL_DB_RUNTIME_ROLE"], compose_env["PORTAL_DB_RUNTIME_PASSWORD"], compose_env["POSTGRES_DB"]),
        "REDIS_URL": "redis://redis:6379/0",
    }
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL", "PORTAL_"))}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env={**clean, **environment}, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "no issues" in result.stdout


def hsts_settings(env: dict) -> list[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL"))}
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); from django.conf import settings as s; "
         "print(s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS)"],
        cwd=ROOT, capture_output=True, text=True, check=False,
        env={**clean, "DJANGO_SETTINGS_MODULE": "allocation_portal.settings", "DJANGO_SECRET_KEY": "k", **env},
    )
    return result.stdout.split()


def test_hsts_with_subdomains_when_https_is_on_and_not_on_plain_http():
    assert hsts_settings({}) == ["31536000", "True"]  # DEBUG off: HTTPS
    assert hsts_settings({"DJANGO_SECURE_COOKIES": "0"}) == ["0", "False"]  # the plain-HTTP benchmark
    assert hsts_settings({"DJANGO_DEBUG": "1"}) == ["0", "False"]


@pytest.mark.skipif(subprocess.run(["docker", "compose", "version"], capture_output=True, check=False).returncode != 0
                    if shutil.which("docker") else True, reason="the docker compose plugin is not installed")
def test_docker_compose_accepts_the_file(tmp_path):
    for name in ("docker-compose.yml", "Dockerfile"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "docker", tmp_path / "docker")
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    shutil.copy(ROOT / "portal.env.example", tmp_path / "portal.env")
    result = subprocess.run(["docker", "compose", "config", "--quiet"], cwd=tmp_path, capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stderr
