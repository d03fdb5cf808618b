"""Korean first: every user-facing string has a Korean translation, and the compiled catalog that
the run command serves matches its source."""

import datetime as dt
import re
import shutil
import subprocess
from pathlib import Path

import pytest

PO = Path(__file__).resolve().parent.parent / "locale" / "ko" / "LC_MESSAGES" / "django.po"


def catalog_blocks():
    """Each translation entry of the .po as text, without the header and obsolete entries."""
    blocks = PO.read_text(encoding="utf-8").strip().split("\n\n")
    return [b for b in blocks[1:] if "msgid" in b and not b.lstrip().startswith("#~")]


def untranslated(block: str) -> bool:
    msgstrs = re.findall(r'^msgstr(?:\[\d+\])? ((?:".*"\n?)+)', block + "\n", re.M)
    values = ["".join(re.findall(r'"(.*)"', s)) for s in msgstrs]
    return "#, fuzzy" in block or not values or not all(values)


def test_every_string_has_a_korean_translation():
    missing = [b for b in catalog_blocks() if untranslated(b)]
    assert len(catalog_blocks()) > 100
    assert not missing, "untranslated or fuzzy entries in locale/ko:\n" + "\n---\n".join(missing[:20])


@pytest.mark.skipif(not shutil.which("msgfmt"), reason="GNU gettext's msgfmt is not installed")
def test_the_compiled_catalog_is_current(tmp_path):
    compiled = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "-o", str(compiled), str(PO)], check=True)
    assert compiled.read_bytes() == PO.with_suffix(".mo").read_bytes(), "run: manage.py compilemessages -l ko"


# A Korean particle after a placeholder depends on how its value ends (NAI-2026-41을, 2026-08을,
# clw-001을, 부처를): the catalog uses the neutral forms 을(를), 이(가), 은(는), 와(과), (으)로.
# Only a value that always ends in the same unit (10 MB, 12.3%) may take that unit's particle.
PARTICLE_AFTER_VALUE = re.compile(r"%\((\w+)\)s(을|를|이|가|은|는|와|과|으로|로)(?![(\w])")
ENDS_IN_A_UNIT = {"limit", "share"}


def test_a_particle_after_a_value_is_the_neutral_form():
    wrong = [
        (match.group(0), block.splitlines()[0])
        for block in catalog_blocks()
        for msgstr in re.findall(r'^msgstr(?:\[\d+\])? ((?:".*"\n?)+)', block + "\n", re.M)
        for match in PARTICLE_AFTER_VALUE.finditer("".join(re.findall(r'"(.*)"', msgstr)))
        if match.group(1) not in ENDS_IN_A_UNIT
    ]
    assert not wrong, wrong


# Internal codes a Korean reader must never see: snake_case codes ("gpu_hours_used", "msit_admin"),
# tiers ("tier1") and dotted codes ("loan.renewal_request", "gpus.loan").
CODE = re.compile(r"\b(?:[a-z]+_[a-z_]+|tier\d|[a-z]+\.[a-z_]+)\b")


def visible_text(body: str) -> str:
    import html

    body = re.sub(r"(?is)<(script|style|code|pre)[^>]*>.*?</\1>", " ", body)
    people_read = " ".join(re.findall(r'(?:title|aria-label|placeholder|alt)="([^"]*)"', body))
    text = html.unescape(re.sub(r"(?s)<[^>]+>", " ", body) + " " + people_read)
    return re.sub(r"\S+@\S+|https?://\S+|\b[\w-]+\.(?:kr|com|org|net)\b", " ", text)  # addresses are data


def crawl(client, start="/", limit=45):
    seen, queue, pages = set(), [start], {}
    while queue and len(seen) < limit:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url, follow=True)
        assert response.status_code < 500, url
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        body = response.content.decode()
        pages[url] = body
        for href in re.findall(r'href="(/[^"#]*)"', body):
            if not any(s in href for s in ("logout", "/static/", "/api/", "/admin/", ".xlsx", ".csv", "/i18n/")):
                queue.append(href.replace("&amp;", "&"))
    return pages


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["admin", "official", "applicant", "auditor"])
def test_no_internal_codes_on_any_page_in_korean(world, client_for, role):
    from django.utils.translation import gettext_noop

    from allocation_portal.messages import msg
    from lending.services import loan_recall
    from monitoring.redistribution import redistribution_propose
    from tests import factories as f

    loan = f.make_loan(world.org_a, gpus=f.server_gpus(world.cluster.servers.order_by("hostname")[6]),
                       start=dt.date(2027, 1, 4), end=dt.date(2027, 2, 1))
    loan_recall(actor=world.admin, loan=loan, reason=msg(gettext_noop("The owning project starts")))
    redistribution_propose(actor=world.admin)
    from allocation_portal.models import User

    User.objects.update(display_name="홍길동")
    usernames = re.compile("|".join(User.objects.values_list("username", flat=True)))  # people's names are data
    pages = crawl(client_for(User.objects.get(pk=world.user(role).pk), "ko"))
    assert len(pages) > 5
    leaks = {url: sorted(set(CODE.findall(usernames.sub(" ", visible_text(body))))) for url, body in pages.items()}
    assert not {url: codes for url, codes in leaks.items() if codes}
