"""Server-rendered pages: the programme overview, project list and detail, ministry pages, and the
admin's award and release forms."""

import datetime as dt

import pytest

from allocation_portal.models import AuditEvent
from gpus.models import Allocation
from tests import factories as f

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return response.content.decode()


def test_overview_shows_the_programme_in_korean(world, client_for):
    f.make_cluster(servers=2, maintenance=1)
    page = text(client_for(world.official, lang="").get("/programme/"))
    assert "2026년 국가 AI 프로젝트 GPU 배분 현황" in page
    assert 'lang="ko"' in page
    assert "10,000" in page
    # Capacity by provider and model from the ledger: the world has 64+16 GPUs, 32 awarded, 8 idle.
    assert world.cluster.name in page
    assert "B200" in page


def test_overview_shows_capacity_on_a_chosen_date(world, client_for):
    client = client_for(world.admin)
    before = text(client.get("/programme/?date=2026-03-01"))
    assert "2026-03-01 00:00" in before
    assert text(client.get("/programme/?date=2026-02-31")).count("errorlist") >= 1


def test_english_is_one_click_away(world, client_for):
    client = client_for(world.official)
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/programme/"})
    assert response.status_code == 302
    page = text(client.get("/programme/"))
    assert 'lang="en"' in page and "National AI GPU Allocation Portal" in page


def test_project_list_filters_and_searches(world, client_for):
    client = client_for(world.admin)
    assert "PB-001" in text(client.get("/projects/?ministry=minb"))
    assert "PA-001" not in text(client.get("/projects/?ministry=minb"))
    assert "PA-002" in text(client.get("/projects/?status=planned"))
    assert "PA-001" not in text(client.get("/projects/?start_month=2026-12"))
    assert "PB-001" in text(client.get("/projects/?q=PB"))
    bad = text(client.get("/projects/?start_month=2026-13"))
    assert "YYYY-MM" in bad and "PA-001" not in bad


def test_project_list_paginates(world, client_for):
    for _ in range(30):
        f.make_project(world.ministry_a)
    client = client_for(world.admin)
    first = text(client.get("/projects/"))
    assert "PA-001" in first and "page=2" in first
    second = text(client.get("/projects/?page=2"))
    assert "PA-001" not in second


def test_official_sees_only_their_ministry_in_the_list(world, client_for):
    page = text(client_for(world.official).get("/projects/"))
    assert "PA-001" in page and "PB-001" not in page
    # Filtering by another ministry does not leak it: the choice is not offered.
    response = client_for(world.official).get("/projects/?ministry=minb")
    assert "PB-001" not in text(response)


def test_sample_data_is_marked(world, client_for):
    f.make_project(world.ministry_a, code="PA-SAMPLE", is_sample=True)
    client = client_for(world.admin)
    assert "tag-sample" in text(client.get("/projects/?q=PA-SAMPLE"))
    assert "tag-sample" in text(client.get("/projects/PA-SAMPLE/"))


@pytest.mark.parametrize("extra", [0, 25])
def test_list_pages_run_constant_queries(world, client_for, django_assert_num_queries, extra):
    for _ in range(extra):
        f.make_project(world.ministry_a)
    client = client_for(world.admin)
    # session + user + the notification badge, then the page's own queries
    for url, queries in [
        ("/projects/", 7),  # + the policy (delay flag days)
        ("/ministries/", 4),
        (f"/ministries/{world.ministry_a.code}/", 13),  # with the month's report board, measured use and the policy
        # + the change number (the page, then its capacity), capacity (clusters, pools, GPUs, the ledger),
        # the policy, the summary, and the 2026 selection (calls' hook): its change number and the call
        ("/programme/", 13),
        ("/programme/", 4),  # the page kept as rendered: the change number only
        ("/audit/", 5),
    ]:
        with django_assert_num_queries(queries):
            assert client.get(url).status_code == 200, url


def test_project_detail_shows_servers_and_ledger(world, client_for):
    page = text(client_for(world.official).get(f"/projects/{world.project_a.code}/"))
    assert "clw-001" in page and "clw-002" in page
    assert "test award" in page
    assert "award-form" not in page  # only MSIT admins award


