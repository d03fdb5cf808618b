"""The 2026 programme as data in the database: ministries, projects, the providers' inventory, the
programme's pool and one award of whole servers per project. Idempotent."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext_noop

from allocation_portal.loading import sync_row
from allocation_portal.messages import msg
from gpus.availability import day_start
from gpus.models import (
    GPUS_PER_SERVER,
    Allocation,
    Cluster,
    Gpu,
    Pool,
    PoolKind,
    Provider,
    Server,
    ServerStatus,
)

from . import programme_2026 as data
from .models import Ministry, Project, ProjectStatus
from .services import project_award_servers, usage_plan_create_default

PROGRAMME_POOL = {
    "code": "nai-2026", "name_ko": "2026 국가 AI 프로젝트", "name_en": "2026 national AI projects",
    "kind": PoolKind.PROGRAMME, "published_gpus": data.PROGRAMME_GPUS, "opens_on": data.ANNOUNCED_ON,
}
OTHER_POOL = {"code": "gov-other", "name_ko": "정부 보유 기타 GPU", "name_en": "Other government GPUs", "kind": PoolKind.OTHER}


def pools_load() -> tuple[Pool, Pool]:
    """The 2026 programme's pool and the pool of the government's other GPUs."""
    programme, _created = sync_row(Pool, {"code": PROGRAMME_POOL["code"]},
                                {k: v for k, v in PROGRAMME_POOL.items() if k != "code"})
    other, _created = sync_row(Pool, {"code": OTHER_POOL["code"]}, {k: v for k, v in OTHER_POOL.items() if k != "code"})
    return programme, other


def _load_inventory(other: Pool) -> dict[str, Cluster]:
    clusters = {}
    for p in data.PROVIDERS:
        provider, _created = sync_row(
            Provider,
            {"code": p["code"]},
            {"name_ko": p["name_ko"], "name_en": p["name_en"], "source_note": p["source_note"]},
        )
        for c in p["clusters"]:
            cluster, _created = sync_row(
                Cluster,
                {"code": c["code"]},
                {"provider": provider, "name": c["name"], "gpu_model": c["gpu_model"], "data_centre": ""},
            )
            clusters[cluster.code] = cluster
            if not cluster.servers.exists():
                servers = Server.objects.bulk_create(
                    Server(
                        cluster=cluster,
                        pool=other,
                        hostname=f"{c['code']}-{n:04d}",
                        # The last servers of a cluster start in maintenance, for the demo.
                        status=ServerStatus.MAINTENANCE if n > c["servers"] - c["maintenance"] else ServerStatus.IN_SERVICE,
                    )
                    for n in range(1, c["servers"] + 1)
                )
                Gpu.objects.bulk_create(Gpu(server=s, index=i) for s in servers for i in range(GPUS_PER_SERVER))
    return clusters


def _assign_programme_pool(programme: Pool, rows: list[dict], placement: list[Cluster]) -> None:
    """The programme's pool is the servers its projects are awarded: the first in-service servers
    of each cluster, as many as the projects placed there need. Servers that projects or the
    reserve hold already stay where they are."""
    needed: dict[int, int] = {}
    for row, cluster in zip(rows, placement, strict=True):
        needed[cluster.pk] = needed.get(cluster.pk, 0) + row["gpus_awarded"] // GPUS_PER_SERVER
    for cluster_id, count in needed.items():
        have = Server.objects.filter(cluster_id=cluster_id, pool=programme).count()
        if have >= count:
            continue
        ids = list(
            Server.objects.filter(cluster_id=cluster_id, status=ServerStatus.IN_SERVICE)
            .exclude(pool=programme).order_by("hostname").values_list("pk", flat=True)[: count - have]
        )
        Server.objects.filter(pk__in=ids).update(pool=programme)


def _project_rows():
    ministries = {code: name for code, name, *_ in data.MINISTRIES}
    assert len(ministries) == data.PROGRAMME_MINISTRIES
    for named in data.NAMED_PROJECTS:
        yield {
            "code": f"NAI-2026-{named['rank']:02d}",
            "ministry": named["ministry"],
            "rank": named["rank"],
            "title_ko": named["title_ko"],
            "title_en": named["title_en"],
            "domain": named["domain"],
            "purpose": named["purpose"],
            "gpus_awarded": named["gpus"],
            "planned_start": named["planned_start"],
            "actual_start": named["actual_start"],
            "expected_start": named.get("expected_start"),
            "is_sample": False,
        }
    for index, (ministry, domain, servers, title_ko, title_en) in enumerate(data.SAMPLE_PROJECTS):
        schedule = data.sample_schedule(index)
        yield {
            "code": f"NAI-2026-{index + 8:02d}",
            "ministry": ministry,
            "rank": None,
            "title_ko": title_ko,
            "title_en": title_en,
            "domain": domain,
            "purpose": f"[예시 데이터] {title_ko} (sample data: {title_en}).",
            "gpus_awarded": servers * GPUS_PER_SERVER,
            **schedule,
            "is_sample": True,
        }


def programme_2026_load() -> dict[str, int]:
    """Load the 2026 programme: 25 ministries, 52 projects, the providers' inventory and one
    award of whole servers per project. Idempotent: a second run changes nothing."""
    changed = 0
    # Texts stored in the ledger are written in the portal's first language, whoever runs this.
    with translation.override("ko"), transaction.atomic():
        ministries = {}
        for code, name_ko, name_en, is_sample in data.MINISTRIES:
            ministry, was_changed = sync_row(
                Ministry, {"code": code}, {"name_ko": name_ko, "name_en": name_en, "is_sample": is_sample}
            )
            ministries[code] = ministry
            changed += was_changed
        programme, other = pools_load()
        clusters = _load_inventory(other)
        b200_clusters = [clusters["nhn-b200-a"], clusters["nhn-b200-b"], clusters["kakao-b200"]]
        rows = list(_project_rows())
        placement = [b200_clusters[i % len(b200_clusters)] if i >= 7 else b200_clusters[i % 2] for i in range(len(rows))]
        _assign_programme_pool(programme, rows, placement)
        for index, row in enumerate(rows):
            ministry = ministries[row.pop("ministry")]
            code = row.pop("code")
            row["status"] = ProjectStatus.ACTIVE if row["actual_start"] else ProjectStatus.PLANNED
            row["end_date"] = data.end_of_project(row["planned_start"])
            project, created = Project.objects.get_or_create(code=code, defaults={"ministry": ministry, "pool": programme, **row})
            changed += created
            if Allocation.objects.filter(project=project).exists():
                changed += bool(usage_plan_create_default(actor=None, project=project))
                continue
            # Awards date from the announcement: until a project starts its servers are idle (lendable).
            cluster = placement[index]
            project_award_servers(
                actor=None,
                project=project,
                cluster=cluster,
                server_count=project.gpus_awarded // GPUS_PER_SERVER,
                starts_at=day_start(data.ANNOUNCED_ON),
                ends_at=day_start(project.end_date + dt.timedelta(days=1)),
                reason=msg(gettext_noop("2026 national AI project award (MSIT announcement of 7 April 2026).")),
            )
            changed += 1
    return {
        "ministries": Ministry.objects.count(),
        "projects": Project.objects.count(),
        "gpus_awarded": sum(Project.objects.values_list("gpus_awarded", flat=True)),
        "servers": Server.objects.count(),
        "gpus": Gpu.objects.count(),
        "changed": changed,
    }
