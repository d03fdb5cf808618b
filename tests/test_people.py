"""People (issue 16 §2): invitations by e-mail through a real SMTP server, the link that sets a first
password, role and scope changes, deactivation that ends sessions and API tokens at once, and who
may do which of these to whom."""

from __future__ import annotations

import datetime as dt
import re
import socket

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.authtoken.models import Token

from allocation_portal import people
from allocation_portal.models import AuditEvent, Invitation, PortalSession, User
from tests import factories as f

pytestmark = pytest.mark.django_db

LINK = re.compile(r"https?://[^\s\"<>]+/people/invitations/([A-Za-z0-9_\-]+)/")
NEW_PASSWORD = "a-long-new-phrase-2026"


def parts(message) -> dict[str, str]:
    return {part.get_content_type(): part.get_content() for part in message.walk() if not part.is_multipart()}


def invite_page(client, django_capture_on_commit_callbacks, **data):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post("/people/invite/", data)


def log_in(client, username: str, password: str) -> bool:
    """A login through the login page (django-axes wants the request), True if it succeeded."""
    response = client.post("/accounts/login/", {"username": username, "password": password})
    return response.status_code == 302


def token_in(message) -> str:
    found = LINK.search(parts(message)["text/plain"])
    assert found, parts(message)["text/plain"]
    return found.group(1)


# --- Invitations ---------------------------------------------------------------------------------


