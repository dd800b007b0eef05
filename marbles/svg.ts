import { renderMarbleDiagram } from '@swirly/renderer-node';
import { CHAR_WIDTH, MONO_FONT, type CaseDiagram, type SwirlySpec } from './spec.js';

/** One drawing with a heading above it and its legend below. */
export interface Panel {
  readonly heading: string;
  readonly diagram: CaseDiagram;
}

const PAD = 16;
const HEADING_SIZE = 15;
const LEGEND_SIZE = 13;
const LEGEND_LINE = 18;
const GAP = 24;
/** Legend lines wrap at the drawing's width, or this when the drawing is narrower. */
const LEGEND_MIN_WIDTH = 640;
const SANS = 'Arial, Helvetica, sans-serif';

interface Placed {
  readonly width: number;
  readonly height: number;
  /** SVG elements drawn with the panel's top-left corner at the origin. */
  readonly body: string;
}

/**
 * One SVG with the panels side by side (a single panel for an operator diagram, two for a
 * failure-mode comparison). Deterministic: the same panels always give the same bytes.
 */
export function composePanels(panels: readonly Panel[]): string {
  const placed = panels.map(placePanel);
  const width = placed.reduce((sum, p) => sum + p.width, 0) + GAP * Math.max(0, placed.length - 1);
  const height = Math.max(...placed.map((p) => p.height));
  const parts: string[] = [];
  let x = 0;
  placed.forEach((p, i) => {
    if (i > 0) {
      const lineX = x - GAP / 2;
      parts.push(
        `<line x1="${lineX}" y1="${PAD}" x2="${lineX}" y2="${height - PAD}" stroke="#d0d0d0" stroke-width="1"/>`,
      );
    }
    parts.push(`<g transform="translate(${x} 0)">${p.body}</g>`);
    x += p.width + GAP;
  });
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">` +
    `<rect x="0" y="0" width="${width}" height="${height}" fill="white"/>` +
    parts.join('') +
    '</svg>\n'
  );
}

/** Swirly's renderer, typed with our subset of its spec (its own types package is not installed). */
const renderSwirly = renderMarbleDiagram as unknown as (spec: SwirlySpec) => {
  readonly xml: string;
  readonly width: number;
  readonly height: number;
};

function placePanel(panel: Panel): Placed {
  const drawing = renderSwirly(panel.diagram.spec);
  const headingHeight = PAD + HEADING_SIZE;
  const legendTop = headingHeight + drawing.height;
  const legend = wrapLines(panel.diagram.legend, Math.max(drawing.width, LEGEND_MIN_WIDTH) - PAD * 2, LEGEND_SIZE);
  const width = Math.ceil(
    Math.max(
      drawing.width,
      PAD * 2 + textWidth(panel.heading, HEADING_SIZE),
      ...legend.map((line) => PAD * 2 + textWidth(line, LEGEND_SIZE)),
    ),
  );
  const height = legendTop + (legend.length > 0 ? legend.length * LEGEND_LINE + PAD / 2 : 0);
  const body =
    text(
      PAD,
      PAD + HEADING_SIZE * 0.8,
      panel.heading,
      `font-family="${SANS}" font-size="${HEADING_SIZE}" font-weight="bold"`,
    ) +
    `<g transform="translate(0 ${headingHeight})">${drawing.xml}</g>` +
    legend
      .map((line, i) =>
        text(PAD, legendTop + (i + 0.7) * LEGEND_LINE, line, `font-family="${MONO_FONT}" font-size="${LEGEND_SIZE}"`),
      )
      .join('');
  return { width, height, body };
}

/** Wraps at spaces (a long error message must not make the image thousands of pixels wide). */
function wrapLines(lines: readonly string[], width: number, fontSize: number): string[] {
  const max = Math.max(20, Math.floor(width / (fontSize * CHAR_WIDTH)));
  return lines.flatMap((line) => wrapLine(line, max));
}

function wrapLine(line: string, max: number): string[] {
  const out: string[] = [];
  let current = '';
  for (const word of line.split(' ')) {
    if (current !== '' && current.length + 1 + word.length > max) {
      out.push(current);
      current = `    ${word}`; // continuation lines are indented under the entry
    } else {
      current = current === '' ? word : `${current} ${word}`;
    }
  }
  out.push(current);
  return out;
}

function text(x: number, y: number, content: string, attributes: string): string {
  return `<text x="${x}" y="${y}" fill="black" ${attributes}>${escapeXml(content)}</text>`;
}

/** A width estimate that errs wide: proportional fonts are narrower than monospace on average. */
function textWidth(content: string, fontSize: number): number {
  return content.length * fontSize * CHAR_WIDTH;
}

function escapeXml(s: string): string {
  return s.replace(/[&<>]/g, (ch) => (ch === '&' ? '&amp;' : ch === '<' ? '&lt;' : '&gt;'));
}