def test_admin_awards_through_the_page(world, client_for):
    client = client_for(world.admin)
    response = client.post(
        f"/projects/{world.project_a.code}/award/",
        {"cluster": world.cluster.pk, "server_count": 1, "starts_on": "2026-12-01", "ends_on": "2027-01-31",
         "reason": "second phase"},
    )
    assert response.status_code == 302
    assert Allocation.objects.filter(project=world.project_a, reason="second phase").exists()
    assert AuditEvent.objects.filter(action="allocation.award", actor=world.admin).exists()


def test_award_errors_are_shown_in_the_page(world, client_for):
    client = client_for(world.admin)
    response = client.post(
        f"/projects/{world.project_a.code}/award/",
        {"cluster": world.cluster.pk, "server_count": 5, "starts_on": "2026-12-01", "ends_on": "2027-01-31",
         "reason": "too much"},
    )
    assert response.status_code == 400
    assert "24" in text(response)  # "awarded 24 GPUs and already holds 16"
    response = client.post(
        f"/projects/{world.project_a.code}/award/",
        {"cluster": world.cluster.pk, "server_count": 1, "starts_on": "2026-12-01", "ends_on": "2026-11-01"},
    )
    assert response.status_code == 400
    assert Allocation.objects.filter(project=world.project_a).count() == 1


def test_admin_releases_part_of_an_entry_through_the_page(world, client_for):
    client = client_for(world.admin)
    server = world.allocation_a.gpu_rows.select_related("gpu__server").first().gpu.server
    response = client.post(
        f"/projects/{world.project_a.code}/allocations/{world.allocation_a.public_id}/release/",
        {"servers": [server.pk], "reason": "reclaimed"},
    )
    # The confirm step names what goes, and nothing is released before it is confirmed.
    assert response.status_code == 200 and 'data-testid="confirm-step"' in response.content.decode()
    assert "8 GPUs" in response.content.decode() and server.hostname in response.content.decode()
    assert not Allocation.objects.filter(parent=world.allocation_a).exists()
    response = client.post(
        f"/projects/{world.project_a.code}/allocations/{world.allocation_a.public_id}/release/",
        {"servers": [server.pk], "reason": "reclaimed", "confirmed": "1"},
    )
    assert response.status_code == 302
    continuation = Allocation.objects.get(parent=world.allocation_a)
    assert continuation.gpu_count == 8
    missing_reason = client.post(
        f"/projects/{world.project_a.code}/allocations/{continuation.public_id}/release/", {"servers": []}
    )
    assert missing_reason.status_code == 400


def test_the_headline_shows_the_programmes_2832_beside_what_its_pool_holds_now(world, client_for, clock):
    """The announced 2,832 and, beside it, where the pool's GPUs are now: held by projects, reclaimed
    to the MSIT reserve, lent; the government's other GPUs are a pool of their own."""
    from gpus.services import allocation_award

    f.make_cluster(servers=3, code="gov", pool=f.other_pool())
    allocation_award(actor=None, holder_kind="reserve", gpus=f.server_gpus(world.cluster.servers.get(hostname="clw-008")),
                     starts_at=f.day_start(dt.date(2026, 9, 1)), ends_at=f.day_start(dt.date(2027, 4, 1)), reason="r")
    f.make_loan(gpus=f.server_gpus(world.cluster.servers.get(hostname="clw-003"))[:2], start=dt.date(2026, 9, 1),
                end=dt.date(2026, 10, 1))
    page = client_for(world.admin).get("/programme/").content.decode()
    start = page.index('data-testid="programme-pool"')
    card = page[start:page.index("</p>", start)]
    assert "2,832" in card
    assert "held by projects now: 32 (in use 24, idle 8)" in card
    assert "reclaimed to the MSIT reserve: 8" in card and "Lent short-term now, on idle project servers or the MSIT reserve: 2" in card
    assert 'data-testid="capacity-pool-nai-2026"' in page and 'data-testid="capacity-pool-gov-other"' in page