def test_it_invites_an_official_by_email_and_the_link_sets_a_password(world, client_for, smtp_server,
                                                                      django_capture_on_commit_callbacks):
    admin = client_for(world.admin)
    response = invite_page(admin, django_capture_on_commit_callbacks, email="Kim.Official@mina.go.kr",
                           display_name="김담당", role="official", ministry=world.ministry_a.pk)
    invited = User.objects.get(email="Kim.Official@mina.go.kr")
    assert response.status_code == 302 and response["Location"] == f"/people/{invited.public_id}/"
    assert invited.username == "kim.official@mina.go.kr" and invited.ministry == world.ministry_a
    assert not invited.is_active and not invited.has_usable_password()

    # One message, to the invited person, from the real SMTP server: Korean subject, text and HTML.
    [message] = smtp_server.messages
    assert message["To"] == "Kim.Official@mina.go.kr"
    assert message["Subject"] == "[AI GPU] 국가 AI GPU 배분 포털에 초대되었습니다"
    body = parts(message)
    assert set(body) == {"text/plain", "text/html"}
    assert "국가 AI GPU 배분 포털에 초대되었습니다." in body["text/plain"]
    assert "You are invited to the National AI GPU Allocation Portal." in body["text/plain"]
    assert body["text/plain"].index("초대") < body["text/plain"].index("You are invited")  # Korean first
    assert "가부" in body["text/plain"] and "kim.official@mina.go.kr" in body["text/plain"]
    token = token_in(message)
    assert f'href="http://127.0.0.1:8000/people/invitations/{token}/"' in body["text/html"]
    # Only the token's hash is kept.
    invitation = Invitation.objects.get(user=invited)
    assert invitation.token_hash == people.token_hash(token) and token not in invitation.token_hash
    assert invitation.invited_by == world.admin and invitation.emailed_at is not None
    assert invitation.expires_at - invitation.created_at == dt.timedelta(days=7)
    assert not AuditEvent.objects.filter(after__icontains=token).exists()

    # The link, followed by a browser with no session: a page to set the password.
    visitor = client_for(None, lang="ko")
    page = visitor.get(f"/people/invitations/{token}/")
    assert page.status_code == 200 and "비밀번호 설정" in page.content.decode()
    assert page["Referrer-Policy"] == "same-origin" and "no-store" in page["Cache-Control"]
    weak = visitor.post(f"/people/invitations/{token}/", {"new_password1": "1234", "new_password2": "1234"})
    assert weak.status_code == 400 and not User.objects.get(pk=invited.pk).is_active
    done = visitor.post(f"/people/invitations/{token}/", {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302 and done["Location"] == "/accounts/login/"
    invited.refresh_from_db()
    assert invited.is_active and invited.check_password(NEW_PASSWORD)
    assert log_in(visitor, "kim.official@mina.go.kr", NEW_PASSWORD)
    assert visitor.get(f"/projects/{world.project_a.code}/").status_code == 200  # an official of ministry A
    # Used once: the same link now says so.
    again = client_for(None).get(f"/people/invitations/{token}/")
    assert again.status_code == 410 and "used already" in again.content.decode()
    actions = list(AuditEvent.objects.filter(object_id=str(invited.public_id)).order_by("at", "id")
                   .values_list("action", flat=True))
    assert actions == ["person.invite", "person.invitation_accept"]


def test_a_new_invitation_replaces_the_old_link_and_links_expire(world, client_for, smtp_server,
                                                                  django_capture_on_commit_callbacks, clock):
    admin = client_for(world.admin)
    invite_page(admin, django_capture_on_commit_callbacks, email="expert@univ.ac.kr", role="reviewer")
    first = token_in(smtp_server.messages[0])
    person = User.objects.get(email="expert@univ.ac.kr")
    with django_capture_on_commit_callbacks(execute=True):
        assert admin.post(f"/people/{person.public_id}/reinvite/").status_code == 302
    second = token_in(smtp_server.to("expert@univ.ac.kr")[1])
    assert first != second
    replaced = client_for(None).get(f"/people/invitations/{first}/")
    assert replaced.status_code == 410 and "newer invitation" in replaced.content.decode()
    assert client_for(None).get(f"/people/invitations/{second}/").status_code == 200
    assert Invitation.objects.filter(user=person, used_at__isnull=True, replaced_at__isnull=True).count() == 1
    clock.move_to(timezone.now() + dt.timedelta(days=7, seconds=1))
    expired = client_for(None).post(f"/people/invitations/{second}/", {"new_password1": NEW_PASSWORD,
                                                                        "new_password2": NEW_PASSWORD})
    assert expired.status_code == 410 and "expired" in expired.content.decode()
    assert not User.objects.get(pk=person.pk).is_active
    unknown = client_for(None).get("/people/invitations/abc/")
    assert unknown.status_code == 404 and "not known" in unknown.content.decode()
    assert AuditEvent.objects.filter(action="person.reinvite", actor=world.admin).count() == 1


def test_a_duplicated_email_is_a_clear_error(world, client_for, api_for):
    page = client_for(world.admin).post("/people/invite/", {"email": world.official.email.upper(), "role": "auditor"})
    assert page.status_code == 400 and "already has the e-mail address" in page.content.decode()
    api = api_for(world.admin).post("/api/v1/people/", {"email": world.official.email, "role": "auditor"}, format="json")
    assert api.status_code == 400
    assert api.json()["error"]["code"] == "invalid" and "email" in api.json()["error"]["fields"]
    missing = api_for(world.admin).post("/api/v1/people/", {"email": "x@y.kr", "role": "official"}, format="json")
    assert missing.status_code == 400 and "ministry" in missing.json()["error"]["fields"]
    assert not User.objects.filter(email="x@y.kr").exists()


def test_an_email_that_cannot_be_sent_is_told_to_the_inviter(world, client_for, settings,
                                                            django_capture_on_commit_callbacks):
    with socket.socket() as probe:  # a loopback port where nothing listens
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", closed_port, 2
    admin = client_for(world.admin)
    response = invite_page(admin, django_capture_on_commit_callbacks, email="a@b.kr", role="auditor")
    assert response.status_code == 302
    page = admin.get(response["Location"]).content.decode()
    assert "The invitation e-mail was not sent" in page and "Send the invitation again" in page
    assert Invitation.objects.get(email="a@b.kr").emailed_at is None


# --- Deactivation ------------------------------------------------------------------------------


def test_deactivation_ends_the_persons_sessions_and_api_token_at_once(world, client_for, api_for):
    colleague = f.make_user("official", ministry=world.ministry_a)
    browser = client_for(None)
    assert log_in(browser, colleague.username, f.PASSWORD)
    assert browser.get("/programme/").status_code == 200
    api = api_for(colleague)
    assert api.get("/api/v1/projects/").status_code == 200
    assert PortalSession.objects.filter(user=colleague).count() == 1

    official = client_for(world.official)
    ask = official.post(f"/people/{colleague.public_id}/deactivate/", {"reason": "moved to another post"})
    assert ask.status_code == 200 and "Their sessions end now" in ask.content.decode()
    assert User.objects.get(pk=colleague.pk).is_active  # nothing happened before the confirmation
    done = official.post(f"/people/{colleague.public_id}/deactivate/", {"reason": "moved to another post", "confirmed": "1"})
    assert done.status_code == 302

    assert not PortalSession.objects.filter(user=colleague).exists()
    assert not Token.objects.filter(user=colleague).exists()
    refused = browser.get("/programme/")
    assert refused.status_code == 302 and "/accounts/login/" in refused["Location"]
    assert api.get("/api/v1/projects/").status_code == 401
    assert not log_in(client_for(None), colleague.username, f.PASSWORD)
    event = AuditEvent.objects.get(action="person.deactivate")
    assert event.actor == world.official and event.reason == "moved to another post"
    assert event.after == {"is_active": False, "sessions_ended": 1, "api_token_revoked": True}

    # Reactivated, they log in with the password they had.
    assert official.post(f"/people/{colleague.public_id}/reactivate/", {}).status_code == 302
    assert log_in(client_for(None), colleague.username, f.PASSWORD)
    assert AuditEvent.objects.filter(action="person.reactivate", actor=world.official).exists()


def test_deactivating_in_the_django_admin_ends_sessions_too(world, client_for):
    colleague = f.make_user("auditor")
    browser = client_for(None)
    assert log_in(browser, colleague.username, f.PASSWORD)
    Token.objects.create(user=colleague)
    admin = client_for(world.admin)
    form = admin.get(f"/admin/allocation_portal/user/{colleague.pk}/change/")
    assert form.status_code == 200
    data = {"username": colleague.username, "email": colleague.email, "role": "auditor", "display_name": "",
            "date_joined_0": "2026-09-01", "date_joined_1": "10:00:00", "initial-date_joined_0": "2026-09-01",
            "initial-date_joined_1": "10:00:00"}
    response = admin.post(f"/admin/allocation_portal/user/{colleague.pk}/change/", data)  # is_active left unticked
    assert response.status_code == 302, response.content[:500]
    assert not User.objects.get(pk=colleague.pk).is_active
    assert not PortalSession.objects.filter(user=colleague).exists() and not Token.objects.filter(user=colleague).exists()
    assert browser.get("/audit/").status_code == 302


def test_a_session_keeps_its_owner_when_its_key_changes(world, client_for):
    browser = client_for(None)
    assert log_in(browser, world.official.username, f.PASSWORD)
    changed = browser.post("/accounts/password/", {"old_password": f.PASSWORD, "new_password1": NEW_PASSWORD,
                                                   "new_password2": NEW_PASSWORD})
    assert changed.status_code == 302
    assert PortalSession.objects.filter(user=world.official).count() == 1
    assert browser.get("/programme/").status_code == 200


# --- Who manages whom ------------------------------------------------------------------------------


def test_an_official_manages_only_the_officials_of_their_own_ministry(world, client_for, smtp_server,
                                                                      django_capture_on_commit_callbacks):
    official = client_for(world.official)
    # The role and ministry are the official's own, whatever is posted.
    invite_page(official, django_capture_on_commit_callbacks, email="new@mina.go.kr", role="msit_admin",
                ministry=world.ministry_b.pk)
    invited = User.objects.get(email="new@mina.go.kr")
    assert invited.role == "official" and invited.ministry == world.ministry_a
    listed = official.get("/people/")
    text = listed.content.decode()
    assert listed.status_code == 200 and "new@mina.go.kr" in text
    assert f"/people/{world.outsider.public_id}/" not in text and f"/people/{world.applicant.public_id}/" not in text
    assert official.get(f"/people/{world.outsider.public_id}/").status_code == 404
    assert official.post(f"/people/{world.outsider.public_id}/deactivate/", {"confirmed": "1"}).status_code == 404
    assert official.post(f"/people/{invited.public_id}/change/", {"role": "auditor"}).status_code == 403
    assert official.post(f"/people/{world.official.public_id}/deactivate/", {"confirmed": "1"}).status_code == 403
    assert User.objects.get(pk=world.official.pk).is_active
    assert official.post(f"/people/{invited.public_id}/deactivate/", {"confirmed": "1"}).status_code == 302
    # An invitation not yet used stops working when its person is deactivated.
    token = token_in(smtp_server.to("new@mina.go.kr")[0])
    assert client_for(None).get(f"/people/invitations/{token}/").status_code == 410


def test_an_msit_admin_changes_role_and_scope_with_an_audited_before_and_after(world, client_for):
    admin = client_for(world.admin)
    target = f.make_user("official", ministry=world.ministry_a)
    missing = admin.post(f"/people/{target.public_id}/change/", {"role": "provider_operator", "reason": "moved"})
    assert missing.status_code == 400 and "bound to a provider" in missing.content.decode()
    saved = admin.post(f"/people/{target.public_id}/change/", {"role": "provider_operator",
                                                                "provider": world.cluster.provider.pk, "reason": "moved"})
    assert saved.status_code == 302
    target.refresh_from_db()
    assert target.role == "provider_operator" and target.provider == world.cluster.provider and target.ministry is None
    event = AuditEvent.objects.get(action="person.change")
    assert event.before["role"] == "official" and event.before["ministry"] == "mina"
    assert event.after["role"] == "provider_operator" and event.after["provider"] == world.cluster.provider.code
    assert event.reason == "moved"
    # Shown in the audit views: the log, its API, and the person's own page.
    log = admin.get("/audit/?action=person.").content.decode()
    assert "Role or scope changed" in log
    assert client_for(world.auditor).get("/api/v1/audit-events/?action=person.change").json()["count"] == 1
    assert "Role or scope changed" in admin.get(f"/people/{target.public_id}/").content.decode()
    assert admin.post(f"/people/{world.admin.public_id}/change/", {"role": "auditor"}).status_code == 403


def test_an_organisations_managing_member_manages_its_members(world, client_for):
    manager = client_for(world.applicant)
    colleague = f.make_user("applicant", organisation=world.org_a)
    assert manager.post(f"/people/{colleague.public_id}/change/", {"manages_members": "on"}).status_code == 302
    colleague.refresh_from_db()
    assert colleague.manages_members
    assert AuditEvent.objects.get(action="person.change").after["manages_members"] is True
    # They cannot change anything else, nor reach another organisation's members.
    manager.post(f"/people/{colleague.public_id}/change/", {"role": "msit_admin", "manages_members": "on"})
    assert User.objects.get(pk=colleague.pk).role == "applicant"
    assert manager.get(f"/people/{world.outsider_applicant.public_id}/").status_code == 404
    assert manager.get(f"/people/{world.official.public_id}/").status_code == 404
    # The auditor reads everyone, changes no one.
    auditor = client_for(world.auditor)
    assert auditor.get(f"/people/{colleague.public_id}/").status_code == 200
    assert auditor.post(f"/people/{colleague.public_id}/deactivate/", {"confirmed": "1"}).status_code == 403


def test_the_api_invites_and_deactivates_with_the_same_rules(world, api_for, smtp_server,
                                                             django_capture_on_commit_callbacks):
    api = api_for(world.official)
    with django_capture_on_commit_callbacks(execute=True):
        created = api.post("/api/v1/people/", {"email": "api@mina.go.kr", "display_name": "API"}, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["role"] == "official" and body["ministry"] == "mina" and body["status"] == "invited"
    assert body["invitation_expires_at"] is not None
    assert len(smtp_server.to("api@mina.go.kr")) == 1
    other = api.post("/api/v1/people/", {"email": "b@minb.go.kr", "ministry": "minb"}, format="json")
    assert other.status_code == 403 and other.json()["error"]["code"] == "permission_denied"
    gone = api.post(f"/api/v1/people/{body['id']}/deactivate/", {"reason": "wrong address"}, format="json")
    assert gone.status_code == 200 and gone.json()["status"] == "deactivated"
    again = api.post(f"/api/v1/people/{body['id']}/deactivate/", {}, format="json")
    assert again.status_code == 409 and again.json()["error"]["code"] == "state_conflict"
    assert api.post(f"/api/v1/people/{world.outsider.public_id}/deactivate/", {}, format="json").status_code == 404
    assert api.get("/api/v1/people/not-a-uuid/").status_code == 404
    listed = api_for(world.admin).get("/api/v1/people/?status=deactivated").json()
    assert [p["email"] for p in listed["results"]] == ["api@mina.go.kr"]


# --- The list ---------------------------------------------------------------------------------------


def test_the_people_list_filters_and_runs_a_fixed_number_of_queries(world, client_for, api_for):
    def grow(n):
        for _ in range(n):
            f.make_user("official", ministry=world.ministry_a)
            f.make_user("applicant", organisation=f.make_organisation(), is_active=False)
            people.person_invite(actor=world.admin, email=f"p{f.n()}@x.kr", role="reviewer")

    def count(client, url):
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    page, api = client_for(world.admin), api_for(world.admin)
    grow(2)
    few = (count(page, "/people/"), count(api, "/api/v1/people/"))
    grow(6)
    assert (count(page, "/people/"), count(api, "/api/v1/people/")) == few
    assert few == (6, 3)

    text = page.get(f"/people/?role=official&ministry={world.ministry_a.code}&status=active").content.decode()
    assert f"/people/{world.official.public_id}/" in text
    assert f"/people/{world.outsider.public_id}/" not in text and f"/people/{world.admin.public_id}/" not in text
    invited = page.get("/people/?status=invited").content.decode()
    assert invited.count('data-testid="person-row"') == 8
    assert page.get("/people/?role=nonsense&status=x&ministry=none&page=999").status_code == 200
    assert api.get("/api/v1/people/?status=invited").json()["count"] == 8
    assert api.get("/api/v1/people/?role=nonsense").status_code == 400


def test_provider_operators_and_reviewers_have_no_people_area(world, client_for, api_for):
    for user in (world.provider, world.reviewer):
        assert client_for(user).get("/people/").status_code == 403
        assert api_for(user).get("/api/v1/people/").status_code == 403


def test_a_link_works_once_even_when_submitted_twice(world, monkeypatch):
    monkeypatch.setattr(people.secrets, "token_urlsafe", lambda n: "a-known-token")
    people.person_invite(actor=world.admin, email="twice@x.kr", role="auditor")
    with pytest.raises(people.InvitationInvalid) as unknown:
        people.invitation_accept(token="another-token", password=NEW_PASSWORD)
    assert unknown.value.reason == "unknown"
    user = people.invitation_accept(token="a-known-token", password=NEW_PASSWORD)
    assert user.is_active
    with pytest.raises(people.InvitationInvalid) as used:
        people.invitation_accept(token="a-known-token", password="another-long-phrase-2026")
    assert used.value.reason == "used" and used.value.status_code == 410
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
