// Inline SVG charts (no library, no network): a time-series line chart and horizontal usage bars.

const esc = (s) =>
  String(s).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c],
  );

function niceMax(v) {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

/**
 * A line chart. `series`: [{ name, color, points: [[epochMs, value], ...] }]; `thresholds`: [{ value, label,
 * color }] drawn as dashed lines; `format` renders y labels.
 */
export function lineChart({
  series,
  thresholds = [],
  width = 640,
  height = 180,
  format = (v) => String(v),
  yMin = 0,
  title = '',
}) {
  const pad = { l: 44, r: 12, t: 10, b: 22 };
  const all = series.flatMap((s) => s.points);
  const xs = all.map((p) => p[0]);
  const x0 = xs.length ? Math.min(...xs) : 0;
  const x1 = xs.length ? Math.max(...xs) : 1;
  const yTop = niceMax(Math.max(...all.map((p) => p[1]), ...thresholds.map((t) => t.value * 1.1), 0));
  const W = width - pad.l - pad.r;
  const H = height - pad.t - pad.b;
  const X = (t) => pad.l + (x1 === x0 ? W : ((t - x0) / (x1 - x0)) * W);
  const Y = (v) => pad.t + H - ((v - yMin) / (yTop - yMin)) * H;
  let svg = `<svg class="chart" viewBox="0 0 ${width} ${height}" role="img" aria-label="${esc(title)}">`;
  for (let i = 0; i <= 4; i++) {
    const v = yMin + ((yTop - yMin) * i) / 4;
    svg += `<line class="grid" x1="${pad.l}" x2="${width - pad.r}" y1="${Y(v)}" y2="${Y(v)}"/>`;
    svg += `<text x="${pad.l - 6}" y="${Y(v) + 3}" text-anchor="end">${esc(format(v))}</text>`;
  }
  if (xs.length) {
    for (const t of [x0, (x0 + x1) / 2, x1]) {
      const label = new Date(t).toLocaleTimeString([], {
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
      });
      svg += `<text x="${X(t)}" y="${height - 6}" text-anchor="middle">${label}</text>`;
    }
  }
  for (const th of thresholds) {
    svg += `<line x1="${pad.l}" x2="${width - pad.r}" y1="${Y(th.value)}" y2="${Y(th.value)}" stroke="${th.color}" stroke-dasharray="4 4" stroke-width="1"/>`;
    svg += `<text x="${width - pad.r - 2}" y="${Y(th.value) - 3}" text-anchor="end" style="fill:${th.color}">${esc(th.label)}</text>`;
  }
  for (const s of series) {
    if (!s.points.length) continue;
    const d = s.points.map((p, i) => `${i ? 'L' : 'M'}${X(p[0]).toFixed(1)},${Y(p[1]).toFixed(1)}`).join('');
    if (s.fill) {
      const last = s.points[s.points.length - 1];
      svg += `<path d="${d}L${X(last[0]).toFixed(1)},${Y(yMin)}L${X(s.points[0][0]).toFixed(1)},${Y(yMin)}Z" fill="${s.color}" opacity="0.12"/>`;
    }
    svg += `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2" stroke-linejoin="round"/>`;
    const last = s.points[s.points.length - 1];
    svg += `<circle cx="${X(last[0])}" cy="${Y(last[1])}" r="3" fill="${s.color}"/>`;
  }
  if (!all.length)
    svg += `<text x="${width / 2}" y="${height / 2}" text-anchor="middle">no samples yet</text>`;
  svg += '</svg>';
  const legend = series
    .map((s) => `<span><i class="swatch" style="background:${s.color}"></i>${esc(s.name)}</span>`)
    .join('');
  return svg + `<div class="legend">${legend}</div>`;
}

/** Horizontal bars: rows [{ label, value, max, note }], coloured by the used fraction. */
export function usageBars(rows, { width = 640 } = {}) {
  const rowH = 22;
  const labelW = 300;
  const height = rows.length * rowH + 6;
  let svg = `<svg class="chart" viewBox="0 0 ${width} ${height}" role="img" aria-label="usage against limit">`;
  rows.forEach((r, i) => {
    const y = 4 + i * rowH;
    const f = r.max > 0 ? Math.min(1, r.value / r.max) : r.value > 0 ? 1 : 0;
    const color = f >= 1 ? '#f85149' : f >= 0.8 ? '#d29922' : '#58a6ff';
    const barW = width - labelW - 130;
    svg += `<text x="0" y="${y + 13}" style="fill:#d8e0e8;font-size:11px">${esc(r.label)}</text>`;
    svg += `<rect x="${labelW}" y="${y + 3}" width="${barW}" height="12" rx="3" fill="#0d131a"/>`;
    svg += `<rect x="${labelW}" y="${y + 3}" width="${(barW * f).toFixed(1)}" height="12" rx="3" fill="${color}"/>`;
    svg += `<text x="${labelW + barW + 8}" y="${y + 13}" style="font-size:11px">${esc(r.note)}</text>`;
  });
  return `${svg}</svg>`;
}
