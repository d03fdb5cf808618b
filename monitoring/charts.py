"""Plan-vs-actual chart geometry, computed here so the template only draws it (inline SVG, no
JavaScript, no external library)."""

from __future__ import annotations

from decimal import Decimal

from allocation_portal import months

WIDTH, HEIGHT = 760, 260
LEFT, RIGHT, TOP, BOTTOM = 64, 48, 16, 36


def _nice_max(value: Decimal) -> Decimal:
    if value <= 0:
        return Decimal(1)
    magnitude = Decimal(10) ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        candidate = magnitude * Decimal(str(step))
        if candidate >= value:
            return candidate
    return magnitude * 10


def usage_chart(rows) -> dict | None:
    """Bars per month (allocated, planned, used GPU-hours) and a line of cumulative use as a
    share of cumulative plan (right axis, 0–150%)."""
    if not rows:
        return None
    top = _nice_max(max(max(r.monthly.allocated, r.monthly.planned, r.monthly.used) for r in rows))
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
                "title": f"{months.label(row.month)} {name}: {value:,.0f}",
            })
        labels.append({"x": round(LEFT + i * slot + slot / 2, 1), "text": f"{row.month:%y.%m}"})
        plan_ratio = row.cumulative.plan_ratio
        if plan_ratio is not None:
            share = min(float(plan_ratio), 1.5) / 1.5
            points.append(f"{LEFT + i * slot + slot / 2:.1f},{TOP + inner_h - share * inner_h:.1f}")
    ticks = [{"y": round(y(top * k / 4), 1), "text": f"{top * k / 4:,.0f}"} for k in range(5)]
    right_ticks = [{"y": round(TOP + inner_h - (p / 150) * inner_h, 1), "text": f"{p}%"} for p in (0, 50, 100, 150)]
    return {
        "width": WIDTH, "height": HEIGHT, "left": LEFT, "right": WIDTH - RIGHT, "top": TOP,
        "bottom": TOP + inner_h, "bars": bars, "labels": labels, "ticks": ticks, "right_ticks": right_ticks,
        "line": " ".join(points), "label_y": HEIGHT - 12,
        "hundred_y": round(TOP + inner_h - (100 / 150) * inner_h, 1),
    }
