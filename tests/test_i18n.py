"""Korean first: every user-facing string has a Korean translation, and the compiled catalog that
the run command serves matches its source."""

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
