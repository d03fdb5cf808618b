"""The charts' axes: four gridlines at a round step (1, 2, 2.5 or 5 times a power of ten, whole
numbers) just above the tallest value, so no two tick labels read the same, even with no use at all."""

from decimal import Decimal
from types import SimpleNamespace

import pytest

from monitoring.charts import axis_step, stacked_chart, usage_chart


@pytest.mark.parametrize(("top", "step"), [(0, 1), (3, 1), (4, 1), (5, 2), (9, 5), (10, 5), (17, 5), (1000, 250),
                                           (1001, 500), (17856, 5000), (Decimal("0.4"), 1)])
def test_the_step_is_round_and_four_of_them_reach_the_top(top, step):
    assert axis_step(top) == step


def _row(month, allocated, planned, used):
    figures = SimpleNamespace(allocated=Decimal(allocated), planned=Decimal(planned), used=Decimal(used), plan_ratio=None)
    return SimpleNamespace(month=month, monthly=figures, cumulative=figures)


def test_a_project_with_no_use_yet_has_distinct_tick_labels():
    import datetime as dt

    chart = usage_chart([_row(dt.date(2026, m, 1), 0, 0, 0) for m in (10, 11, 12)])
    assert [t["text"] for t in chart["ticks"]] == ["0", "1", "2", "3", "4"]
    busy = usage_chart([_row(dt.date(2026, 11, 1), 17856, 9000, 4000)])
    assert [t["text"] for t in busy["ticks"]] == ["0", "5,000", "10,000", "15,000", "20,000"]
    stacked = stacked_chart([{"label": "a", "values": {"x": 0}}], ["x"])
    assert [t["text"] for t in stacked["ticks"]] == ["0", "1", "2", "3", "4"]
