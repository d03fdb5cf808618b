"""The outcome figures, computed by hand on a small world and compared with the endpoint, the page,
the drill-down rows and the XLSX sheet.

The world (one cluster of five servers, April to June 2026, read on 1 July 09:00 KST):
- s1: project A, started 1 April, holds it all the time;
- s2: project B, not started (expected 1 September): idle; loans L1 (4 GPUs, 1–11 May) and L4 (the same
  4 GPUs, 20–30 May, recalled on 29 May with its full notice: its planned end came first) on it;
- s3: MSIT reserve from 1 May; loan L2 (8 GPUs, 1 June, planned to 30 June, recalled on 14 June with 48
  hours' notice: short of the policy's 72) on it; a case reclaimed it (decided in June);
- s4: project C, started 1 April, held to 1 June, then suspended 1–11 June;
- s5: nobody's; loan L3 (2 GPUs, 10–20 April) on it is lent, but not out of idle or reserve GPUs."""

import io
from decimal import Decimal

import openpyxl
import pytest

from outcomes.figures import FIGURES, figure_rows, programme_outcomes
from outcomes.forecast import programme_forecast
from tests.outcomes.conftest import APR, JUN, MAY

pytestmark = pytest.mark.django_db


D = Decimal
EXPECTED_HOURS = {
    # month: awarded, held_started, idle, reserve, suspended, lent, lent_from_idle, lent_from_reserve, lent_from_free
    APR: (17280, 11520, 5760, 0, 0, 0, 0, 0, 480),
    MAY: (23808, 11904, 5952, 5952, 0, 1920, 1920, 0, 0),
    JUN: (19200, 5760, 5760, 5760, 1920, 2880, 0, 2880, 0),
}
NAMES = ["awarded", "held_started", "idle", "reserve", "suspended", "lent", "lent_from_idle", "lent_from_reserve",
         "lent_from_free"]


def test_every_figure_matches_the_hand_count(small_world, api_for):
    got = api_for(small_world["auditor"]).get("/api/v1/programme/outcomes/?from=2026-04&to=2026-06").json()
    assert [m["month"] for m in got["months"]] == ["2026-04", "2026-05", "2026-06"]
    for row, month in zip(got["months"], (APR, MAY, JUN), strict=True):
        assert {n: D(row["gpu_hours"][n]) for n in NAMES} == dict(zip(NAMES, map(D, EXPECTED_HOURS[month]), strict=True))
    april, may, june = got["months"]
    total = got["cumulative"]
    assert {n: D(total["gpu_hours"][n]) for n in NAMES} == {
        n: sum(D(EXPECTED_HOURS[m][i]) for m in EXPECTED_HOURS) for i, n in enumerate(NAMES)}
    # Reports: A's April and May and C's April count (a draft and a returned report do not).
    assert [D(m["used_reported"]) for m in got["months"]] == [4000, 4000, 0] and D(total["used_reported"]) == 8000
    assert may["used_measured"] == "4000.0" and may["measured_project_months"] == 2 and april["used_measured"] is None
    # Shares: (used + lent) / awarded and lent / (idle + reserve).
    assert D(april["used_or_lent_share"]) == D("0.2315") and D(may["used_or_lent_share"]) == D("0.2487")
    assert D(june["used_or_lent_share"]) == D("0.1500") and D(total["used_or_lent_share"]) == D("0.2123")
    assert D(april["idle_recovered_share"]) == 0 and D(may["idle_recovered_share"]) == D("0.1613")
    assert D(june["idle_recovered_share"]) == D("0.2500") and D(total["idle_recovered_share"]) == D("0.1645")
    # Lending speed: decisions (1, 5 | 2, 2, 10) and waits from idle to the loan's start (0 | 0, 9 | 7) in days.
    speed = total["lending_speed"]
    assert speed["submission_to_decision"] == {"count": 5, "median_days": "2.0", "p90_days": "10.0"}
    assert may["lending_speed"]["submission_to_decision"] == {"count": 3, "median_days": "2.0", "p90_days": "10.0"}
    assert speed["idle_to_loan_start"] == {"count": 4, "median_days": "3.5", "p90_days": "9.0"}
    assert june["lending_speed"]["idle_to_loan_start"] == {"count": 1, "median_days": "7.0", "p90_days": "7.0"}
    # Recalls: L4 in May (its full notice: its own end came first, 4 GPUs x 24 h inside), L2 in June (short: 8 x 48 h).
    assert may["recalls"] == {"count": 1, "full_notice": 1, "gpu_hours_in_notice": "96.0"}
    assert june["recalls"] == {"count": 1, "full_notice": 0, "gpu_hours_in_notice": "384.0"}
    assert total["recalls"] == {"count": 2, "full_notice": 1, "gpu_hours_in_notice": "480.0"}
    assert june["reclaimed"] == {"cases": 1, "servers": 1} and total["reclaimed_servers_now"]["reserve"] == 1
    # Goals: loans started by type and region, lent GPU-hours (out of idle and reserve only: Z's came from free GPUs).
    kinds, regions = total["by_organisation_type"], total["by_region"]
    assert total["loans_started"] == 4
    assert {k: v["loans"] for k, v in kinds.items()} == {"industry": 2, "academia": 1, "research": 1}
    assert {k: v["gpu_hours"] for k, v in kinds.items()} == {"industry": "1920.0", "academia": "2880.0", "research": "0.0"}
    assert kinds["industry"]["gpu_hour_share"] == "0.4000" and kinds["industry"]["loan_share"] == "0.5000"
    assert regions["capital"] == {"loans": 2, "gpu_hours": "1920.0", "loan_share": "0.5000", "gpu_hour_share": "0.4000"}
    assert total["top_organisations_share"] == "1.0000"


