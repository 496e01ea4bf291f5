// A grouped bar chart as a standalone SVG (no dependency: a few rects and texts), for the benches to draw their
// results: one group per load shape, one bar per server, each bar's value written above it.

const COLOURS = ['#1f6feb', '#58a6ff', '#a5d6ff', '#8250df', '#2da44e', '#bf8700', '#cf222e'];
const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * `groups`: [{ name, bars: [{ key, value }] }]; `labels`: key → legend text; values are drawn to scale from 0 within
 * each group (shapes differ by orders of magnitude), so bars compare within a group, not across groups.
 */
export function barChart({ title, unit, groups, labels }) {
  const keys = [...new Set(groups.flatMap((g) => g.bars.map((b) => b.key)))];
  const bar = 26;
  const gap = 36;
  const height = 220;
  const top = 50;
  const groupWidth = keys.length * bar + gap;
  const width = Math.max(560, 40 + groups.length * groupWidth);
  const legendTop = top + height + 46;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${legendTop + keys.length * 18 + 10}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="20" y="24" font-size="14" font-weight="bold">${esc(title)}</text>`,
    `<text x="20" y="40" fill="#555">${esc(unit)}; each group to its own scale</text>`,
  ];
  groups.forEach((g, gi) => {
    const x0 = 30 + gi * groupWidth;
    const max = Math.max(...g.bars.map((b) => b.value), 1);
    g.bars.forEach((b) => {
      const i = keys.indexOf(b.key);
      const h = Math.round((b.value / max) * height);
      const x = x0 + i * bar;
      const y = top + height - h;
      parts.push(`<rect x="${x}" y="${y}" width="${bar - 4}" height="${h}" fill="${COLOURS[i % COLOURS.length]}"/>`);
      const label = b.value >= 10_000 ? `${Math.round(b.value / 1000)}k` : String(Math.round(b.value));
      parts.push(`<text x="${x + (bar - 4) / 2}" y="${y - 3}" text-anchor="middle">${label}</text>`);
    });
    parts.push(
      `<text x="${x0 + (keys.length * bar) / 2}" y="${top + height + 18}" text-anchor="middle" font-weight="bold">${esc(g.name)}</text>`,
    );
  });
  keys.forEach((k, i) => {
    const y = legendTop + i * 18;
    parts.push(`<rect x="20" y="${y - 10}" width="12" height="12" fill="${COLOURS[i % COLOURS.length]}"/>`);
    parts.push(`<text x="38" y="${y}">${esc(labels[k] ?? k)}</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
