"""The pages work under the Content-Security-Policy: Chromium reports no violation on the
portal's pages, the Django admin or the API docs (Swagger UI starts from a script file)."""

import pytest

from allocation_portal.models import Role
from projects.loader import programme_2026_load
from projects.models import Project
from tests import factories as f

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_pages_raise_no_csp_violation(page, login):
    programme_2026_load()
    f.make_user(Role.ADMIN, username="msit")
    project = Project.objects.order_by("code").first()
    problems = []
    page.on("console", lambda message: problems.append(f"{page.url}: {message.text}")
            if message.type == "error" and ("Content Security Policy" in message.text or "Refused" in message.text)
            else None)
    page.on("pageerror", lambda error: problems.append(f"{page.url}: {error}"))
    login("msit", f.PASSWORD)
    for url in ["/programme/", f"/projects/{project.code}/", "/monitoring/board/", "/lending/", "/audit/",
                "/accounts/password/", "/accounts/token/", "/admin/", "/admin/allocation_portal/user/add/"]:
        page.goto(url)
        page.wait_for_load_state("networkidle")
    page.goto("/api/docs/")
    page.wait_for_selector(".swagger-ui .opblock", timeout=30_000)  # Swagger UI rendered the operations
    assert not problems, problems