def test_the_rows_of_each_figure_add_up_to_it(small_world):
    outcomes = programme_outcomes(APR, JUN)
    for name in [*NAMES, "used_reported", "used_measured"]:
        rows = figure_rows(name, APR, JUN)
        assert sum((r.value for r in rows), D(0)).quantize(D("0.1")) == outcomes.total.value(name).quantize(D("0.1")), name
        for month, period in zip((APR, MAY, JUN), outcomes.months, strict=True):
            value = period.value(name) or D(0)
            assert sum((r.value for r in figure_rows(name, month, month)), D(0)).quantize(D("0.1")) == value.quantize(D("0.1"))
    assert len(figure_rows("submission_to_decision", APR, JUN)) == outcomes.total.decision.count
    assert sorted(r.value for r in figure_rows("idle_to_loan_start", APR, JUN)) == sorted(outcomes.total.idle_to_loan.days)
    assert len(figure_rows("loans_started", APR, JUN)) == outcomes.total.loans_started
    assert sum(r.value for r in figure_rows("recalls", APR, JUN)) == outcomes.total.notice_gpu_hours
    assert sum(r.value for r in figure_rows("servers_reclaimed", APR, JUN)) == outcomes.total.servers_reclaimed
    assert {r.label: r.value for r in figure_rows("lent_by_organisation", APR, JUN)} == {"산업체 X": 1920, "대학 Y": 2880}
    assert set(FIGURES) == {"awarded", "held_started", "idle", "reserve", "suspended", "lent", "lent_from_idle",
                            "lent_from_reserve", "lent_from_free", "used_reported", "used_measured", "submission_to_decision",
                            "idle_to_loan_start", "loans_started", "lent_by_organisation", "recalls", "servers_reclaimed"}


def test_the_forecast_counts_what_mSIT_can_lend_and_must_recall(small_world):
    july, august, september = programme_forecast().months
    assert (july.idle_gpus, july.reserve_gpus, july.free_gpus, july.lent_gpus) == (8, 8, 16, 0)
    assert (july.waiting_requests, july.waiting_gpus, july.can_lend) == (1, 4, 28)
    assert (august.can_lend, august.waiting_gpus, august.starting) == (32, 0, [])
    assert [(p.code, n) for p, n in september.starting] == [("O-B", 1)]
    assert (september.recall_loans, september.recall_gpus, september.idle_gpus, september.can_lend) == (1, 2, 0, 24)


def test_the_dashboard_links_each_figure_to_its_rows(small_world, client_for, django_assert_max_num_queries):
    client = client_for(small_world["admin"], "ko")
    with django_assert_max_num_queries(40):
        page = client.get("/programme/outcomes/?from=2026-04&to=2026-06")
    html = page.content.decode()
    assert page.status_code == 200 and "사업 성과" in html
    assert 'href="/programme/outcomes/rows/?figure=lent_from_reserve&amp;from=2026-06&amp;to=2026-06"' in html
    assert 'data-testid="outcomes-chart"' in html and 'data-testid="forecast-chart"' in html
    rows = client.get("/programme/outcomes/rows/?figure=recalls&from=2026-04&to=2026-06").content.decode()
    assert "대학 Y" in rows and "산업체 X" in rows and "480.0" in rows


def test_bad_ranges_are_refused_with_the_api_error_shape(small_world, api_for, client_for):
    api = api_for(small_world["admin"])
    for query, field in [("from=2026-13", "from"), ("from=2026-06&to=2026-04", "to"), ("to=2026-08", "to"),
                         ("from=2020-01&to=2026-06", "to")]:
        answer = api.get(f"/api/v1/programme/outcomes/?{query}")
        assert answer.status_code == 400 and field in answer.json()["error"]["fields"], query
    assert api.get("/api/v1/programme/outcomes/rows/?figure=nope").status_code == 400
    page = client_for(small_world["admin"]).get("/programme/outcomes/?from=2026-06&to=2026-04")
    assert page.status_code == 200 and 'data-testid="error-summary"' in page.content.decode()
    assert client_for(small_world["admin"]).get("/programme/outcomes/rows/?figure=nope").status_code == 400


def test_the_board_export_has_an_outcomes_sheet(small_world, client_for):
    answer = client_for(small_world["auditor"]).get("/monitoring/board/export.xlsx?month=2026-06")
    book = openpyxl.load_workbook(io.BytesIO(answer.content))
    sheet = book["사업 성과"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("월", "배분 GPU-시간", "착수 과제 보유")
    assert [r[0] for r in rows[1:]] == ["2026-04", "2026-05", "2026-06", "합계"]
    assert rows[2][1] == 23808 and rows[-1][1] == 60288


def test_endpoint_queries_do_not_grow_with_the_months(small_world, api_for, django_assert_num_queries):
    from outcomes import store

    api = api_for(small_world["auditor"])
    with django_assert_num_queries(30):  # nothing kept yet: April to June computed, then July
        api.get("/api/v1/programme/outcomes/?from=2026-04&to=2026-07")
    store.keep()
    # Kept: token, pool, the kept months, the change number (July is kept for minutes), cases and their servers.
    with django_assert_num_queries(6):
        api.get("/api/v1/programme/outcomes/?from=2026-04&to=2026-07")
    with django_assert_num_queries(6):
        api.get("/api/v1/programme/outcomes/?from=2026-06&to=2026-07")
