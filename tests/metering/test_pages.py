"""The provider operator's page: their servers and deliveries, a month sent from the page; nothing
of the programme beyond it. MSIT sees every provider and the use nobody held."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from allocation_portal.models import Role
from metering.models import UsageBatch
from tests import factories as f

from .test_sacct import AFTER_OCTOBER, SAMPLE, receive

pytestmark = pytest.mark.django_db


def test_an_operator_sends_a_month_from_the_page_and_sees_only_their_provider(ledger, client_for, clock):
    clock.move_to(AFTER_OCTOBER)
    operator = client_for(ledger["operator"], "ko")
    assert operator.get("/").url == "/metering/"
    page = operator.get("/metering/")
    assert page.status_code == 200 and 'data-testid="sacct-form"' in page.content.decode()
    sent = operator.post("/metering/", {"file": SimpleUploadedFile("sacct.txt", SAMPLE.read_bytes()), "month": "2026-10"},
                         follow=True)
    body = sent.content.decode()
    assert sent.status_code == 200 and "6,692.2" in body and UsageBatch.objects.count() == 1
    bad = operator.post("/metering/", {"file": SimpleUploadedFile("s.txt", b"1|2|3\n"), "month": "2026-10"})
    assert bad.status_code == 400 and "error-summary" in bad.content.decode()
    # nothing else of the programme: its pages refuse, the other provider is not listed
    other = f.make_cluster(servers=1).provider
    assert operator.get("/programme/").status_code == 403
    assert operator.get("/projects/").status_code == 403
    assert other.name_ko not in operator.get("/metering/").content.decode()


def test_msit_sees_every_provider_and_the_use_nobody_held(ledger, client_for):
    receive(ledger)
    f.make_cluster(servers=1)  # a second provider
    admin = client_for(f.make_user(Role.ADMIN), "en")
    body = admin.get("/metering/").content.decode()
    assert 'data-testid="unattributed"' in body and ledger["provider"].code in body
    assert 'data-testid="sacct-form"' not in body  # choose a provider first
    chosen = admin.get("/metering/", {"provider": ledger["provider"].code}).content.decode()
    assert 'data-testid="sacct-form"' in chosen
    auditor = client_for(f.make_user(Role.AUDITOR), "en").get("/metering/", {"provider": ledger["provider"].code})
    assert auditor.status_code == 200 and 'data-testid="sacct-form"' not in auditor.content.decode()
    for role, extra in ((Role.OFFICIAL, {"ministry": f.make_ministry()}),
                        (Role.APPLICANT, {"organisation": f.make_organisation()})):
        assert client_for(f.make_user(role, **extra)).get("/metering/").status_code == 403
