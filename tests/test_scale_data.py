"""The benchmarks' scale data generator and the metering benchmark's sacct generator still run against
today's models (a small run: the benchmark itself is bin/bench, never a timed test)."""

import datetime as dt

import pytest

from benchmarks.metering import generate_sacct
from benchmarks.scale_data import Params, generate
from metering import sacct

pytestmark = pytest.mark.django_db


def test_a_small_programme_is_generated_and_its_sacct_reads(tmp_path):
    counts = generate(Params(gpus=400, projects=6, ministries=3, months=4, requests=20), log=lambda *a: None)
    assert counts["servers"] == 50 and counts["projects"] == 6 and counts["loans"] > 0
    month = dt.date(2026, 10, 1)
    files = generate_sacct(tmp_path, month, rows=300)
    runs = [run for path in files.values() for run in sacct.parse(
        path.open(), period_start=dt.datetime(2026, 10, 1, tzinfo=sacct.KST),
        period_end=dt.datetime(2026, 11, 1, tzinfo=sacct.KST))]
    assert len(runs) >= 290 and all(r.gpus > 0 for r in runs)
