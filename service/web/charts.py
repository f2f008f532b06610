"""Charts for the bureau's report pages, drawn as inline SVG on the server: no script, no
chart library, nothing fetched from elsewhere. Each chart has a text alternative (the
page shows the same numbers in a table beside it)."""

from __future__ import annotations

from html import escape

from markupsafe import Markup

# Colour-blind-safe (Okabe-Ito), each at least 3:1 against white.
COLOURS = ("#0072B2", "#D55E00", "#009E73")
WIDTH, HEIGHT = 400, 230
LEFT, RIGHT, TOP, BOTTOM = 40, 10, 30, 30


def _nice_max(value: float) -> int:
    if value <= 4:
        return 4  # whole-number ticks (counts)
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def monthly_bars(rows: list[dict], series: list[tuple[str, str]], title: str) -> Markup:
    """Grouped bars: one group per month, one bar per series ((key, label) pairs)."""
    top = _nice_max(max((row.get(key) or 0 for row in rows for key, _ in series), default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}" '
        'xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for i in range(5):
        value = top * i / 4
        y = TOP + plot_h - plot_h * i / 4
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11">{value:g}</text>')
    if rows:
        group_w = plot_w / len(rows)
        bar_w = max(group_w * 0.8 / len(series), 1)
        for g, row in enumerate(rows):
            x0 = LEFT + g * group_w + group_w * 0.1
            for s, (key, label) in enumerate(series):
                value = row.get(key) or 0
                h = plot_h * value / top
                parts.append(
                    f'<rect x="{x0 + s * bar_w:.1f}" y="{TOP + plot_h - h:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                    f'fill="{COLOURS[s % len(COLOURS)]}"><title>{escape(row["month"])} {escape(label)}：{value}</title></rect>'
                )
            every = max(1, len(rows) // 12)
            if g % every == 0:
                parts.append(
                    f'<text x="{LEFT + g * group_w + group_w / 2:.1f}" y="{HEIGHT - BOTTOM + 16}" '
                    f'text-anchor="middle" font-size="11">{escape(row["month"][2:])}</text>'
                )
    else:
        parts.append(
            f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle" font-size="14">所选期间没有数据</text>'
        )
    x = LEFT
    for s, (_, label) in enumerate(series):
        parts.append(f'<rect x="{x}" y="6" width="12" height="12" fill="{COLOURS[s % len(COLOURS)]}"/>')
        parts.append(f'<text x="{x + 16}" y="17" font-size="12">{escape(label)}</text>')
        x += 16 + 12 * len(label) + 14
    parts.append("</svg>")
    return Markup("".join(parts))


def completion_bars(rows: list[dict], series: list[tuple[str, str]], title: str) -> Markup:
    """Horizontal bars of completion % against target, one block per row (a district), with
    the 100% line; a series without a target is written as such."""
    line_h, block_gap = 16, 12
    label_w = 72
    height = TOP + len(rows) * (len(series) * line_h + block_gap) + 8
    scale_max = max(
        [100.0] + [row.get(f"{key}_completion_pct") or 0 for row in rows for key, _ in series],
    )
    plot_w = WIDTH - label_w - RIGHT - 52
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {max(height, 80)}" role="img" aria-label="{escape(title)}" '
        'xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    x = label_w
    for s, (_, label) in enumerate(series):
        parts.append(f'<rect x="{x}" y="6" width="12" height="12" fill="{COLOURS[s % len(COLOURS)]}"/>')
        parts.append(f'<text x="{x + 16}" y="17" font-size="12">{escape(label)}</text>')
        x += 16 + 12 * len(label) + 14
    hundred = label_w + plot_w * 100 / scale_max
    y = TOP
    for row in rows:
        parts.append(
            f'<text x="{label_w - 6}" y="{y + line_h * len(series) / 2 + 4:.1f}" text-anchor="end" '
            f'font-size="12">{escape(row["label"])}</text>'
        )
        for s, (key, label) in enumerate(series):
            pct = row.get(f"{key}_completion_pct")
            if pct is None:
                parts.append(
                    f'<text x="{label_w + 4}" y="{y + line_h - 4}" font-size="11" fill="#555">{escape(label)}：未设目标</text>'
                )
            else:
                w = plot_w * pct / scale_max
                parts.append(
                    f'<rect x="{label_w}" y="{y + 2}" width="{w:.1f}" height="{line_h - 4}" '
                    f'fill="{COLOURS[s % len(COLOURS)]}"><title>{escape(label)}：{pct:.2f}%</title></rect>'
                )
                parts.append(f'<text x="{label_w + w + 4:.1f}" y="{y + line_h - 4}" font-size="11">{pct:.2f}%</text>')
            y += line_h
        y += block_gap
    parts.append(
        f'<line x1="{hundred:.1f}" x2="{hundred:.1f}" y1="{TOP - 4}" y2="{max(y, TOP + 10)}" stroke="#333" '
        'stroke-dasharray="4 3"/>'
    )
    parts.append(f'<text x="{hundred + 3:.1f}" y="{TOP - 6}" font-size="11">100%</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
