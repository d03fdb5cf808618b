"""The calls tests' fixtures: lending's `submit`, and `setup` (a rolling-call proposal and three reviewers)."""

import pytest

from allocation_portal.models import Role
from calls.models import Proposal
from lending import services as lending
from tests import factories as f
from tests.lending.conftest import request_values, submit  # noqa: F401 (the lending tests' fixture)

# The rolling call's criteria (migration 0002): impact 40, ecosystem 30, readiness 30; levels 1-5.
CODES = ("impact", "ecosystem", "readiness")


@pytest.fixture
def setup(world, clock):
    from calls.models import Criterion
    from calls.services import rolling_call

    call = rolling_call()
    # A transactional test before this one may have emptied the table the migration filled.
    if not call.criteria.exists():
        for position, (code, weight) in enumerate(zip(CODES, (40, 30, 30), strict=True)):
            Criterion.objects.create(call=call, code=code, position=position, name_ko=code, name_en=code,
                                     weight=weight, rubric=[{"score": s, "ko": str(s), "en": str(s)} for s in (5, 4, 3, 2, 1)])
    request = lending.request_submit(actor=world.applicant, values=request_values())
    proposal = Proposal.objects.get(loan_request=request)
    reviewers = [f.make_user(Role.REVIEWER, username=f"expert{i}") for i in range(3)]
    return proposal, reviewers
