"""Plan-vs-actual chart geometry, computed here so the template only draws it (inline SVG, no
JavaScript, no external library)."""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone

from allocation_portal import formatting, months

WIDTH, HEIGHT = 760, 260
LEFT, RIGHT, TOP, BOTTOM = 64, 48, 16, 36


def axis_step(top) -> int | float:
    """The gridline step of an axis from 0 with four steps just reaching `top`: 1, 2, 2.5 or 5 times
    a power of ten, a whole number (so no two tick labels read the same); 1 when there is nothing."""
    top = float(top)
    if top <= 0:
        return 1
    magnitude = 10 ** max(len(str(int(top / 4))) - 1, 0)
    return next(m * magnitude for m in (1, 2, 2.5, 5, 10) if float(m * magnitude).is_integer() and m * magnitude * 4 >= top)


def _ticks(step) -> list[str]:
    return [formatting.format_number(step * k) for k in range(5)]


def usage_chart(rows) -> dict | None:
    """Bars per month (allocated, planned, used GPU-hours) and a line of cumulative use as a
    share of cumulative plan (right axis, 0–150%)."""
    if not rows:
        return None
    step = axis_step(max(max(r.monthly.allocated, r.monthly.planned, r.monthly.used) for r in rows))
    top = Decimal(str(step * 4))
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = inner_w / len(rows)
    bar = max(min(slot / 4, 18), 2)

    def y(value) -> float:
        return TOP + inner_h - float(Decimal(value) / top) * inner_h

    bars, labels, points = [], [], []
    for i, row in enumerate(rows):
        x0 = LEFT + i * slot + (slot - 3 * bar) / 2
        for j, (name, value) in enumerate(
            (("allocated", row.monthly.allocated), ("planned", row.monthly.planned), ("used", row.monthly.used))
        ):
            bars.append({
                "x": round(x0 + j * bar, 1), "y": round(y(value), 1), "w": round(bar - 1, 1),
                "h": round(TOP + inner_h - y(value), 1), "cls": name,
                "title": f"{months.label(row.month)} {name}: {formatting.format_number(value, formatting.GPU_HOURS_DECIMALS)}",
            })
        labels.append({"x": round(LEFT + i * slot + slot / 2, 1), "text": f"{row.month:%y.%m}"})
        plan_ratio = row.cumulative.plan_ratio
        if plan_ratio is not None:
            share = min(float(plan_ratio), 1.5) / 1.5
            points.append(f"{LEFT + i * slot + slot / 2:.1f},{TOP + inner_h - share * inner_h:.1f}")
    ticks = [{"y": round(y(top * k / 4), 1), "text": text} for k, text in enumerate(_ticks(step))]
    right_ticks = [{"y": round(TOP + inner_h - (p / 150) * inner_h, 1), "text": f"{p}%"} for p in (0, 50, 100, 150)]
    return {
        "width": WIDTH, "height": HEIGHT, "left": LEFT, "right": WIDTH - RIGHT, "top": TOP,
        "bottom": TOP + inner_h, "bars": bars, "labels": labels, "ticks": ticks, "right_ticks": right_ticks,
        "line": " ".join(points), "label_y": HEIGHT - 12,
        "hundred_y": round(TOP + inner_h - (100 / 150) * inner_h, 1),
    }


# --- The status board's charts -----------------------------------------------------------------

RATIO_WIDTH, RATIO_LABEL, RATIO_ROW, RATIO_TOP = 760, 230, 30, 28
RATIO_CAP = 1.5  # shares above 150% are drawn at 150% (their value is still written)


def _pct(share) -> str:
    return formatting.format_percent(share)


