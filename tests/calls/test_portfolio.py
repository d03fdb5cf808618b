"""The ranked list applies the portfolio rules, with figures: eligibility, the cap per proposal, the
limit per organisation, the capacity per GPU model and the shares by organisation type, each
proposal in or out with the reason; at equal scores applicants outside the capital region first."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from calls.models import Call, CallKind, Proposal, Round
from calls.selectors import ProposalScore, ranked_list
from tests import factories as f

pytestmark = pytest.mark.django_db


def make(call, round_, org, gpus, months, score, minute):
    p = Proposal.objects.create(call=call, round=round_, organisation=org, title=f"{org.name} {gpus}×{months}",
                                gpu_model="B200", gpu_count=gpus, months=months,
                                submitted_at=timezone.now() + dt.timedelta(minutes=minute))
    p.organisation = org
    p.figures = ProposalScore(3, 3, Decimal(score), Decimal("0.5"))
    return p


def test_the_portfolio_rules_with_figures(db):
    # 1,024 B200 × 12 months = 12,288 GPU-months; shares 50/30/20: industry 6,144, academia 3,686,
    # research 2,457 (rounded down); the cap 128 × 12 = 1,536 per proposal; 2 per organisation.
    call = Call.objects.create(code="nat", kind=CallKind.NATIONAL, name_ko="n", name_en="n",
                               opens_on=dt.date(2026, 11, 2), cap_gpu_months=1536, limit_per_organisation=2,
                               shares={"industry": 50, "academia": 30, "research": 20}, prefers_non_capital=True,
                               eligible_kinds=["industry", "academia", "research"])
    call.capacity.create(gpu_model="B200", gpus=1024, months=12)
    r = Round.objects.create(call=call, number=1, opens_on=dt.date(2026, 11, 2), closes_on=dt.date(2026, 11, 30))
    ind = [f.make_organisation(kind="industry", region="capital") for _ in range(5)]
    uni = f.make_organisation(kind="academia", region="non_capital")
    uni_seoul = f.make_organisation(kind="academia", region="capital")
    lab = f.make_organisation(kind="research", region="non_capital")
    proposals = [
        make(call, r, ind[0], 128, 12, "4.9", 1),   # 1,536: in (industry 1,536)
        make(call, r, ind[0], 64, 12, "4.8", 2),    # 768: in (industry 2,304; ind[0] has 2)
        make(call, r, ind[0], 8, 12, "4.7", 3),     # organisation limit
        make(call, r, ind[1], 256, 12, "4.6", 4),   # 3,072 > 1,536: over the cap
        make(call, r, ind[1], 128, 12, "4.5", 5),   # in (industry 3,840)
        make(call, r, ind[2], 128, 12, "4.4", 6),   # in (industry 5,376)
        make(call, r, ind[3], 128, 12, "4.3", 7),   # 5,376 + 1,536 = 6,912 > 6,144: share full
        make(call, r, uni_seoul, 128, 12, "4.0", 8),  # same score as the next: the non-capital one first
        make(call, r, uni, 128, 12, "4.0", 9),      # in (academia 1,536)
        make(call, r, lab, 128, 12, "3.0", 10),     # in (research 1,536)
        make(call, r, ind[4], 8, 1, "2.0", 11),     # 8: industry 5,384 ≤ 6,144: in
    ]
    # uni_seoul: academia 1,536 + 1,536 = 3,072 ≤ 3,686: in, after uni.
    ranked = ranked_list(call, proposals)
    rows = [(x.proposal.title, x.selected, x.reason.split(":")[0]) for x in ranked]
    names = [x.proposal.organisation.pk for x in ranked]
    assert names.index(uni.pk) < names.index(uni_seoul.pk)  # the regional preference at equal scores
    by_title = {x.proposal.pk: (x.selected, x.reason) for x in ranked}
    expected = [True, True, False, False, True, True, False, True, True, True, True]
    assert [by_title[p.pk][0] for p in proposals] == expected, rows
    assert by_title[proposals[2].pk][1].startswith("Organisation limit: 2 proposal(s)")
    assert by_title[proposals[3].pk][1] == "Over the cap: 3,072 GPU-months asked, the cap is 1,536."
    assert by_title[proposals[6].pk][1] == "Share full: Industry may have 50% (6,144 GPU-months); 5,376 are in."
    # The capacity runs out: another 1,536 for research would make 12,288 + ... — fill it up.
    research = [make(call, r, f.make_organisation(kind="research"), 64, 12, "1.0", 20 + i) for i in range(2)]
    ranked = ranked_list(call, proposals + research)
    last = {x.proposal.pk: x for x in ranked}
    # research: 1,536 + 768 = 2,304 ≤ 2,457: in; + 768 = 3,072 > 2,457: share full.
    assert last[research[0].pk].selected and last[research[1].pk].reason.startswith("Share full: Research")
    # Outside eligibility.
    call.eligible_kinds = ["industry"]
    ranked = {x.proposal.pk: x for x in ranked_list(call, proposals)}
    assert ranked[uni.proposals.get().pk].reason.startswith("Outside eligibility: The call is not open to this type")


def test_the_capacity_runs_out(db):
    call = Call.objects.create(code="small", kind=CallKind.NATIONAL, name_ko="s", name_en="s", opens_on=dt.date(2026, 11, 2))
    call.capacity.create(gpu_model="B200", gpus=10, months=10)  # 100 GPU-months, no shares
    r = Round.objects.create(call=call, number=1, opens_on=dt.date(2026, 11, 2), closes_on=dt.date(2026, 11, 30))
    first = make(call, r, f.make_organisation(), 8, 12, "4", 1)  # 96: in
    second = make(call, r, f.make_organisation(), 8, 1, "3", 2)  # 96 + 8 = 104 > 100
    third = make(call, r, f.make_organisation(), 4, 1, "2", 3)  # 96 + 4 = 100: in
    ranked = {x.proposal.pk: x for x in ranked_list(call, [first, second, third])}
    assert ranked[first.pk].reason == "In: score 4.00 within every rule."
    assert ranked[second.pk].reason == "Capacity full: 4 of 100 GPU-months left."
    assert ranked[third.pk].selected
