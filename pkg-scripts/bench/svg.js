'use strict';
// A hand-made SVG of the benchmark: one panel per figure, horizontal bars per series, value
// labels on every bar, optional whiskers (p90/p99) and limit markers; log scale where the two
// sides differ by orders of magnitude. No plotting library.

const COLORS = { ours: '#1f6fb4', peer: '#d1495b', floor: '#8a8a8a', limit: '#222222' };
const FONT = 'font-family="Helvetica, Arial, sans-serif"';

function esc(s) {
  return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function niceMax(v) {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

/**
 * One panel. rows: [{label, series: 'ours'|'peer'|'floor', value, whisker?, text}] drawn top to
 * bottom, with optional {gap: true} spacers and {limit: value} markers on the preceding bars.
 */
function panel({ x, y, w, h, title, subtitle, rows, notes = [], log = false, unit = '' }) {
  const out = [];
  const labelW = 170;
  const valueW = 92;
  const top = 44;
  const bottom = 24 + notes.length * 14;
  const plotX = x + labelW;
  const plotW = w - labelW - valueW - 10;
  const bars = rows.filter((r) => !r.gap);
  const values = bars.flatMap((r) => [r.value, r.whisker, r.limit]).filter((v) => typeof v === 'number' && Number.isFinite(v));
  const positive = values.filter((v) => v > 0);
  let scale;
  let ticks;
  if (log && positive.length) {
    const lo = Math.floor(Math.log10(Math.min(...positive)));
    const hi = Math.ceil(Math.log10(Math.max(...positive)));
    const span = Math.max(1, hi - lo);
    scale = (v) => (v > 0 ? Math.max(0, (Math.log10(v) - lo) / span) * plotW : 0);
    ticks = Array.from({ length: span + 1 }, (_, i) => 10 ** (lo + i));
  } else {
    const top = Math.max(0, ...values);
    const small = top <= 8 && values.every((v) => Number.isInteger(v));
    const max = small ? Math.max(1, top + 1) : niceMax(top);
    scale = (v) => (v > 0 ? (v / max) * plotW : 0);
    ticks = small ? Array.from({ length: max + 1 }, (_, i) => i) : [0, max / 4, max / 2, (3 * max) / 4, max];
  }
  out.push(`<rect x="${x}" y="${y}" width="${w}" height="${h}" fill="#ffffff" stroke="#dddddd"/>`);
  out.push(`<text x="${x + 10}" y="${y + 20}" ${FONT} font-size="14" font-weight="bold">${esc(title)}</text>`);
  if (subtitle) out.push(`<text x="${x + 10}" y="${y + 36}" ${FONT} font-size="11" fill="#555555">${esc(subtitle)}</text>`);
  const slots = rows.reduce((n, r) => n + (r.gap ? 0.5 : 1), 0);
  const slotH = Math.min(30, (h - top - bottom) / Math.max(1, slots));
  const barH = slotH * 0.62;
  // grid
  for (const t of ticks) {
    const gx = plotX + scale(t);
    out.push(`<line x1="${gx.toFixed(1)}" y1="${y + top - 4}" x2="${gx.toFixed(1)}" y2="${y + h - bottom + 2}" stroke="#eeeeee"/>`);
    out.push(`<text x="${gx.toFixed(1)}" y="${y + h - bottom + 14}" ${FONT} font-size="10" fill="#777777" text-anchor="middle">${esc(fmtTick(t))}${esc(unit)}</text>`);
  }
  let cy = y + top;
  for (const r of rows) {
    if (r.gap) {
      cy += slotH * 0.5;
      continue;
    }
    const by = cy + (slotH - barH) / 2;
    const bw = Math.max(1.5, scale(r.value));
    const color = COLORS[r.series] || COLORS.floor;
    out.push(`<text x="${plotX - 6}" y="${(by + barH * 0.72).toFixed(1)}" ${FONT} font-size="11" text-anchor="end">${esc(r.label)}</text>`);
    out.push(`<rect x="${plotX}" y="${by.toFixed(1)}" width="${bw.toFixed(1)}" height="${barH.toFixed(1)}" fill="${color}"/>`);
    let end = plotX + bw;
    if (typeof r.whisker === 'number' && r.whisker > r.value) {
      const wx = plotX + scale(r.whisker);
      const my = by + barH / 2;
      out.push(`<line x1="${(plotX + bw).toFixed(1)}" y1="${my.toFixed(1)}" x2="${wx.toFixed(1)}" y2="${my.toFixed(1)}" stroke="${color}" stroke-width="1.2"/>`);
      out.push(`<line x1="${wx.toFixed(1)}" y1="${(by + 2).toFixed(1)}" x2="${wx.toFixed(1)}" y2="${(by + barH - 2).toFixed(1)}" stroke="${color}" stroke-width="1.2"/>`);
      end = Math.max(end, wx);
    }
    if (typeof r.limit === 'number') {
      const lx = plotX + scale(r.limit);
      // Keep the value label clear of the marker when the marker sits where the label goes.
      if (lx >= end - 1 && lx <= end + 7 * String(r.text).length + 8) end = lx + 2;
      out.push(`<line x1="${lx.toFixed(1)}" y1="${(by - 2).toFixed(1)}" x2="${lx.toFixed(1)}" y2="${(by + barH + 2).toFixed(1)}" stroke="${COLORS.limit}" stroke-width="2" stroke-dasharray="3,2"/>`);
    }
    out.push(`<text x="${(Math.min(end, plotX + plotW) + 5).toFixed(1)}" y="${(by + barH * 0.72).toFixed(1)}" ${FONT} font-size="11" fill="#333333">${esc(r.text)}</text>`);
    cy += slotH;
  }
  notes.forEach((n, i) => {
    out.push(`<text x="${x + 10}" y="${(y + h - bottom + 32 + i * 14).toFixed(1)}" ${FONT} font-size="10.5" fill="#555555">${esc(n)}</text>`);
  });
  return out.join('\n');
}

function fmtTick(v) {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`;
  if (a >= 1e3) return `${+(v / 1e3).toPrecision(3)}k`;
  if (a < 0.01) return v.toExponential(0);
  return String(+v.toPrecision(3));
}

/** The whole figure: panels laid out in two columns. */
function render({ title, subtitle, panels, width = 1000, panelH = 262 }) {
  const colW = (width - 30) / 2;
  const rowsN = Math.ceil(panels.length / 2);
  const height = 80 + rowsN * (panelH + 10) + 10;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<rect width="${width}" height="${height}" fill="#f7f7f7"/>`,
    `<text x="10" y="26" ${FONT} font-size="18" font-weight="bold">${esc(title)}</text>`,
    `<text x="10" y="46" ${FONT} font-size="12" fill="#444444">${esc(subtitle)}</text>`,
    legend(10, 62),
  ];
  panels.forEach((p, i) => {
    const col = i % 2;
    const row = Math.floor(i / 2);
    parts.push(panel({ ...p, x: 10 + col * (colW + 10), y: 80 + row * (panelH + 10), w: colW, h: panelH }));
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

function legend(x, y) {
  const items = [['ours (dist/action.js)', COLORS.ours, 160], ['peer (auth0 SDK)', COLORS.peer, 130], ['empty Action', COLORS.floor, 110]];
  const out = [];
  let ix = x;
  for (const [label, color, w] of items) {
    out.push(`<rect x="${ix}" y="${y - 9}" width="10" height="10" fill="${color}"/>`);
    out.push(`<text x="${ix + 14}" y="${y}" ${FONT} font-size="11">${esc(label)}</text>`);
    ix += w;
  }
  out.push(`<line x1="${ix}" y1="${y - 10}" x2="${ix}" y2="${y + 2}" stroke="${COLORS.limit}" stroke-width="2" stroke-dasharray="3,2"/>`);
  out.push(`<text x="${ix + 6}" y="${y}" ${FONT} font-size="11">physical limit / deadline</text>`);
  out.push(`<text x="${ix + 170}" y="${y}" ${FONT} font-size="11">whiskers: p90 (cold start), p99 (warm)</text>`);
  return out.join('\n');
}

module.exports = { render, panel, COLORS };
