"""The simulations page and API: who may read and start runs, what a run shows (the progress bar
that reloads without script, the two results side by side), the limits."""

import datetime as dt

import pytest

from allocation_portal.models import AuditEvent
from outcomes import services
from outcomes.models import SimulationRun
from outcomes.simulation import SUMMARY

pytestmark = pytest.mark.django_db


def figures(loans=1, share="0.5000"):
    period = {"month": "2026-04", "gpu_hours": {"awarded": "100.0", "held_started": "50.0", "idle": "50.0",
                                                 "reserve": "0.0", "lent": "10.0"},
              "used_reported": "40.0", "used_or_lent_share": share, "idle_recovered_share": "0.2000",
              "lending_speed": {"submission_to_decision": {"median_days": "1.5"}, "idle_to_loan_start": {"median_days": None}},
              "loans_started": loans, "recalls": {"count": 0}, "reclaimed": {"servers": 0}, "top_organisations_share": "1.0000"}
    return {"figures": {"months": [period], "cumulative": {**period, "month": None}}}


def make_run(world, **extra):
    return SimulationRun.objects.create(requested_by=world.admin, first_month=dt.date(2026, 4, 1), months=1, seed=1,
                                        **extra)


def test_the_list_shows_runs_to_auditors_and_the_form_to_admins_only(world, client_for, django_assert_num_queries):
    for _n in range(3):
        make_run(world)
    page = client_for(world.auditor).get("/programme/outcomes/simulations/")
    assert page.status_code == 200 and page.content.decode().count("/programme/outcomes/simulations/") >= 3
    assert b'data-testid="simulation-form"' not in page.content
    admin = client_for(world.admin)
    admin.get("/programme/outcomes/simulations/")
    with django_assert_num_queries(5):  # session, user, the policy in force, unread notices, the runs with who asked
        page = admin.get("/programme/outcomes/simulations/")
    assert b'data-testid="simulation-form"' in page.content and b'name="b-tier1_below"' in page.content


def test_the_dashboard_links_the_simulations(world, client_for):
    assert b'href="/programme/outcomes/simulations/"' in client_for(world.admin).get("/programme/outcomes/").content


def test_an_admin_starts_a_run_with_policy_b_changes_and_it_is_audited(world, client_for, settings):
    form = {"first_month": "2026-04", "months": "2", "seed": "9", "behaviour": '{"requests_per_month": 40}'}
    current = client_for(world.admin).get("/programme/outcomes/simulations/").context["policy_form"].initial
    policy = {f"b-{k}": v for k, v in current.items()}
    policy["b-grace_days"] = "0"
    response = client_for(world.admin).post("/programme/outcomes/simulations/", {**form, **policy})
    run = SimulationRun.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/programme/outcomes/simulations/{run.public_id}/"
    assert (run.months, run.seed, run.state, run.behaviour["requests_per_month"]) == (2, 9, "queued", 40)
    assert run.policy_b_changes == {"grace_days": 0} and run.policy_a["grace_days"] == 60
    assert AuditEvent.objects.filter(action="simulation.start", actor=world.admin).exists()


@pytest.mark.parametrize(("change", "field"), [
    ({"months": "37"}, "months"), ({"behaviour": "{bad"}, "behaviour"), ({"behaviour": '{"speed": 1}'}, "behaviour"),
    ({"b-tier1_below": "0.9"}, "b-tier1_below"),
])
def test_bad_input_is_a_form_error_and_starts_nothing(world, client_for, change, field):
    page = client_for(world.admin).get("/programme/outcomes/simulations/")
    data = {"first_month": "2026-04", "months": "1", "seed": "1", "behaviour": "",
            **{f"b-{k}": v for k, v in page.context["policy_form"].initial.items()}, **change}
    response = client_for(world.admin).post("/programme/outcomes/simulations/", data)
    assert response.status_code == 400 and b'data-testid="error-summary"' in response.content
    assert not SimulationRun.objects.exists()


def test_auditors_and_others_cannot_start_runs(world, client_for):
    assert client_for(world.auditor).post("/programme/outcomes/simulations/", {"months": "1"}).status_code == 403
    assert client_for(world.official).get("/programme/outcomes/simulations/").status_code == 403
    assert not SimulationRun.objects.exists()


