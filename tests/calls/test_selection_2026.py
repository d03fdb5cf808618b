"""The 2026 selection as a record: the call, its criteria and stages, 121 proposals from 28 ministries
(the unnamed ones sample data), the 52 selected linked to their projects with their awards, loaded
once however often the command runs; the programme overview and each project's page say how the
projects were chosen."""

import pytest
from django.core.management import call_command

from calls.models import Proposal, Stage
from calls.selection_2026 import CALL_CODE
from calls.selectors import call_selection
from projects.models import Ministry, Project
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def selection():
    call_command("load_selection_2026", verbosity=0)


def test_it_loads_the_published_totals_exactly(selection):
    proposals = Proposal.objects.filter(call__code=CALL_CODE)
    assert proposals.count() == 121
    assert proposals.values("ministry").distinct().count() == 28
    selected = proposals.filter(state="selected")
    assert selected.count() == 52 and selected.values("ministry").distinct().count() == 25
    assert sum(selected.values_list("award_gpus", flat=True)) == 2832
    # Each selected proposal is its project's, with the project's award; each project has one.
    assert not selected.filter(project__isnull=True).exists()
    assert Project.objects.filter(proposal__isnull=True).count() == 0
    for proposal in selected.select_related("project"):
        assert (proposal.award_gpus, proposal.ministry_id) == (proposal.project.gpus_awarded, proposal.project.ministry_id)
    named = selected.filter(project__rank__isnull=False).order_by("rank")
    assert [(p.rank, p.award_gpus, p.is_sample) for p in named] == [
        (1, 304, False), (2, 256, False), (3, 200, False), (4, 128, False), (5, 80, False), (6, 64, False), (7, 64, False)]
    # What was not published is sample data: the 45 other projects' proposals, the 69 not selected,
    # the three ministries that proposed and had nothing selected.
    assert selected.filter(is_sample=True).count() == 45
    not_selected = proposals.filter(state="not_selected")
    assert not_selected.count() == 69 and not not_selected.filter(is_sample=False).exists()
    assert not not_selected.exclude(award_gpus=None).exists() and not not_selected.exclude(project=None).exists()
    others = Ministry.objects.exclude(projects__isnull=False).distinct()
    assert sorted(others.values_list("code", flat=True)) == ["kasa", "mofa", "rda"]
    assert not others.filter(is_sample=False).exists()


def test_the_stages_count_121_to_52(selection, django_assert_num_queries):
    stages = Stage.objects.filter(call__code=CALL_CODE).order_by("position")
    assert [s.code for s in stages] == ["prescreening", "interviews", "committee"]
    committee = stages.get(code="committee")
    assert (str(committee.starts_on), str(committee.ends_on)) == ("2026-03-30", "2026-03-31")
    with django_assert_num_queries(5):  # the call, its criteria, its stages, the counts, the ministries
        found = call_selection(CALL_CODE)
    assert (found.proposals, found.ministries, found.selected, found.ministries_selected, found.gpus_awarded) == (
        121, 28, 52, 25, 2832)
    assert [(s.stage.code, s.reached, s.passed, s.out) for s in found.stages] == [
        ("prescreening", 121, 88, 33), ("interviews", 88, 64, 24), ("committee", 64, 52, 12)]
    assert [c.name_en for c in found.call.criteria.all()] == [
        "National strategic importance", "Technological and social ripple effect", "Need for government-led execution"]


def test_a_second_load_changes_nothing(selection):
    before = list(Proposal.objects.order_by("pk").values_list("pk", "state", "stage_reached", "award_gpus", "title"))
    out = __import__("io").StringIO()
    call_command("load_selection_2026", stdout=out)
    assert "0 changes" in out.getvalue()
    assert list(Proposal.objects.order_by("pk").values_list("pk", "state", "stage_reached", "award_gpus", "title")) == before


def test_the_programme_page_and_a_project_page_say_how_they_were_chosen(selection, client_for,
                                                                        django_assert_num_queries):
    from calls.selectors import kept_call_selection

    assert kept_call_selection(CALL_CODE).proposals == 121
    with django_assert_num_queries(1):  # kept: the change number only
        assert kept_call_selection(CALL_CODE).selected == 52
    admin = f.make_user("msit_admin", username="sel-admin")
    page = client_for(admin).get("/programme/").content.decode()
    assert 'data-testid="selection-2026"' in page
    assert "121 proposals from 28 ministries → 88 → 64 → 52 selected from 25 ministries" in page
    assert "Coordination committee deliberation and selection" in page and "Need for government-led execution" in page
    korean = client_for(admin, lang="ko").get("/programme/").content.decode()
    assert "조정위원회 심의 및 선정" in korean and "정부 주도 수행 필요성" in korean
    kma = Ministry.objects.get(code="kma")
    official = f.make_user("official", username="sel-kma", ministry=kma)
    project = client_for(official).get("/projects/NAI-2026-04/").content.decode()
    assert 'data-testid="project-selection"' in project and "B200 ×128" in project
    assert project.count("passed") == 2 and "selected" in project.split('data-testid="project-stages"')[1][:2000]
    # The loader's reasons are stored once and read in the reader's language.
    assert "Selected by the 6th Science &amp; Technology Ministers&#x27; Meeting" in project
    korean = client_for(official, lang="ko").get("/projects/NAI-2026-04/").content.decode()
    assert "제6회 과학기술관계장관회의(2026년 3월 30–31일)에서 선정" in korean
