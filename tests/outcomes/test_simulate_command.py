"""manage.py simulate_programme end to end: a subprocess, its own database copied from the template,
the portal's database untouched, the copy dropped."""

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg2
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from allocation_portal.models import AuditEvent, User
from lending.models import LoanRequest
from outcomes import simulation_runner
from projects.models import Project

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def databases() -> set[str]:
    s = connection.settings_dict
    conn = psycopg2.connect(dbname="postgres", host=s["HOST"] or "127.0.0.1", port=s["PORT"] or 5432, user=s["USER"])
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT datname FROM pg_database")
            return {name for (name,) in cursor.fetchall()}
    finally:
        conn.close()


def live_counts() -> tuple:
    return (Project.objects.count(), LoanRequest.objects.count(), User.objects.count(), AuditEvent.objects.count())


def test_it_replays_a_month_on_a_throw_away_copy_of_the_programme(world, tmp_path):
    behaviour = tmp_path / "behaviour.json"
    behaviour.write_text(json.dumps({"requests_per_month": 20, "organisations": 3}))
    before = live_counts()
    env = {**os.environ, "DATABASE_URL": simulation_runner.database_url(connection.settings_dict["NAME"])}
    done = subprocess.run(
        [sys.executable, "manage.py", "simulate_programme", "--months", "1", "--seed", "3", "--behaviour", str(behaviour),
         "--json"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout)
    april = result["figures"]["months"][0]
    # The loaded programme: 2,832 GPUs awarded from the announcement (7 April), 24 days of April.
    assert april["month"] == "2026-04" and april["gpu_hours"]["awarded"] == str(2832 * 24 * 24) + ".0"
    assert result["stats"]["request_submit"] > 0 and result["behaviour"]["organisations"] == 3
    assert "100%" in done.stderr
    # Nothing of it is in the portal's database, and its own database is gone.
    assert live_counts() == before
    assert result["database"].startswith("portal_sim_") and not result["kept"]
    assert result["database"] not in databases()
    assert simulation_runner.template_name() in databases()


@pytest.mark.parametrize(("name", "content", "said"), [
    ("behaviour", {"use_of_plan": [0.9, 0.1]}, "use_of_plan"),
    ("behaviour", {"organisations": 0}, "organisations"),
    ("policy", {"tier1_below": "0.8"}, "tier1_below"),
    ("policy", {"loan_max_months": 13}, "loan_max_months"),
    ("policy", "[1, 2]", "one JSON object"),
    ("policy", "not json", "not JSON"),
])
def test_a_bad_file_is_refused_naming_the_field(db, tmp_path, name, content, said):
    path = tmp_path / "file.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    with pytest.raises(CommandError) as error:
        call_command("simulate_programme", f"--{name}", str(path), "--language", "en")
    assert said in str(error.value)


@pytest.mark.parametrize(("args", "said"), [
    (["--months", "0"], "--months"), (["--months", "37"], "--months"), (["--from", "2026-13"], "--from"),
    (["--seed", "-1"], "--seed"), (["--policy", "/nonexistent.json"], "no such file"),
])
def test_bad_arguments_are_refused(db, args, said):
    with pytest.raises(CommandError) as error:
        call_command("simulate_programme", *args)
    assert said in str(error.value)
