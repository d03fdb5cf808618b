"""The review pages and API: a reviewer sees only what is assigned to them (404 otherwise), MSIT
assigns (a conflicted reviewer refused with the reason on the page and in the API's error), sees
scores, spread and comments, and decides; every list pins its queries."""

import pytest

from allocation_portal.models import Role
from calls import services_review as review
from calls.models import Proposal
from tests import factories as f

from .conftest import CODES
from .test_review import scores

pytestmark = pytest.mark.django_db


def test_a_reviewer_sees_only_assigned_proposals(world, setup, client_for, api_for, submit,
                                                 django_assert_num_queries):
    proposal, (one, two, _three) = setup
    other = Proposal.objects.get(loan_request=submit(actor=world.outsider_applicant))
    mine = review.assignment_create(actor=world.admin, proposal=proposal, reviewer=one)
    theirs = review.assignment_create(actor=world.admin, proposal=other, reviewer=two)
    page = client_for(one)
    with django_assert_num_queries(5):  # session, user, assignments, conflicts, notifications count
        listing = page.get("/reviews/")
    text = listing.content.decode()
    assert listing.status_code == 200 and f"/reviews/{mine.public_id}/" in text and str(theirs.public_id) not in text
    assert page.get(f"/reviews/{theirs.public_id}/").status_code == 404
    assert page.get(f"/calls/short-term-rolling/proposals/{proposal.public_id}/").status_code == 403
    api = api_for(one)
    assert [p["id"] for p in api.get("/api/v1/call-proposals/").json()["results"]] == [str(proposal.public_id)]
    assert api.get(f"/api/v1/call-proposals/{other.public_id}/").status_code == 404
    assert api.get(f"/api/v1/reviews/{theirs.public_id}/").status_code == 404
    # The reviewer scores on the page; a missing comment is a clear error, not a 500.
    form = {f"score_{c}": "4" for c in CODES} | {f"comment_{c}": "fine" for c in CODES}
    bad = page.post(f"/reviews/{mine.public_id}/", {**form, "comment_impact": ""})
    assert bad.status_code == 400 and "errorlist" in bad.content.decode()
    assert page.post(f"/reviews/{mine.public_id}/", form).status_code == 302
    assert mine.scores.count() == 3


def test_msit_assigns_on_the_page_and_a_conflict_is_refused(world, setup, client_for, api_for, submit,
                                                            django_assert_num_queries):
    proposal, (one, two, three) = setup
    two.organisation = world.org_a
    two.save()
    admin = client_for(world.admin)
    url = f"/calls/short-term-rolling/proposals/{proposal.public_id}/"
    assert admin.post(url + "assign/", {"reviewer": one.username}).status_code == 302
    refused = admin.post(url + "assign/", {"reviewer": two.username})
    assert refused.status_code == 400 and "belongs to the applicant&#x27;s organisation" in refused.content.decode()
    assert admin.post(url + "assign/", {"reviewer": "nobody"}).status_code == 400
    assert admin.post(url + "nonsense/", {}).status_code == 404
    api = api_for(world.admin)
    error = api.post(f"/api/v1/call-proposals/{proposal.public_id}/assign/", {"reviewer": two.username}, format="json")
    assert error.status_code == 409 and error.json()["error"]["code"] == "conflict_of_interest"
    assert "reviewer" in error.json()["error"]["fields"]
    created = api.post(f"/api/v1/call-proposals/{proposal.public_id}/assign/", {"reviewer": three.username}, format="json")
    assert created.status_code == 201
    review.review_submit(actor=one, assignment=proposal.assignments.get(reviewer=one), scores=scores(4, 3, 5))
    # session, user, proposal, assignments, scores, their criteria, criteria, the call's stages, notices
    with django_assert_num_queries(9):
        detail = admin.get(url)
    text = detail.content.decode()
    assert "why impact" in text and "1/3" in text and "4.00" in text
    third = f.make_user(Role.REVIEWER, username="expert9")
    api.post(f"/api/v1/call-proposals/{proposal.public_id}/assign/", {"reviewer": third.username}, format="json")
    # session, user, the call and its 5 prefetches, proposals, assignments, scores, their criteria, notices:
    # the same for one proposal or two.
    with django_assert_num_queries(13):
        listing = admin.get("/calls/short-term-rolling/proposals/")
    assert listing.status_code == 200
    submit(actor=world.outsider_applicant)
    with django_assert_num_queries(13):
        listing = admin.get("/calls/short-term-rolling/proposals/")
    assert listing.content.decode().count("data-proposal=") == 2


def test_the_api_scores_and_decides(world, setup, api_for):
    proposal, reviewers = setup
    for reviewer in reviewers:
        assignment = review.assignment_create(actor=world.admin, proposal=proposal, reviewer=reviewer)
        body = {"scores": [{"criterion": c, "score": 5, "comment": "strong"} for c in CODES]}
        answer = api_for(reviewer).post(f"/api/v1/reviews/{assignment.public_id}/scores/", body, format="json")
        assert answer.status_code == 200 and len(answer.json()["scores"]) == 3
    bad = api_for(reviewers[0]).post(f"/api/v1/reviews/{assignment.public_id}/scores/", body, format="json")
    assert bad.status_code == 404  # not their assignment: as if it did not exist
    one = api_for(world.admin).get(f"/api/v1/call-proposals/{proposal.public_id}/").json()
    assert one["figures"] == {"reviews": 3, "needed": 3, "score": "5.00", "spread": "0.00"}
    decided = api_for(world.admin).post(f"/api/v1/call-proposals/{proposal.public_id}/decide/",
                                        {"selected": True, "rank": 1, "reason": "First"}, format="json")
    assert decided.status_code == 200 and decided.json()["state"] == "selected" and decided.json()["rank"] == 1


def test_a_short_term_requests_page_names_its_round_and_where_its_review_stands(world, setup, client_for):
    """The applicant sees the rolling call's round, its cut-off and the review's progress (no reviewer,
    no score); MSIT sees the score too, and the link to the proposal's review page."""
    proposal, reviewers = setup
    request = proposal.loan_request
    url = f"/lending/requests/{request.public_id}/"
    for reviewer in reviewers[:2]:
        assignment = review.assignment_create(actor=world.admin, proposal=proposal, reviewer=reviewer)
        if reviewer is reviewers[0]:
            review.review_submit(actor=reviewer, assignment=assignment, scores=scores(4, 4, 4))
    english = client_for(world.applicant).get(url).content.decode()
    assert 'data-testid="request-call"' in english
    assert "Round 18 of “" in english and "cut-off 2026-09-13" in english
    assert "1 of 3 reviews done" in english
    assert reviewers[0].username not in english and "4.00" not in english
    assert f"/calls/{proposal.call.code}/proposals/{proposal.public_id}/" not in english
    korean = client_for(world.applicant, "ko").get(url).content.decode()
    assert "18차" in korean and "2026-09-13" in korean and "Round 18" not in korean
    admin = client_for(world.admin).get(url).content.decode()
    assert "1 of 3 reviews done" in admin and "4.00" in admin
    assert f'href="/calls/{proposal.call.code}/proposals/{proposal.public_id}/"' in admin
    # Revision asked for: the applicant reads MSIT's note there.
    review.proposal_ask_revision(actor=world.admin, proposal=proposal, note="GPU 수를 줄여 주세요")
    again = client_for(world.applicant).get(url).content.decode()
    assert "Revision asked for" in again
