"""A round of the rolling call end to end, in the browser on the live server: two applicants submit
short-term requests (each a proposal of the round); MSIT assigns three reviewers to each, and the page
refuses a fourth who belongs to the applicant's organisation; the reviewers sign in and score every
criterion; MSIT sees the ranked list and records the committee's decisions; the selected applicant
sees the offer and accepts it, the other sees the refusal with the committee's reason."""

import datetime as dt

import pytest

from allocation_portal.models import Role
from calls.models import Criterion, Proposal
from calls.services import rolling_call
from lending.models import Loan, LoanRequest
from tests import factories as f
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.django_db(transaction=True)

CRITERIA = (("impact", 40), ("ecosystem", 30), ("readiness", 30))


@pytest.fixture
def contexts():
    """Browser contexts the test opens, closed whatever happens (each holds live-server connections)."""
    opened = []
    yield opened
    for context in opened:
        context.close()


def test_a_round_from_submission_to_offer(browser, live_server, contexts):
    call = rolling_call()
    if not call.criteria.exists():  # a transactional test before this one emptied what migration 0002 made
        for position, (code, weight) in enumerate(CRITERIA):
            Criterion.objects.create(call=call, code=code, position=position, name_ko=code, name_en=code, weight=weight,
                                     rubric=[{"score": s, "ko": f"{s}점", "en": str(s)} for s in (5, 4, 3, 2, 1)])
    ministry = f.make_ministry()
    cluster = f.make_cluster(servers=2)
    project = f.make_project(ministry, gpus=8, planned_start=dt.date(2027, 6, 1), end_date=dt.date(2028, 5, 31))
    f.award(project, cluster.servers.filter(hostname__endswith="001"), start=dt.date(2026, 4, 1), end=dt.date(2028, 6, 1))
    hanbit = f.make_organisation(name="한빛대학교", region="non_capital")
    nuri = f.make_organisation(name="누리연구소", kind="research", region="capital")
    f.make_user(Role.APPLICANT, username="hanbit", organisation=hanbit)
    f.make_user(Role.APPLICANT, username="nuri", organisation=nuri)
    f.make_user(Role.ADMIN, username="msit")
    for i in (1, 2, 3):
        f.make_user(Role.REVIEWER, username=f"expert{i}", display_name=f"평가위원{i}")
    f.make_user(Role.REVIEWER, username="insider", display_name="내부위원", organisation=hanbit)
    start = dt.date.today() + dt.timedelta(days=10)

    def session(username):
        context = browser.new_context(base_url=live_server.url, locale="ko-KR", timezone_id="Asia/Seoul")
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        sign_in(page, username, f.PASSWORD)  # with the second factor where one is due (MSIT)
        return page

    # Two applicants submit: each request is a proposal of the round of its day.
    applicants = {}
    for username, gpus, purpose in (("hanbit", "4", "한국어 법률 언어모델 미세조정"), ("nuri", "2", "소재 시뮬레이션 가속")):
        page = applicants[username] = session(username)
        page.goto("/lending/requests/new/")
        page.select_option("#id_gpu_model", "B200")
        page.fill("#id_gpu_count", gpus)
        page.fill("#id_starts_on", start.isoformat())
        page.fill("#id_ends_on", (start + dt.timedelta(days=50)).isoformat())
        page.fill("#id_purpose", purpose)
        page.fill("#id_expected_results", "논문 1편, 공개 모델")
        for name, value in (("personal_information", "na"), ("training_data_copyright", "yes"), ("ai_basic_act", "yes")):
            page.check(f"input[name={name}][value={value}]")
        page.check("#id_accepts_recall_terms")
        page.click("[data-testid=request-form] button[type=submit]")
        assert page.locator("[data-testid=request-state]").inner_text() == "제출"
    proposals = {p.organisation.name: p for p in Proposal.objects.filter(call=call).select_related("organisation", "round")}
    assert set(proposals) == {"한빛대학교", "누리연구소"}
    assert len({p.round_id for p in proposals.values()}) == 1

    # MSIT assigns three reviewers to each; the insider is refused with the reason, on the page.
    admin = session("msit")
    for name, proposal in proposals.items():
        admin.goto("/calls/short-term-rolling/proposals/")
        admin.click(f"[data-proposal='{proposal.public_id}'] a")
        if name == "한빛대학교":
            admin.fill("#id_reviewer", "insider")
            admin.click("[data-testid=assign-form] button[type=submit]")
            error = admin.locator("[data-testid=assign-form] .errorlist").inner_text()
            assert "내부위원 위원은 이 과제를 평가할 수 없습니다" in error and "신청 기관 소속" in error
        for i in (1, 2, 3):
            admin.fill("#id_reviewer", f"expert{i}")
            admin.click("[data-testid=assign-form] button[type=submit]")
            assert f"평가위원{i}" in admin.locator("[data-testid=reviews]").inner_text()
    assert proposals["한빛대학교"].assignments.count() == 3
    assert not proposals["한빛대학교"].assignments.filter(reviewer__username="insider").exists()

    # The reviewers sign in and score every criterion of both proposals, with a comment each.
    for i in (1, 2, 3):
        reviewer = session(f"expert{i}")
        for name, title in (("한빛대학교", "한국어 법률 언어모델"), ("누리연구소", "소재 시뮬레이션")):
            reviewer.goto("/reviews/")
            reviewer.click(f"[data-testid=assignments] tr:has-text('{title}') a")
            assert name in reviewer.locator("main dl").inner_text()
            level = "5" if name == "한빛대학교" else "2"
            for code, _weight in CRITERIA:
                reviewer.check(f"input[name=score_{code}][value='{level}']")
                reviewer.fill(f"#id_comment_{code}", f"{code} 근거")
            reviewer.click("[data-testid=review-form] button[type=submit]")
            assert "평가를 저장했습니다." in reviewer.content()

    # MSIT sees the scores and the ranked list, and records the committee's decisions.
    admin.goto("/calls/short-term-rolling/proposals/")
    ranked = admin.locator("[data-testid=ranked] tbody tr")
    assert ranked.count() == 2
    assert "한국어 법률 언어모델" in ranked.nth(0).inner_text() and "5.00" in ranked.nth(0).inner_text()
    assert "소재 시뮬레이션" in ranked.nth(1).inner_text() and "2.00" in ranked.nth(1).inner_text()
    for name, selected, reason in (("한빛대학교", "yes", "세 평가위원 모두 우수"), ("누리연구소", "no", "준비도가 부족함")):
        admin.goto(f"/calls/short-term-rolling/proposals/{proposals[name].public_id}/")
        assert "3/3" in admin.locator("[data-testid=figures]").inner_text()
        admin.select_option("#id_selected", selected)
        admin.fill("#id_rank", "1" if selected == "yes" else "2")
        admin.fill("#id_reason", reason)
        admin.click("[data-testid=decide-form] button[type=submit]")
        assert "위원회 결정을 기록했습니다." in admin.content()
        assert reason in admin.locator("[data-testid=decision]").inner_text()

    # The offer goes out: the selected applicant sees it and accepts; the other sees the refusal.
    loan = Loan.objects.get(organisation=hanbit)
    assert loan.state == "offered" and loan.gpu_count == 4
    page = applicants["hanbit"]
    page.goto("/lending/dashboard/")
    page.click("[data-testid=offer-pending]")
    assert page.locator("[data-testid=loan-state]").inner_text() == "제안됨"
    assert cluster.code in page.locator("[data-testid=offer-servers]").inner_text()
    page.click("[data-testid=offer-accept]")
    assert page.locator("[data-testid=loan-state]").inner_text() == "예정"
    refused = LoanRequest.objects.get(organisation=nuri)
    other = applicants["nuri"]
    other.goto(f"/lending/requests/{refused.public_id}/")
    assert other.locator("[data-testid=request-state]").inner_text() == "불승인"
    assert "준비도가 부족함" in other.content()
    assert set(Proposal.objects.filter(call=call).values_list("state", flat=True)) == {"selected", "not_selected"}
