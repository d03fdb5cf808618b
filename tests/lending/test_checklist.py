"""A checklist item answered "no" says what that means, to the applicant as they answer and to
MSIT in the queue and on the request."""

import pytest
from django.utils.html import escape

from lending import services as lending
from lending.models import CHECKLIST_NO_MEANING
from tests.lending.conftest import request_values

pytestmark = pytest.mark.django_db


def test_the_form_explains_a_no_answer(world, client_for, clock):
    client = client_for(world.applicant)
    blank = client.get("/lending/requests/new/").content.decode()
    assert 'data-testid="no-meaning-personal_information"' in blank
    assert 'class="checklist-item"' in blank  # hidden until "no" is chosen (CSS :has)
    values = {**request_values(personal_information="no", accepts_recall_terms=False),
              "starts_on": "2026-09-20", "ends_on": "2026-11-19", "accepts_recall_terms": ""}
    answered = client.post("/lending/requests/new/", values).content.decode()
    assert 'class="checklist-item answered-no"' in answered
    assert escape(str(CHECKLIST_NO_MEANING["personal_information"])) in answered


def test_the_queue_and_the_request_show_the_answers(world, client_for, clock):
    request = lending.request_submit(actor=world.applicant,
                                     values=request_values(training_data_copyright="no", ai_basic_act="na"))
    admin = client_for(world.admin)
    queue = admin.get("/lending/queue/").content.decode()
    assert 'data-testid="queue-checklist"' in queue
    row = queue[queue.index(f'data-request="{request.public_id}"'):]
    row = row[:row.index("</tr>")]
    assert 'class="checklist-no"' in row and "Copyright: No" in row and "AI Basic Act: Not applicable" in row
    detail = admin.get(f"/lending/requests/{request.public_id}/").content.decode()
    assert 'data-testid="checklist-no"' in detail and escape(str(CHECKLIST_NO_MEANING["training_data_copyright"])) in detail