def ratio_chart(items, *, threshold) -> dict | None:
    """Horizontal bars, two per item: cumulative use against plan, and utilisation (used ÷
    allocated), on one 0–150% scale with the 100% line and the under-plan threshold. `items` are
    (label, plan_ratio, utilisation)."""
    if not items:
        return None
    inner = RATIO_WIDTH - RATIO_LABEL - 64

    def x(share) -> float:
        return RATIO_LABEL + min(float(share or 0), RATIO_CAP) / RATIO_CAP * inner

    rows = []
    for i, (label, plan_ratio, utilisation) in enumerate(items):
        y = RATIO_TOP + i * RATIO_ROW
        rows.append({
            "label": label, "short": label if len(label) <= 18 else label[:17] + "…", "y": y, "text_y": y + 12,
            "bars": [
                {"cls": "plan", "x": RATIO_LABEL, "y": y + 2, "w": round(x(plan_ratio) - RATIO_LABEL, 1), "h": 11,
                 "value": _pct(plan_ratio), "vx": round(x(plan_ratio) + 4, 1), "vy": y + 11},
                {"cls": "util", "x": RATIO_LABEL, "y": y + 14, "w": round(x(utilisation) - RATIO_LABEL, 1), "h": 11,
                 "value": _pct(utilisation), "vx": round(x(utilisation) + 4, 1), "vy": y + 23},
            ],
            "plan_ratio": _pct(plan_ratio), "utilisation": _pct(utilisation),
        })
    height = RATIO_TOP + len(items) * RATIO_ROW + 8
    ticks = [{"x": round(x(p / 100), 1), "text": f"{p}%"} for p in (0, 50, 100, 150)]
    return {
        "width": RATIO_WIDTH, "height": height, "rows": rows, "ticks": ticks, "top": RATIO_TOP - 6,
        "bottom": height - 6, "hundred_x": round(x(1), 1), "threshold_x": round(x(threshold), 1),
        "threshold": _pct(threshold),
    }


CAPACITY_LAYERS = ["held_started", "idle", "reserve", "suspended", "free"]
CAP_WIDTH, CAP_HEIGHT, CAP_LEFT, CAP_RIGHT, CAP_TOP, CAP_BOTTOM = 760, 260, 56, 16, 16, 36


def stacked_chart(columns: list[dict], layers: list[str]) -> dict | None:
    """Stacked columns, bottom up in the order of `layers`. Each column is a dict with `label` (under
    the column) and `values` ({layer: number}); its other keys are kept for the template. The scale
    has four gridlines at a round step (axis_step) just above the tallest."""
    if not columns:
        return None
    top = max(sum(float(c["values"].get(layer) or 0) for layer in layers) for c in columns)
    step = axis_step(top)
    nice = float(step * 4)
    ticks_text = _ticks(step)
    left = max(CAP_LEFT, 7 * max(len(t) for t in ticks_text) + 12)  # room for the longest tick label
    inner_w, inner_h = CAP_WIDTH - left - CAP_RIGHT, CAP_HEIGHT - CAP_TOP - CAP_BOTTOM
    slot = inner_w / len(columns)
    bar = min(slot * 0.7, 48)
    drawn = []
    for i, column in enumerate(columns):
        x = left + i * slot + (slot - bar) / 2
        base = CAP_TOP + inner_h
        parts = []
        for layer in layers:
            value = column["values"].get(layer) or 0
            h = float(value) / nice * inner_h
            base -= h
            parts.append({"cls": layer, "y": round(base, 1), "h": round(h, 1), "value": value})
        drawn.append({**column, "x": round(x, 1), "w": round(bar, 1), "parts": parts, "lx": round(x + bar / 2, 1)})
    ticks = [{"y": round(CAP_TOP + inner_h - inner_h * k / 4, 1), "text": text} for k, text in enumerate(ticks_text)]
    return {"width": CAP_WIDTH, "height": CAP_HEIGHT, "left": left, "right": CAP_WIDTH - CAP_RIGHT,
            "columns": drawn, "ticks": ticks, "label_y": CAP_HEIGHT - 14}


def capacity_chart(series, *, current) -> dict | None:
    """Stacked columns per month of the programme pool's GPUs: held by started projects, idle
    (awarded, not started), MSIT reserve, suspended, free; the months ahead are drawn lighter
    (what the ledger holds for them today)."""
    columns = []
    for at, cap in series:
        month = timezone.localtime(at).date().replace(day=1)
        columns.append({"label": f"{month:%y.%m}", "month": months.label(month), "cap": cap, "ahead": month > current,
                        "values": {layer: getattr(cap, layer) for layer in CAPACITY_LAYERS}})
    return stacked_chart(columns, CAPACITY_LAYERS)
