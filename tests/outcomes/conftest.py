"""The small world of the outcome tests (see test_figures.py for what it holds)."""

import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
import time_machine

from allocation_portal import policy as programme_policy
from gpus.models import HolderKind
from gpus.services import allocation_award
from lending.models import LoanRequest
from lending.services import loan_recall
from metering.services import sacct_receive
from monitoring.models import CaseKind, CaseState, ReclamationCase, UsageReport
from tests import factories as f

KST = ZoneInfo("Asia/Seoul")
NOW = dt.datetime(2026, 7, 1, 9, 0, tzinfo=KST)
APR, MAY, JUN = dt.date(2026, 4, 1), dt.date(2026, 5, 1), dt.date(2026, 6, 1)


def at(month, day, hour=0):
    return dt.datetime(2026, month, day, hour, tzinfo=KST)


def _request(loan, *, submitted, decided, starts_on):
    LoanRequest.objects.filter(pk=loan.request_id).update(submitted_at=submitted, reviewed_at=decided, starts_on=starts_on)


@pytest.fixture
def small_world(db):
    with time_machine.travel(at(3, 20), tick=False):
        ministry = f.make_ministry("outm")
        cluster = f.make_cluster(servers=5, code="oc")
        s1, s2, s3, s4, s5 = cluster.servers.order_by("hostname")
        a = f.make_project(ministry, started=True, code="O-A", gpus=8)
        b = f.make_project(ministry, code="O-B", gpus=8, planned_start=dt.date(2026, 9, 1))
        c = f.make_project(ministry, started=True, code="O-C", gpus=8)
        f.award(a, [s1])
        f.award(b, [s2])
        f.award(c, [s4], end=JUN)
        allocation_award(actor=None, holder_kind=HolderKind.SUSPENDED, project=c, gpus=f.server_gpus(s4),
                         starts_at=f.day_start(JUN), ends_at=f.day_start(dt.date(2026, 6, 11)), reason="suspended",
                         check_permission=False)
        allocation_award(actor=None, holder_kind=HolderKind.RESERVE, gpus=f.server_gpus(s3), starts_at=f.day_start(MAY),
                         ends_at=f.day_start(dt.date(2027, 4, 1)), reason="reclaimed", check_permission=False)
        industry = f.make_organisation(name="산업체 X", kind="industry", region="capital")
        academia = f.make_organisation(name="대학 Y", kind="academia", region="non_capital")
        research = f.make_organisation(name="연구소 Z", kind="research", region="non_capital")
        s2_gpus, s5_gpus = f.server_gpus(s2)[:4], f.server_gpus(s5)[:2]
        l1 = f.make_loan(industry, gpus=s2_gpus, start=dt.date(2026, 5, 1), end=dt.date(2026, 5, 11))
        l4 = f.make_loan(industry, gpus=s2_gpus, start=dt.date(2026, 5, 20), end=dt.date(2026, 5, 30))
        l2 = f.make_loan(academia, gpus=f.server_gpus(s3), start=dt.date(2026, 6, 1), end=dt.date(2026, 6, 30))
        l3 = f.make_loan(research, gpus=s5_gpus, start=dt.date(2026, 4, 10), end=dt.date(2026, 4, 20))
    _request(l3, submitted=at(4, 1), decided=at(4, 2), starts_on=dt.date(2026, 4, 10))  # 1 day; waits 0
    _request(l1, submitted=at(4, 20), decided=at(4, 25), starts_on=dt.date(2026, 5, 1))  # 5 days; waits 0
    _request(l4, submitted=at(5, 1), decided=at(5, 3), starts_on=dt.date(2026, 5, 5))  # 2 days; waits from L1's end: 9
    _request(l2, submitted=at(5, 20), decided=at(5, 22), starts_on=dt.date(2026, 5, 25))  # 2 days; waits 7
    rejected = f.make_loan(academia, start=dt.date(2026, 7, 1), end=dt.date(2026, 7, 10)).request
    rejected.loan.delete()
    LoanRequest.objects.filter(pk=rejected.pk).update(state="rejected", submitted_at=at(5, 1), reviewed_at=at(5, 11))  # 10
    with time_machine.travel(at(5, 29), tick=False):
        loan_recall(actor=None, loan=l4, reason="B starts", check_permission=False)  # ends at its own end, 30 May
    with time_machine.travel(at(6, 14), tick=False):
        loan_recall(actor=None, loan=l2, reason="B starts", notice_hours=48, check_permission=False)  # ends 16 June
    reporter = f.make_user("official", ministry=ministry)
    for project, month, hours, state in [(a, APR, 3000, "accepted"), (a, MAY, 4000, "submitted"), (a, JUN, 5000, "draft"),
                                         (c, APR, 1000, "accepted"), (c, MAY, 2000, "returned")]:
        UsageReport.objects.create(project=project, month=month, gpu_hours_used=hours, peak_gpus_busy=8, within_purpose=True,
                                   ai_basic_act="yes", personal_information="na", training_data_copyright="yes",
                                   state=state, submitted_by=reporter, submitted_at=at(month.month + 1, 3))
    admin = f.make_user("msit_admin")
    # The scheduler saw project A's May: one job of 500 hours on its 8 GPUs (and nothing of C's, which is 0).
    line = "7|7|c|acct|u|COMPLETED|2026-05-10T00:00:00|2026-05-10T00:00:00|2026-05-30T20:00:00|1800000|gres/gpu=8|oc-001\n"
    with time_machine.travel(at(6, 2), tick=False):
        sacct_receive(actor=admin, provider=cluster.provider, file=io.BytesIO(line.encode()), month=MAY)
    ReclamationCase.objects.create(
        project=c, month=MAY, kind=CaseKind.UNDER_USE, state=CaseState.APPROVED, policy=programme_policy.for_write(),
        servers_held=1, proposed_servers=1, decided_servers=1, response_due=dt.date(2026, 6, 13), decided_at=at(6, 20),
        outcome={"servers": [s3.hostname], "to": "msit_reserve"},
    )
    # Ahead: a loan on B's server past its expected start, and a request waiting for July.
    f.make_loan(industry, gpus=f.server_gpus(s2)[4:6], start=dt.date(2026, 8, 15), end=dt.date(2026, 9, 20), state="scheduled")
    waiting = f.make_loan(academia, start=dt.date(2026, 7, 10), end=dt.date(2026, 8, 1)).request
    waiting.loan.delete()
    LoanRequest.objects.filter(pk=waiting.pk).update(state="submitted", gpu_count=4)
    with time_machine.travel(NOW, tick=False):
        yield {"a": a, "b": b, "c": c, "admin": admin, "auditor": f.make_user("auditor")}