def test_a_running_run_shows_a_progress_bar_that_reloads_without_script_when_asked(world, client_for):
    run = make_run(world, state="running", progress=37)
    url = f"/programme/outcomes/simulations/{run.public_id}/"
    page = client_for(world.auditor).get(url).content.decode()
    assert '<progress id="simulation-progress" max="100" value="37"' in page
    # The reader chooses to have it reload itself (and can stop it): no timing they did not ask for.
    assert "http-equiv" not in page and 'href="?refresh=1"' in page
    reloading = client_for(world.auditor).get(url + "?refresh=1").content.decode()
    assert '<meta http-equiv="refresh" content="5;url=?refresh=1">' in reloading and 'href="?"' in reloading


def test_a_finished_run_shows_both_results_and_their_differences(world, client_for):
    run = make_run(world, state="done", progress=100, result_a=figures(loans=1, share="0.5000"),
                   result_b=figures(loans=4, share="0.5250"), policy_a={"grace_days": 60}, policy_b={"grace_days": 0},
                   policy_b_changes={"grace_days": 0})
    response = client_for(world.admin).get(f"/programme/outcomes/simulations/{run.public_id}/")
    page = response.content.decode()
    assert "http-equiv" not in page
    rows = response.context["compare"]["total"]["rows"]
    assert len(rows) == len(SUMMARY)
    loans = next(r for r in rows if r["label"] == "Loans started")
    share = next(r for r in rows if r["label"] == "Used or lent share")
    assert (loans["a"], loans["b"], loans["difference"]) == ("1", "4", "+3")
    assert (share["a"], share["b"], share["difference"]) == ("50.0%", "52.5%", "+2.5%p")


def test_a_failed_run_says_why_in_the_readers_language(world, client_for):
    run = make_run(world)
    services.simulation_not_queued(run_id=str(run.public_id))
    en = client_for(world.admin).get(f"/programme/outcomes/simulations/{run.public_id}/").content.decode()
    ko = client_for(world.admin, lang="ko").get(f"/programme/outcomes/simulations/{run.public_id}/").content.decode()
    assert "The task queue cannot be reached" in en and "The task queue cannot be reached" not in ko


def test_an_unknown_run_is_404(world, client_for):
    assert client_for(world.admin).get("/programme/outcomes/simulations/00000000-0000-0000-0000-000000000000/").status_code == 404


# --- The API ----------------------------------------------------------------------------------

def test_the_api_starts_a_run_and_reads_it(world, api_for):
    response = api_for(world.admin).post("/api/v1/programme/simulations/", {
        "first_month": "2026-04", "months": 3, "seed": 5, "behaviour": {"organisations": 10},
        "policy_b": {"recall_notice_hours": 24}}, format="json")
    assert response.status_code == 202, response.json()
    body = response.json()
    assert (body["state"], body["months"], body["policy_b_changes"]) == ("queued", 3, {"recall_notice_hours": 24})
    read = api_for(world.auditor).get(f"/api/v1/programme/simulations/{body['id']}/")
    assert read.status_code == 200 and read.json()["id"] == body["id"] and read.json()["error"] is None


@pytest.mark.parametrize(("body", "field"), [
    ({"months": 0}, "months"), ({"months": 37}, "months"), ({"seed": -1}, "seed"),
    ({"behaviour": {"use_of_plan": [2, 3]}}, "behaviour"), ({"policy_b": {"tier1_below": "0.95"}}, "policy"),
    ({"first_month": "2026-14"}, "first_month"),
])
def test_the_api_refuses_bad_input_in_its_one_error_shape(world, api_for, body, field):
    response = api_for(world.admin).post("/api/v1/programme/simulations/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not SimulationRun.objects.exists()


def test_at_most_two_runs_wait_or_run_at_once(world, api_for):
    make_run(world, state="running")
    make_run(world)
    response = api_for(world.admin).post("/api/v1/programme/simulations/", {"months": 1}, format="json")
    assert response.status_code == 409 and "At most 2" in response.json()["error"]["message"]
    SimulationRun.objects.filter(state="running").update(state="done")
    assert api_for(world.admin).post("/api/v1/programme/simulations/", {"months": 1}, format="json").status_code == 202


def test_only_admins_start_and_only_programme_readers_read(world, api_for):
    run = make_run(world)
    assert api_for(world.auditor).post("/api/v1/programme/simulations/", {"months": 1}, format="json").status_code == 403
    assert api_for(world.applicant).get(f"/api/v1/programme/simulations/{run.public_id}/").status_code == 403
    assert api_for(world.official).get(f"/api/v1/programme/simulations/{run.public_id}/").status_code == 403
    assert api_for(None).get(f"/api/v1/programme/simulations/{run.public_id}/").status_code == 401
