"""The published 2026 programme, loaded exactly, and loaded only once however often the command runs."""

import pytest
from django.core.management import call_command

from allocation_portal.models import AuditEvent
from gpus.models import Allocation, AllocationGpu, Gpu, Provider, Server
from projects import programme_2026 as data
from projects.models import Ministry, Project

pytestmark = pytest.mark.django_db

# The announcement's table, as DOMAIN.md and ../shared/programme_2026.json publish it.
PUBLISHED_SEVEN = [
    (1, "산업통상부", "Ministry of Trade and Industry", 304,
     "소프트웨어 정의 차량(SDV) 전환 및 인공지능 미래 차 인공지능 통합 학습 기반(E2E) 자율주행 모델 고도화"),
    (2, "과학기술정보통신부", "Ministry of Science and ICT", 256, "산업 특화 기초 모형 사업(파운데이션 모델 프로젝트)"),
    (3, "중소벤처기업부", "Ministry of SMEs and Startups", 200,
     "혁신 인공지능 창업 초기 기업(스타트업) 전략 기술 상용화 및 인공지능 전환 가속 사업(프로젝트)"),
    (4, "기상청", "Korea Meteorological Administration", 128, "한국형 인공지능 기상·기후 기초 모형(파운데이션 모델) 개발"),
    (5, "보건복지부", "Ministry of Health and Welfare", 80, "인공지능 기본 의료"),
    (6, "문화체육관광부", "Ministry of Culture, Sports and Tourism", 64, "인공지능 융합콘텐츠 제작 활성화"),
    (7, "해양수산부", "Ministry of Oceans and Fisheries", 64, "북극항로 운영을 위한 실측 기반 통합 예측 기술 개발"),
]


@pytest.fixture
def programme():
    call_command("load_programme_2026", verbosity=0)


def test_it_loads_the_published_totals(programme):
    assert Project.objects.count() == 52
    assert Ministry.objects.count() == 25
    assert sum(Project.objects.values_list("gpus_awarded", flat=True)) == 2832
    assert AllocationGpu.objects.count() == 2832
    servers = Server.objects.filter(gpus__holdings__allocation__project__isnull=False).distinct().count()
    assert servers == 354


def test_it_loads_the_seven_named_projects_exactly(programme):
    rows = [
        (p.rank, p.ministry.name_ko, p.ministry.name_en, p.gpus_awarded, p.title_ko)
        for p in Project.objects.filter(rank__isnull=False).select_related("ministry").order_by("rank")
    ]
    assert rows == PUBLISHED_SEVEN
    assert sum(row[3] for row in rows) == 1096
    named = Project.objects.filter(rank__isnull=False)
    assert not named.filter(is_sample=True).exists()
    assert not Ministry.objects.filter(projects__in=named, is_sample=True).exists()


def test_it_flags_the_invented_rest_as_sample_data(programme):
    sample = Project.objects.filter(is_sample=True)
    assert sample.count() == 45
    assert sum(sample.values_list("gpus_awarded", flat=True)) == 1736
    assert Ministry.objects.filter(is_sample=True).count() == 18
    # Every project of a sample ministry is itself sample data.
    assert not Project.objects.filter(ministry__is_sample=True, is_sample=False).exists()


def test_it_awards_whole_servers_per_project(programme):
    for project in Project.objects.all():
        held = AllocationGpu.objects.filter(allocation__project=project)
        assert held.count() == project.gpus_awarded
        per_server = held.values("gpu__server").distinct().count()
        assert per_server * 8 == project.gpus_awarded


def test_it_loads_the_providers_government_gpus(programme):
    per_provider = {
        p.code: Gpu.objects.filter(server__cluster__provider=p).count() for p in Provider.objects.all()
    }
    assert per_provider == {"nhn-cloud": 6120, "kakao": 2040, "naver-cloud": 2296}
    assert Gpu.objects.count() == 10456
    assert Gpu.objects.filter(server__cluster__gpu_model="H200").count() == 2296


def test_it_spreads_starts_from_april_some_started_some_delayed(programme):
    import datetime as dt

    starts = Project.objects.values_list("planned_start", flat=True)
    assert min(starts) >= dt.date(2026, 4, 1)
    assert len({(d.year, d.month) for d in starts}) >= 6
    assert Project.objects.filter(actual_start__isnull=False).count() >= 10
    today = dt.date(2026, 11, 25)
    delayed = [p for p in Project.objects.all() if p.is_delayed(today)]
    assert len(delayed) >= 3
    assert Project.objects.filter(actual_start__isnull=True, planned_start__gt=today).exists()


def test_a_second_run_changes_nothing(programme):
    def state():
        return (
            list(Project.objects.order_by("code").values()),
            list(Ministry.objects.order_by("code").values()),
            Allocation.objects.count(),
            AllocationGpu.objects.count(),
            Server.objects.count(),
            Gpu.objects.count(),
            AuditEvent.objects.count(),
        )

    before = state()
    call_command("load_programme_2026", verbosity=0)
    assert state() == before


def test_the_data_module_adds_up():
    assert len(data.NAMED_PROJECTS) + len(data.SAMPLE_PROJECTS) == data.PROGRAMME_PROJECTS
    assert len(data.MINISTRIES) == data.PROGRAMME_MINISTRIES
    servers = sum(p["gpus"] for p in data.NAMED_PROJECTS) // 8 + sum(s[2] for s in data.SAMPLE_PROJECTS)
    assert servers == data.PROGRAMME_SERVERS
