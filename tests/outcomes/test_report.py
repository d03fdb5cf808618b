"""The month's programme report as a PDF: rendered for a month of the small world, read back with
pdftotext (poppler-utils, installed by the test command), in Korean with the month's figures."""

import subprocess

import pytest

pytestmark = pytest.mark.django_db


def pdf_text(content: bytes, tmp_path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(content)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def test_the_monthly_report_is_a_korean_pdf_with_the_months_figures(small_world, client_for, tmp_path):
    answer = client_for(small_world["auditor"], "en").get("/monitoring/board/report.pdf?month=2026-06")
    assert answer.status_code == 200 and answer["Content-Type"] == "application/pdf"
    assert answer.content.startswith(b"%PDF")
    text = pdf_text(answer.content, tmp_path)
    for heading in ("국가 AI 프로젝트 GPU 사업 월간 보고 · 2026-06", "주요 지표", "사업 성과", "부처별 계획 대비 이용률",
                    "점검 표시된 과제", "회수 검토 건", "기관 유형·지역별 대여"):
        assert heading in text, heading
    # June's outcome figures (tests/outcomes/test_figures.py counts them by hand): awarded, used or lent.
    assert "19,200.0" in text and "15.0%" in text
    assert "O-C" in text  # the case decided in June
    subprocess.run(["pdftoppm", "-r", "40", "-png", "-f", "1", "-l", "1", str(tmp_path / "report.pdf"),
                    str(tmp_path / "page")], check=True)
    assert (tmp_path / "page-1.png").stat().st_size > 5000  # a page with content, not blank


def test_a_bad_month_is_a_clear_error(small_world, client_for):
    answer = client_for(small_world["admin"], "en").get("/monitoring/board/report.pdf?month=2026-13")
    assert answer.status_code == 400 and b"error-summary" in answer.content
