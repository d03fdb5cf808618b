"""National-scale demo data: about 50,000 GPUs, 500 projects in 50 ministries, 36 months of plans
and reports, 5,000 short-term requests and their loans, and the audit events all that implies.

Reproducible from a seed; written with bulk inserts so that PostgreSQL fills in about a minute.
Everything is flagged as sample data. Run it on an empty database (`--reset` empties it first)."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, transaction
from django.db.backends.postgresql.psycopg_any import DateTimeTZRange
from django.utils import timezone

from allocation_portal import months
from allocation_portal.models import AuditEvent, Role, User
from gpus.availability import day_start
from gpus.models import (
    GPUS_PER_SERVER,
    Allocation,
    AllocationGpu,
    Cluster,
    Gpu,
    HolderKind,
    Layer,
    Pool,
    PoolKind,
    Provider,
    Server,
    ServerStatus,
)
from lending.models import Loan, LoanEnd, LoanRequest, LoanState, Organisation, RequestState
from monitoring.models import ReportState, UsageReport, UsageReportVersion
from projects.models import Ministry, Project, ProjectStatus, UsagePlan

BATCH = 5000
PASSWORD_HASH_USER = "scale"  # every generated account shares one hashed password (set once)


@dataclass
class Params:
    gpus: int = 50_000
    projects: int = 500
    ministries: int = 50
    months: int = 36
    requests: int = 5_000
    seed: int = 2026


PROVIDERS = [
    ("nhn-cloud", "NHN클라우드", "NHN Cloud", "B200", 0.35),
    ("kakao", "카카오", "Kakao", "B200", 0.15),
    ("naver-cloud", "네이버클라우드", "Naver Cloud", "H200", 0.2),
    ("kt-cloud", "KT클라우드 (예시)", "KT Cloud (sample)", "B200", 0.15),
    ("sds", "삼성SDS (예시)", "Samsung SDS (sample)", "B200", 0.15),
]


def _bulk(model, rows):
    for i in range(0, len(rows), BATCH):
        model.objects.bulk_create(rows[i : i + BATCH], batch_size=BATCH)


def generate(params: Params, *, log=print) -> dict:
    rng = random.Random(params.seed)
    now = timezone.now()
    this_month = months.current()
    first_month = months.add_months(this_month, -params.months)
    counts: dict[str, int] = {}

    with transaction.atomic():
        # --- inventory: providers -> clusters -> servers -> GPUs
        servers_total = params.gpus // GPUS_PER_SERVER
        providers, clusters = [], []
        for code, ko, en, _model, _share in PROVIDERS:
            providers.append(Provider(code=code, name_ko=ko, name_en=en, source_note="scale data"))
        _bulk(Provider, providers)
        providers = {p.code: p for p in Provider.objects.all()}
        cluster_sizes = []
        left = servers_total
        for index, (code, _ko, _en, model, share) in enumerate(PROVIDERS):
            size = left if index == len(PROVIDERS) - 1 else int(servers_total * share)
            left -= size
            halves = [size // 2, size - size // 2]
            for half_index, n in enumerate(halves):
                clusters.append(Cluster(provider=providers[code], code=f"{code}-{model.lower()}-{half_index + 1}",
                                        name=f"{en} {model} {half_index + 1}", gpu_model=model))
                cluster_sizes.append(n)
        _bulk(Cluster, clusters)
        clusters = list(Cluster.objects.order_by("id"))
        # The programme's pool is every B200 (70% awarded, the rest held by nobody and lendable); the
        # H200 are the government's other GPUs.
        programme = Pool.objects.create(code="scale-programme", name_ko="시범 사업 (예시)", name_en="Sample programme",
                                        kind=PoolKind.PROGRAMME, opens_on=first_month)
        other = Pool.objects.create(code="scale-other", name_ko="기타 GPU (예시)", name_en="Other GPUs (sample)",
                                    kind=PoolKind.OTHER)
        servers = []
        for cluster, n in zip(clusters, cluster_sizes, strict=True):
            for i in range(n):
                status = ServerStatus.MAINTENANCE if rng.random() < 0.01 else ServerStatus.IN_SERVICE
                servers.append(Server(cluster=cluster, hostname=f"{cluster.code}-{i + 1:05d}", status=status,
                                      pool=programme if cluster.gpu_model == "B200" else other))
        _bulk(Server, servers)
        servers = list(Server.objects.select_related("cluster").order_by("id"))
        _bulk(Gpu, [Gpu(server=s, index=i) for s in servers for i in range(GPUS_PER_SERVER)])
        gpu_ids = {}
        for gpu_id, server_id, index in Gpu.objects.values_list("id", "server_id", "index"):
            gpu_ids.setdefault(server_id, [None] * GPUS_PER_SERVER)[index] = gpu_id
        counts.update(servers=len(servers), gpus=len(servers) * GPUS_PER_SERVER)
        log(f"inventory: {counts['servers']} servers, {counts['gpus']} GPUs")

        # --- ministries, projects, awards
        _bulk(Ministry, [Ministry(code=f"scale-{i:03d}", name_ko=f"시범부처 {i:03d}", name_en=f"Sample ministry {i:03d}",
                                  is_sample=True) for i in range(1, params.ministries + 1)])
        ministries = list(Ministry.objects.filter(code__startswith="scale-").order_by("code"))
        b200 = [s for s in servers if s.cluster.gpu_model == "B200" and s.status == ServerStatus.IN_SERVICE]
        award_pool = b200[: int(len(b200) * 0.7)]  # 70% of B200 awarded to projects, the rest free for loans
        sizes = [max(1, int(rng.paretovariate(1.6))) for _ in range(params.projects)]
        scale = len(award_pool) / sum(sizes)
        sizes = [max(1, min(64, int(s * scale))) for s in sizes]
        projects, cursor = [], 0
        project_servers = []
        for i, size in enumerate(sizes):
            size = min(size, len(award_pool) - cursor)
            if size <= 0:
                size = 0
            planned_index = rng.randrange(0, params.months + 3)
            planned = months.add_months(first_month, planned_index).replace(day=rng.randint(1, 25))
            started = planned <= timezone.localdate() and rng.random() < 0.88
            actual = planned + dt.timedelta(days=rng.randint(0, 20)) if started else None
            if actual and actual > timezone.localdate():
                actual = None
            end = months.add_months(planned.replace(day=1), 24) - dt.timedelta(days=1)
            projects.append(Project(
                code=f"SCL-{i + 1:04d}", ministry=ministries[i % len(ministries)], title_ko=f"시범 과제 {i + 1:04d} (예시)",
                title_en=f"Sample project {i + 1:04d}", domain="science", purpose="[예시 데이터] scale data",
                gpus_awarded=max(size, 1) * GPUS_PER_SERVER, planned_start=planned, actual_start=actual,
                expected_start=None, end_date=end, status=ProjectStatus.ACTIVE if actual else ProjectStatus.PLANNED,
                is_sample=True, pool=programme, plan_start=actual or planned,
            ))
            project_servers.append(award_pool[cursor : cursor + size])
            cursor += size
        _bulk(Project, projects)
        projects = list(Project.objects.filter(code__startswith="SCL-").order_by("code"))
        allocations, by_project = [], {}
        for project, held in zip(projects, project_servers, strict=True):
            if not held:
                continue
            by_cluster = {}
            for server in held:
                by_cluster.setdefault(server.cluster_id, []).append(server)
            for cluster_id, group in by_cluster.items():
                allocation = Allocation(
                    public_id=uuid.uuid4(), holder_kind=HolderKind.PROJECT, layer=Layer.AWARD, project=project,
                    cluster_id=cluster_id, gpu_count=len(group) * GPUS_PER_SERVER,
                    starts_at=day_start(first_month), ends_at=day_start(project.end_date + dt.timedelta(days=1)),
                    planned_ends_at=day_start(project.end_date + dt.timedelta(days=1)), reason="scale data award",
                )
                allocations.append(allocation)
                by_project.setdefault(allocation.public_id, group)
        _bulk(Allocation, allocations)
        rows = []
        starts = dict(Project.objects.filter(code__startswith="SCL-").values_list("pk", "actual_start"))
        for allocation in Allocation.objects.filter(holder_kind=HolderKind.PROJECT):
            period = DateTimeTZRange(allocation.starts_at, allocation.ends_at, "[)")
            actual = starts[allocation.project_id]
            # A started project uses its GPUs from its start (no loan sits on awarded servers here).
            in_use = max(allocation.starts_at, day_start(actual)) if actual else None
            for server in by_project[allocation.public_id]:
                rows += [AllocationGpu(allocation_id=allocation.pk, gpu_id=g, layer=Layer.AWARD, period=period,
                                       in_use_from=in_use)
                         for g in gpu_ids[server.pk]]
        _bulk(AllocationGpu, rows)
        counts.update(projects=len(projects), awards=len(allocations), awarded_gpus=len(rows))
        log(f"projects: {len(projects)} in {len(ministries)} ministries, {len(rows)} GPUs awarded")

        # --- plans and reports: 36 months
        plans, reports = [], []
        for project in projects:
            start = project.actual_start or project.planned_start
            share = Decimal("0.25") if rng.random() < 0.12 else Decimal(str(round(rng.uniform(0.7, 1.05), 2)))
            for index, month in enumerate(months.months_between(max(start, first_month), project.end_date)):
                hours = Decimal(project.gpus_awarded * months.hours_in(month)) * (Decimal("0.3") if index == 0 else Decimal("0.8"))
                plans.append(UsagePlan(project=project, month=month, planned_gpu_hours=hours.quantize(Decimal(1))))
                if project.actual_start and month < this_month and month >= months.first_day(project.actual_start):
                    if month == months.add_months(this_month, -1) and rng.random() < 0.1:
                        continue  # missing
                    used = min(hours * share, Decimal(project.gpus_awarded * months.hours_in(month)) * Decimal("0.95"))
                    if month == months.first_day(project.actual_start):
                        used = used * Decimal("0.3")
                    due = months.due_date(month)
                    submitted = timezone.make_aware(dt.datetime.combine(
                        due + dt.timedelta(days=rng.choice([-3, -2, -1, 0, 2, 6])), dt.time(10)))
                    reports.append(UsageReport(
                        public_id=uuid.uuid4(), project=project, month=month,
                        state=ReportState.SUBMITTED if month == months.add_months(this_month, -1) else ReportState.ACCEPTED,
                        gpu_hours_used=used.quantize(Decimal("0.1")), peak_gpus_busy=project.gpus_awarded,
                        within_purpose=rng.random() > 0.003, ai_basic_act="yes", personal_information="na",
                        training_data_copyright="yes", notes="scale data", submitted_at=min(submitted, now),
                        decided_at=min(submitted, now) if month < months.add_months(this_month, -1) else None,
                    ))
        _bulk(UsagePlan, plans)
        for report in reports:
            if report.within_purpose is False:
                report.notes = "scale data: declared off-purpose use"
        _bulk(UsageReport, reports)
        saved = list(UsageReport.objects.values_list("id", "version", "state", "submitted_at", "gpu_hours_used"))
        _bulk(UsageReportVersion, [
            UsageReportVersion(report_id=rid, version=v, state=state, event="submitted", at=at,
                               data={"gpu_hours_used": str(used)})
            for rid, v, state, at, used in saved
        ])
        counts.update(plans=len(plans), reports=len(reports))
        log(f"plans: {len(plans)}, reports: {len(reports)}")

        # --- organisations, applicants, requests and loans
        orgs = [Organisation(name=f"시범기관 {i:04d} (예시)", kind=rng.choice(["industry", "academia", "research"]),
                             region=rng.choice(["capital", "non_capital"]), registration_number=f"SCALE-{i:06d}",
                             is_sample=True) for i in range(1, params.requests // 6 + 2)]
        _bulk(Organisation, orgs)
        orgs = list(Organisation.objects.filter(registration_number__startswith="SCALE-").order_by("id"))
        template = User(username="scale-template")
        template.set_password("scale-data-password")
        users = [User(username=f"scale-applicant-{o.pk}", role=Role.APPLICANT, organisation=o, password=template.password,
                      email=f"applicant{o.pk}@scale.example.kr") for o in orgs]
        _bulk(User, users)
        applicants = {u.organisation_id: u for u in User.objects.filter(username__startswith="scale-applicant-")}
        free_servers = [s for s in b200[len(award_pool):] if s.status == ServerStatus.IN_SERVICE]
        slot_free_from: dict[tuple[int, int], dt.datetime] = {}
        requests = []
        today = timezone.localdate()
        for i in range(params.requests):
            org = orgs[i % len(orgs)]
            open_request = i >= params.requests * 0.9
            if open_request:
                start = today + dt.timedelta(days=rng.randint(3, 60))
                state = RequestState.SUBMITTED
            else:
                start = first_month + dt.timedelta(days=int(i * (params.months * 30.4) / params.requests))
                state = rng.choices([RequestState.APPROVED, RequestState.REJECTED, RequestState.WITHDRAWN], [70, 20, 10])[0]
            days = rng.randint(14, 85)
            count = rng.choice([1, 2, 4, 4, 8, 8, 16])
            requests.append(LoanRequest(
                public_id=uuid.uuid4(), organisation=org, submitted_by=applicants[org.pk], gpu_model="B200", gpu_count=count,
                starts_on=start, ends_on=start + dt.timedelta(days=days), purpose="scale data", expected_results="scale data",
                personal_information="na", training_data_copyright="yes", ai_basic_act="yes", accepts_recall_terms=True,
                state=state, score=Decimal(rng.randint(40, 95)) if rng.random() < 0.8 else None, pool=programme,
                submitted_at=timezone.make_aware(dt.datetime.combine(start - dt.timedelta(days=rng.randint(3, 20)), dt.time(9))),
            ))
        # Decided some hours to ten days after submission (a random stream of its own, so every other
        # figure stays what the seed gave before).
        decide = random.Random(params.seed + 1)
        for request in requests:
            if request.state in (RequestState.APPROVED, RequestState.REJECTED):
                request.reviewed_at = min(request.submitted_at + dt.timedelta(hours=decide.randint(4, 240)), now)
        _bulk(LoanRequest, requests)
        approved = list(LoanRequest.objects.filter(state=RequestState.APPROVED).order_by("starts_on", "id"))
        loans, loan_slots = [], []
        server_index = 0
        for request in approved:
            lo, hi = day_start(request.starts_on), day_start(request.ends_on + dt.timedelta(days=1))
            slots = []
            for _attempt in range(len(free_servers)):
                server = free_servers[server_index % len(free_servers)]
                server_index += 1
                free = [i for i in range(GPUS_PER_SERVER) if slot_free_from.get((server.pk, i), lo) <= lo]
                need = request.gpu_count
                if need >= GPUS_PER_SERVER:
                    if len(free) == GPUS_PER_SERVER:
                        slots.append((server, list(range(GPUS_PER_SERVER))))
                        if sum(len(s) for _x, s in slots) >= need:
                            break
                elif len(free) >= need:
                    slots = [(server, free[:need])]
                    break
            if sum(len(s) for _x, s in slots) < request.gpu_count:
                LoanRequest.objects.filter(pk=request.pk).update(state=RequestState.REJECTED)
                continue
            for server, taken in slots:
                for slot in taken:
                    slot_free_from[(server.pk, slot)] = hi
            ended = hi <= now
            state = LoanState.ENDED if ended else (LoanState.ACTIVE if lo <= now else LoanState.SCHEDULED)
            loans.append(Loan(public_id=uuid.uuid4(), request=request, organisation_id=request.organisation_id,
                              gpu_model="B200", gpu_count=request.gpu_count, starts_at=lo, ends_at=hi, state=state,
                              end_reason=LoanEnd.COMPLETED if ended else "", ended_at=hi if ended else None))
            loan_slots.append(slots)
        _bulk(Loan, loans)
        saved_loans = {loan.request_id: loan for loan in Loan.objects.all()}
        allocations, pending_rows = [], []
        for loan, slots in zip(loans, loan_slots, strict=True):
            saved_loan = saved_loans[loan.request_id]
            by_cluster = {}
            for server, taken in slots:
                by_cluster.setdefault(server.cluster_id, []).extend(gpu_ids[server.pk][i] for i in taken)
            for cluster_id, ids in by_cluster.items():
                allocation = Allocation(public_id=uuid.uuid4(), holder_kind=HolderKind.LOAN, layer=Layer.LOAN,
                                        loan=saved_loan, cluster_id=cluster_id, gpu_count=len(ids), starts_at=loan.starts_at,
                                        ends_at=loan.ends_at, planned_ends_at=loan.ends_at, reason="scale data loan")
                allocations.append(allocation)
                pending_rows.append((allocation.public_id, ids, loan.starts_at, loan.ends_at))
        _bulk(Allocation, allocations)
        ids_by_public = dict(Allocation.objects.filter(holder_kind=HolderKind.LOAN).values_list("public_id", "id"))
        _bulk(AllocationGpu, [
            AllocationGpu(allocation_id=ids_by_public[pid], gpu_id=g, layer=Layer.LOAN, period=DateTimeTZRange(lo, hi, "[)"))
            for pid, ids, lo, hi in pending_rows for g in ids
        ])
        counts.update(organisations=len(orgs), requests=len(requests), loans=len(loans))
        log(f"requests: {len(requests)}, loans: {len(loans)}")

        # --- the audit trail all that implies
        events = []
        for kind, qs, action in (
            ("gpus.allocation", Allocation.objects.values_list("public_id", "created_at"), "allocation.award"),
            ("monitoring.usagereport", UsageReport.objects.values_list("public_id", "submitted_at"), "report.submitted"),
            ("gpus.loanrequest", LoanRequest.objects.values_list("public_id", "submitted_at"), "loan_request.submit"),
            ("gpus.loan", Loan.objects.values_list("public_id", "created_at"), "loan.create"),
        ):
            events += [AuditEvent(at=at or now, actor_name="scale", actor_role="system", action=action, object_type=kind,
                                  object_id=str(pid), object_repr="scale data", after={"scale": True}) for pid, at in qs]
        _bulk(AuditEvent, events)
        counts["audit_events"] = len(events)
        log(f"audit events: {len(events)}")

        admin, _created = User.objects.get_or_create(username="scale-admin", defaults={"role": Role.ADMIN, "is_staff": True})
        admin.set_password("scale-data-password")
        admin.role = Role.ADMIN
        admin.save()
        official, _created = User.objects.get_or_create(
            username="scale-official", defaults={"role": Role.OFFICIAL, "ministry": ministries[0]}
        )
        official.set_password("scale-data-password")
        official.save()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return counts
