"""Today's data survives the migrations: a database at the schema the portal had before pools, the
cross-layer rule, the core's policy and notices, and the lending app (the last migrations that
shipped), with a started project, its award, a loan on an idle server, a case and a notice in it,
is migrated to the latest schema; the data is all there, in its new homes, and the new rules hold."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.db.backends.postgresql.psycopg_any import DateTimeTZRange
from django.db.migrations.executor import MigrationExecutor

pytestmark = [pytest.mark.django_db(transaction=True)]

KST = ZoneInfo("Asia/Seoul")
BEFORE = [
    ("allocation_portal", "0003_audit_append_only"),
    ("gpus", "0003_alter_loanrequest_ai_basic_act_and_more"),
    ("projects", "0003_projectgpurequest"),
    ("monitoring", "0003_alter_notification_kind_checkrun_reclamationpolicy_and_more"),
]


def at(day, hour=0):
    return dt.datetime.combine(day, dt.time(hour), tzinfo=KST)


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return MigrationExecutor(connection).loader.project_state(targets).apps


def test_todays_data_is_migrated_to_the_latest_schema():
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    old = migrate(BEFORE)
    try:
        Ministry = old.get_model("projects", "Ministry")
        Project = old.get_model("projects", "Project")
        Provider = old.get_model("gpus", "Provider")
        Cluster = old.get_model("gpus", "Cluster")
        Server = old.get_model("gpus", "Server")
        Gpu = old.get_model("gpus", "Gpu")
        Allocation = old.get_model("gpus", "Allocation")
        AllocationGpu = old.get_model("gpus", "AllocationGpu")
        Organisation = old.get_model("gpus", "Organisation")
        LoanRequest = old.get_model("gpus", "LoanRequest")
        Loan = old.get_model("gpus", "Loan")
        User = old.get_model("allocation_portal", "User")
        Notification = old.get_model("monitoring", "Notification")
        ReclamationPolicy = old.get_model("monitoring", "ReclamationPolicy")
        ReclamationCase = old.get_model("monitoring", "ReclamationCase")

        ministry = Ministry.objects.create(code="m", name_ko="가부", name_en="M")
        started = Project.objects.create(code="P-START", ministry=ministry, title_ko="t", title_en="t", domain="science",
                                         gpus_awarded=8, planned_start=dt.date(2026, 5, 1), actual_start=dt.date(2026, 5, 4),
                                         end_date=dt.date(2027, 3, 31), status="active")
        idle = Project.objects.create(code="P-IDLE", ministry=ministry, title_ko="t", title_en="t", domain="science",
                                      gpus_awarded=8, planned_start=dt.date(2026, 12, 1), end_date=dt.date(2027, 3, 31))
        cluster = Cluster.objects.create(provider=Provider.objects.create(code="p", name_ko="p", name_en="p"),
                                         code="c", name="C", gpu_model="B200")
        servers = [Server.objects.create(cluster=cluster, hostname=f"c-{i}") for i in range(3)]
        gpus = {s.pk: [Gpu.objects.create(server=s, index=i) for i in range(8)] for s in servers}
        lo, hi = at(dt.date(2026, 4, 7)), at(dt.date(2027, 4, 1))
        for project, server in ((started, servers[0]), (idle, servers[1])):
            entry = Allocation.objects.create(holder_kind="project", layer="award", project=project, cluster=cluster,
                                              gpu_count=8, starts_at=lo, ends_at=hi, planned_ends_at=hi, reason="award")
            AllocationGpu.objects.bulk_create(AllocationGpu(allocation=entry, gpu=g, layer="award",
                                                            period=DateTimeTZRange(lo, hi, "[)")) for g in gpus[server.pk])
        org = Organisation.objects.create(name="기관", kind="academia", region="non_capital", registration_number="R-1")
        user = User.objects.create(username="u", role="applicant", organisation=org)
        request = LoanRequest.objects.create(organisation=org, submitted_by=user, gpu_model="B200", gpu_count=2,
                                             starts_on=dt.date(2026, 9, 1), ends_on=dt.date(2026, 9, 30), purpose="p",
                                             expected_results="r", personal_information="na", training_data_copyright="yes",
                                             ai_basic_act="yes", accepts_recall_terms=True, state="approved",
                                             submitted_at=at(dt.date(2026, 8, 20)))
        loan = Loan.objects.create(request=request, organisation=org, gpu_model="B200", gpu_count=2,
                                   starts_at=at(dt.date(2026, 9, 1)), ends_at=at(dt.date(2026, 10, 1)), state="active",
                                   renewal_state="requested")
        loan_entry = Allocation.objects.create(holder_kind="loan", layer="loan", loan=loan, cluster=cluster, gpu_count=2,
                                               starts_at=loan.starts_at, ends_at=loan.ends_at, planned_ends_at=loan.ends_at,
                                               reason="loan")
        AllocationGpu.objects.bulk_create(AllocationGpu(allocation=loan_entry, gpu=g, layer="loan",
                                                        period=DateTimeTZRange(loan.starts_at, loan.ends_at, "[)"))
                                          for g in gpus[servers[1].pk][:2])
        policy, _created = ReclamationPolicy.objects.get_or_create(version=1, defaults={"grace_months": 2})
        ReclamationCase.objects.create(project=started, month=dt.date(2026, 8, 1), kind="under_use", policy=policy,
                                       servers_held=1, proposed_servers=1, response_due=dt.date(2026, 9, 17))
        Notification.objects.create(user=user, kind="general", title="t", body="b", dedup_key="k")
    finally:
        migrate(latest)

    from allocation_portal.models import Notification as CoreNotification
    from allocation_portal.models import Policy
    from gpus.models import AllocationGpu as NewAllocationGpu
    from gpus.models import Server as NewServer
    from lending.models import Loan as NewLoan
    from monitoring.models import ReclamationCase as NewCase
    from projects.models import Project as NewProject

    # Pools: the servers projects hold are the programme's; the one nobody held is the government's other GPUs.
    pools = dict(NewServer.objects.values_list("hostname", "pool__code"))
    assert pools == {"c-0": "nai-2026", "c-1": "nai-2026", "c-2": "gov-other"}
    assert set(NewProject.objects.values_list("pool__code", flat=True)) == {"nai-2026"}
    # The started project uses its GPUs from its start; the idle one uses none; the loan uses its period.
    used = {r.allocation.project.code if r.allocation.project else "loan": r.in_use_from
            for r in NewAllocationGpu.objects.select_related("allocation__project")}
    assert used["P-START"] == at(dt.date(2026, 5, 4)) and used["P-IDLE"] is None and used["loan"] is None
    assert NewAllocationGpu.objects.filter(occupied__isnull=False).count() == 8 + 2
    # The lending models answer from their new app, on the same rows.
    moved = NewLoan.objects.select_related("request__organisation").get()
    assert moved.request.organisation.name == "기관" and moved.allocations.get().gpu_rows.count() == 2
    assert moved.renewals == 1 and moved.request.pool.code == "nai-2026"
    # The request is a proposal of the rolling call, in the round of its submission day (Seoul).
    proposal = moved.request.proposal
    assert proposal.call.code == "short-term-rolling" and proposal.state == "selected"
    assert proposal.round.opens_on <= proposal.submitted_at.astimezone(KST).date() <= proposal.round.closes_on
    assert (proposal.gpu_model, proposal.gpu_count, proposal.organisation_id) == ("B200", 2, moved.organisation_id)
    # The policy and the notices are the core's; the case keeps its policy.
    assert NewCase.objects.get().policy.version == 1 and Policy.objects.get(version=1).grace_days == 60
    assert CoreNotification.objects.get().dedup_key == "k"


def test_portal_text_written_in_the_writers_language_becomes_its_source_string(clock):
    """A bulk upload's version note, an early return's ledger reason, a redistribution's note on a request
    and an off-purpose case opened from a report were stored in Korean; after the migration each reads in its reader's language. The
    migrations change data only, so the rows are made with today's models at the schema before them."""
    from allocation_portal.messages import render
    from gpus.models import Allocation
    from lending.models import LoanRequest
    from monitoring.models import ReclamationCase, UsageReportVersion
    from monitoring.services import report_save
    from tests import factories as f
    from tests.monitoring.conftest import values

    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    migrate([("monitoring", "0008_watched_for_kept_figures"), ("gpus", "0010_watched_for_kept_figures"),
             ("lending", "0004_watched_for_kept_figures")])
    try:
        ministry = f.make_ministry("mina")
        project = f.make_project(ministry, started=True, code="PA-001", gpus=8)
        cluster = f.make_cluster(servers=2)
        f.award(project, [cluster.servers.order_by("hostname")[0]])
        report = report_save(actor=None, project=project, month=dt.date(2026, 7, 1), submit=True,
                             values=values(gpu_hours_used=Decimal(4000), peak_gpus_busy=8, within_purpose=False,
                                           notes="외부 과제 학습"))
        UsageReportVersion.objects.filter(report=report).update(note="일괄 업로드.")
        ReclamationCase.objects.filter(source_report=report).update(evidence_note="2026-07 보고서에서 신고: 외부 과제 학습")
        org = f.make_organisation(name="기관")
        loan = f.make_loan(org, gpus=f.server_gpus(cluster.servers.order_by("hostname")[1]),
                           start=dt.date(2026, 7, 20), end=dt.date(2026, 9, 30))
        Allocation.objects.filter(loan=loan).update(release_reason="조기 반납.", release_reason_msg=None)
        LoanRequest.objects.filter(pk=loan.request_id).update(review_note="재배분으로 승인.")
    finally:
        migrate(latest)

    assert set(UsageReportVersion.objects.values_list("note", flat=True)) == {"Bulk upload."}
    assert ReclamationCase.objects.get(source_report__month=dt.date(2026, 7, 1)).evidence_note == "외부 과제 학습"
    released = Allocation.objects.get(loan__organisation__name="기관")
    assert render(released.release_reason_msg, "en") == "Returned early." and released.release_reason == "조기 반납."
    assert render(LoanRequest.objects.get(organisation__name="기관").review_note, "en") == "Approved through redistribution."
