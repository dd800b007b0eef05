// Line charts for docs/performance.md, drawn by Apache ECharts with its server-side SVG renderer:
// no browser, no canvas, no DOM, and the same bytes for the same data (animation off, a fresh
// chart per figure).
import { LineChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TitleComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { SVGRenderer } from 'echarts/renderers';

echarts.use([LineChart, GridComponent, LegendComponent, TitleComponent, SVGRenderer]);

export interface Series {
  name: string;
  points: readonly (readonly [number, number])[];
  color: string;
  /** A dash pattern, e.g. '7 4' (dash and gap lengths); solid when absent. */
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
const GRID = { left: 78, right: 28, top: 48 };
const LEGEND_ROW = 20;
const FONT = 'Helvetica, Arial, sans-serif';

const superscript = (n: number): string =>
  String(n).replace(/[0-9-]/g, (d) => '⁰¹²³⁴⁵⁶⁷⁸⁹'['0123456789'.indexOf(d)] ?? '⁻');

/** 10⁴ for exact powers of ten (the sizes N), 2k / 0.5 / 12 otherwise. */
function label(v: number): string {
  if (v === 0) return '0';
  const exp = Math.log10(Math.abs(v));
  if (Math.abs(v) >= 1000 && Number.isInteger(exp)) return `10${superscript(exp)}`;
  if (Math.abs(v) >= 1000) return `${+(v / 1000).toPrecision(3)}k`;
  return `${+v.toPrecision(v >= 1 ? 3 : 2)}`;
}

/** Renders one chart: log-scale N on x, time (log) or heap (linear) on y, one legend row per line. */
export function lineChart(opts: ChartOptions): string {
  const series = opts.series.filter((s) => s.points.length > 0);
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => s.points.map((p) => p[1]));
  const legendTop = GRID.top + PLOT_HEIGHT + 52;
  const height = legendTop + series.length * LEGEND_ROW + 12;
  // The sizes measured, edge to edge: they are whole decades, so the ticks are the sizes.
  const xMin = Math.min(...xs);
  const xMax = Math.max(...xs);
  const yFloor = 1e-3;
  const yAxis = opts.yLog
    ? {
        type: 'log' as const,
        logBase: 10,
        min: 10 ** Math.floor(Math.log10(Math.max(yFloor, Math.min(...ys)))),
        max: 10 ** Math.ceil(Math.log10(Math.max(yFloor * 10, ...ys))),
      }
    : { type: 'value' as const, min: 0, max: (extent: { max: number }) => niceCeiling(Math.max(1, extent.max) * 1.08) };

  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width: WIDTH, height });
  try {
    chart.setOption({
      animation: false,
      backgroundColor: '#ffffff',
      textStyle: { fontFamily: FONT, fontSize: 12 },
      title: { text: opts.title, left: 'center', top: 10, textStyle: { fontSize: 15, fontFamily: FONT } },
      grid: { ...GRID, height: PLOT_HEIGHT, containLabel: false },
      xAxis: {
        type: 'log',
        logBase: 10,
        min: xMin,
        max: xMax,
        name: opts.xLabel,
        nameLocation: 'middle',
        nameGap: 30,
        axisLabel: { formatter: label, color: '#444' },
        splitLine: { show: true, lineStyle: { color: '#e5e5e5' } },
      },
      yAxis: {
        ...yAxis,
        name: opts.yLabel,
        nameLocation: 'middle',
        nameGap: 56,
        axisLabel: { formatter: label, color: '#444' },
        splitLine: { show: true, lineStyle: { color: '#e5e5e5' } },
      },
      legend: {
        orient: 'vertical',
        left: GRID.left,
        top: legendTop,
        itemGap: LEGEND_ROW - 14,
        itemWidth: 28,
        itemHeight: 12,
        textStyle: { fontFamily: FONT, fontSize: 12 },
        data: series.map((s) => ({
          name: s.name,
          textStyle: s.bold === true ? { fontWeight: 'bold' } : {},
        })),
      },
      series: series.map((s) => ({
        type: 'line',
        name: s.name,
        data: [...s.points].sort((a, b) => a[0] - b[0]).map(([x, y]) => [x, opts.yLog ? Math.max(y, yFloor) : y]),
        color: s.color,
        symbol: 'circle',
        symbolSize: s.bold === true ? 9 : 7,
        lineStyle: {
          color: s.color,
          width: s.bold === true ? 3.5 : 2,
          type: s.dash === undefined ? 'solid' : s.dash.split(/\s+/).map(Number),
        },
        itemStyle: { color: s.color },
        // Ours on top of the peers it is compared with.
        z: s.bold === true ? 3 : 2,
      })),
    });
    return `${chart.renderToSVGString()}\n`;
  } finally {
    chart.dispose();
  }
}

/** The next 1, 2, 2.5 or 5 × a power of ten at or above v: a round top for a linear axis. */
function niceCeiling(v: number): number {
  const mag = 10 ** Math.floor(Math.log10(v));
  return ([1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= v) ?? v) + 0;
}
