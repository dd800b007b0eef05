// A tiny SVG line chart (log-scale x, log- or linear-scale y, legend below): no browser, no canvas,
// no dependency, and the same bytes for the same data.

export interface Series {
  name: string;
  points: readonly (readonly [number, number])[];
  color: string;
  /** An SVG stroke-dasharray, e.g. '7 4'; solid when absent. */
  dash?: string;
  bold?: boolean;
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  yLog: boolean;
  series: readonly Series[];
}

const WIDTH = 760;
const PLOT_HEIGHT = 300;
const MARGIN = { left: 78, right: 24, top: 44, bottom: 48 };
const LEGEND_ROW = 18;

const escape = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const fmt = (v: number): string => {
  if (v === 0) return '0';
  const abs = Math.abs(v);
  if (abs >= 1e6 && Number.isInteger(Math.log10(abs))) return `10^${Math.log10(abs)}`;
  if (abs >= 1000) return `${+(v / 1000).toPrecision(3)}k`;
  if (abs >= 1) return `${+v.toPrecision(3)}`;
  return `${+v.toPrecision(2)}`;
};

const xTickLabel = (v: number): string => {
  const exp = Math.log10(v);
  return Number.isInteger(exp) ? `10${superscript(exp)}` : fmt(v);
};

const superscript = (n: number): string =>
  String(n).replace(/[0-9-]/g, (d) => '⁰¹²³⁴⁵⁶⁷⁸⁹'['0123456789'.indexOf(d)] ?? '⁻');

/** Ticks at 1, 2, 5 × powers of ten inside [lo, hi] (log scale). */
function logTicks(lo: number, hi: number): number[] {
  const ticks: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v >= lo * 0.999 && v <= hi * 1.001) ticks.push(v);
    }
  }
  return ticks;
}

/** About five round ticks from 0 to hi (linear scale). */
function linearTicks(hi: number): number[] {
  const raw = hi / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  for (let v = 0; v <= hi * 1.0001; v += step) ticks.push(+v.toPrecision(12));
  return ticks;
}

export function lineChart(opts: ChartOptions): string {
  const series = opts.series.filter((s) => s.points.length > 0);
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => s.points.map((p) => p[1]));
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const height = MARGIN.top + PLOT_HEIGHT + MARGIN.bottom + series.length * LEGEND_ROW + 12;

  const xMin = Math.min(...xs);
  const xMax = Math.max(...xs);
  const xPad = xMin === xMax ? 2 : 1.25;
  const x0 = Math.log10(xMin / xPad);
  const x1 = Math.log10(xMax * xPad);
  const sx = (v: number): number => MARGIN.left + ((Math.log10(v) - x0) / (x1 - x0)) * plotW;

  let sy: (v: number) => number;
  let yTicks: number[];
  if (opts.yLog) {
    const floor = 1e-3;
    const lo = 10 ** Math.floor(Math.log10(Math.max(floor, Math.min(...ys))));
    const hi = 10 ** Math.ceil(Math.log10(Math.max(floor * 10, ...ys)));
    const y0 = Math.log10(lo);
    const y1 = Math.log10(hi);
    sy = (v) => MARGIN.top + PLOT_HEIGHT - ((Math.log10(Math.max(v, lo)) - y0) / (y1 - y0)) * PLOT_HEIGHT;
    yTicks = logTicks(lo, hi);
    if (yTicks.length > 12) yTicks = yTicks.filter((v) => Number.isInteger(Math.log10(v)));
  } else {
    const hi = Math.max(1, ...ys) * 1.08;
    yTicks = linearTicks(hi);
    const top = yTicks.at(-1)!;
    sy = (v) => MARGIN.top + PLOT_HEIGHT - (Math.max(0, v) / top) * PLOT_HEIGHT;
  }

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" ` +
      `font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="${WIDTH / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${escape(opts.title)}</text>`,
  );
  const bottom = MARGIN.top + PLOT_HEIGHT;
  for (const v of yTicks) {
    const y = sy(v).toFixed(1);
    out.push(
      `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${y}" y2="${y}" stroke="#e5e5e5"/>`,
      `<text x="${MARGIN.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle" fill="#444">${fmt(v)}</text>`,
    );
  }
  for (const v of [...new Set(xs)].sort((a, b) => a - b)) {
    const x = sx(v).toFixed(1);
    out.push(
      `<line x1="${x}" x2="${x}" y1="${MARGIN.top}" y2="${bottom}" stroke="#e5e5e5"/>`,
      `<text x="${x}" y="${bottom + 18}" text-anchor="middle" fill="#444">${xTickLabel(v)}</text>`,
    );
  }
  out.push(
    `<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${PLOT_HEIGHT}" fill="none" stroke="#999"/>`,
    `<text x="${MARGIN.left + plotW / 2}" y="${bottom + 38}" text-anchor="middle">${escape(opts.xLabel)}</text>`,
    `<text transform="translate(18 ${MARGIN.top + PLOT_HEIGHT / 2}) rotate(-90)" text-anchor="middle">${escape(opts.yLabel)}</text>`,
  );
  for (const s of series) {
    const pts = [...s.points].sort((a, b) => a[0] - b[0]).map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`);
    const width = s.bold === true ? 3.5 : 2;
    const dash = s.dash === undefined ? '' : ` stroke-dasharray="${s.dash}"`;
    if (pts.length > 1) {
      out.push(`<polyline points="${pts.join(' ')}" fill="none" stroke="${s.color}" stroke-width="${width}"${dash}/>`);
    }
    for (const p of pts) {
      const [cx, cy] = p.split(',');
      out.push(`<circle cx="${cx}" cy="${cy}" r="${s.bold === true ? 4.5 : 3.5}" fill="${s.color}"/>`);
    }
  }
  series.forEach((s, i) => {
    const y = bottom + MARGIN.bottom + 8 + i * LEGEND_ROW;
    const dash = s.dash === undefined ? '' : ` stroke-dasharray="${s.dash}"`;
    out.push(
      `<line x1="${MARGIN.left}" x2="${MARGIN.left + 28}" y1="${y}" y2="${y}" stroke="${s.color}" ` +
        `stroke-width="${s.bold === true ? 3.5 : 2}"${dash}/>`,
      `<text x="${MARGIN.left + 36}" y="${y}" dominant-baseline="middle"${s.bold === true ? ' font-weight="bold"' : ''}>` +
        `${escape(s.name)}</text>`,
    );
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
