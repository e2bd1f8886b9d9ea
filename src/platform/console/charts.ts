// Bar charts drawn on the server as SVG: no chart library in the browser, nothing to download.
// Each chart carries its numbers as a table too, for screen readers and for reading exact values.
import { html, type SafeHtml } from './html.ts';

export interface Series {
  name: string;
  values: number[];
  /** A colour that means something (failed in red); the palette's next one otherwise. */
  colour?: string;
}

// Distinguishable for common colour blindness, each at least 3:1 against white.
const COLOURS = ['#1f5fbf', '#b3261e', '#2e7d32', '#8a4b00', '#6a1b9a', '#00695c'];

/** Stacked bars, one per label (an hour, a day), one colour per series. */
export function barChart(title: string, labels: string[], series: Series[]): SafeHtml {
  const width = 720;
  const height = 200;
  const left = 40;
  const bottom = 24;
  const totals = labels.map((_, i) => series.reduce((sum, s) => sum + (s.values[i] ?? 0), 0));
  const max = Math.max(1, ...totals);
  const slot = (width - left) / Math.max(1, labels.length);
  const bar = Math.max(2, slot * 0.7);
  const scale = (height - bottom - 8) / max;
  const bars: SafeHtml[] = [];
  labels.forEach((label, i) => {
    let y = height - bottom;
    series.forEach((s, k) => {
      const value = s.values[i] ?? 0;
      if (!value) return;
      const h = value * scale;
      y -= h;
      bars.push(
        html`<rect x="${(left + i * slot + (slot - bar) / 2).toFixed(1)}" y="${y.toFixed(1)}" width="${bar.toFixed(1)}" height="${h.toFixed(1)}" fill="${colourOf(s, k)}"><title>${label}: ${s.name} ${value}</title></rect>`,
      );
    });
  });
  const every = Math.max(1, Math.ceil(labels.length / 12));
  const ticks = labels.map((label, i) =>
    i % every === 0
      ? html`<text x="${(left + i * slot + slot / 2).toFixed(1)}" y="${height - 6}" text-anchor="middle">${label}</text>`
      : '',
  );
  const total = totals.reduce((a, b) => a + b, 0);
  return html`<figure class="chart">
<svg viewBox="0 0 ${width} ${height}" role="img" aria-label="${title}: ${total} in all">
<line x1="${left}" y1="${height - bottom}" x2="${width}" y2="${height - bottom}" stroke="#555"/>
<text x="${left - 6}" y="14" text-anchor="end">${max}</text><text x="${left - 6}" y="${height - bottom}" text-anchor="end">0</text>
${bars}${ticks}
</svg>
<figcaption>${title}. ${series.map(
    (s, k) =>
      html`<span class="key"><span class="swatch" style="background:${colourOf(s, k)}"></span>${s.name} ${s.values.reduce((a, b) => a + b, 0)}</span> `,
  )}</figcaption>
<details><summary>The numbers</summary><div class="table-wrap" tabindex="0" role="region" aria-label="${title}: the numbers"><table><caption>${title}</caption>
<thead><tr><th scope="col">When</th>${series.map((s) => html`<th scope="col" class="num">${s.name}</th>`)}</tr></thead>
<tbody>${labels.map(
    (label, i) =>
      html`<tr><th scope="row">${label}</th>${series.map((s) => html`<td class="num">${s.values[i] ?? 0}</td>`)}</tr>`,
  )}</tbody></table></div></details>
</figure>`;
}

const colourOf = (series: Series, index: number) =>
  series.colour ?? COLOURS[index % COLOURS.length] ?? '#333';

/** Colours for delivery outcomes, the same on every chart. */
export const OUTCOME_COLOURS: Record<string, string> = {
  delivered: '#2e7d32',
  sent: '#1f5fbf',
  failed: '#b3261e',
};
