import type { TopLevelSpec } from 'vega-lite';
import type { RunRecord } from '../runs/record.js';
import { wilson } from '../stats/intervals.js';
import { CHART_FILES, reportData, type ReportData, type ReportTask } from './readme.js';

/*
 * SVG charts of the results, rendered in Node with Vega-Lite -> Vega -> View.toSVG() (headless: no
 * browser, no canvas). Deterministic for the same data:
 *  - text widths are always estimated, never measured with node-canvas (whose fonts depend on the machine);
 *  - dates are UTC dates, shown on a UTC scale, so the time zone of the machine does not matter;
 *  - the ids of clip paths and gradients, which Vega numbers from a process-wide counter, are renumbered
 *    in order of appearance;
 *  - every data row and every domain is sorted.
 */

export interface Chart {
  /** File name inside the charts folder. */
  file: string;
  svg: string;
}

const WIDTH = 360;
const COLOR_SCHEME = 'tableau10';

type VegaInternals = { textMetrics?: { canvas(use: boolean): void }; resetSVGDefIds?: () => void };

/** Renumbers Vega's counter-based SVG ids (clip1, gradient_0, ...) in order of first appearance. */
export function normalizeSvgIds(svg: string): string {
  const ids = new Map<string, string>();
  const rename = (prefix: string) => (m: string) => {
    if (!ids.has(m)) ids.set(m, `${prefix}${[...ids.keys()].filter((k) => k.startsWith(prefix)).length + 1}`);
    return ids.get(m)!;
  };
  return svg.replace(/\bclip\d+\b/g, rename('clip')).replace(/\bgradient_\d+\b/g, rename('gradient_'));
}

/**
 * Vega and Vega-Lite, loaded on first use: about 0.6 s of module loading that every CLI and action start
 * paid, though only `report` and publishing draw charts.
 */
let loaded: Promise<{ vega: typeof import('vega'); compile: typeof import('vega-lite').compile }> | null = null;
const renderer = () => (loaded ??= Promise.all([import('vega'), import('vega-lite')]).then(([vega, vl]) => ({ vega, compile: vl.compile })));

/** Renders a Vega-Lite spec to an SVG string. Throws on any Vega-Lite warning, which means a broken spec. */
async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const { vega, compile } = await renderer();
  const internals = vega as unknown as VegaInternals;
  internals.textMetrics?.canvas(false);
  internals.resetSVGDefIds?.();
  const warnings: string[] = [];
  const logger = {
    level(): number { return 0; },
    error(...a: unknown[]) { throw new Error(`vega-lite: ${a.join(' ')}`); },
    warn(...a: unknown[]) { warnings.push(a.join(' ')); return this; },
    info() { return this; },
    debug() { return this; },
  };
  const vgSpec = compile(spec, { logger: logger as never }).spec;
  // Layers of one faceted chart share one data source, so this warning (about unioning their domains) is moot.
  const real = warnings.filter((w) => !/faceted independent scales that union domain of the same fields/.test(w));
  if (real.length) throw new Error(`vega-lite: ${real.join('; ')}`);
  const view = new vega.View(vega.parse(vgSpec), { renderer: 'none', logLevel: vega.Error });
  try {
    const svg = await view.toSVG();
    return normalizeSvgIds(svg) + '\n';
  } finally {
    view.finalize();
  }
}

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

function emptySpec(title: string): TopLevelSpec {
  return {
    $schema: SCHEMA,
    title,
    width: WIDTH,
    height: 40,
    data: { values: [{ text: 'No runs yet' }] },
    mark: { type: 'text', fontSize: 14, color: '#666' },
    encoding: { text: { field: 'text', type: 'nominal' } },
  };
}

/** Pass rate per model and task (default variants), with 95% interval whiskers and a label "40% n=10". */
function passRateSpec(data: ReportData): TopLevelSpec {
  const title = 'Pass rate per model and task (default variant, 95% interval)';
  const rows = data.cells
    .filter((c) => data.defaultVariant.get(c.task) === c.variant && c.passRate !== null)
    .map((c) => ({
      task: `${c.task} (${c.variant})`,
      model: c.model,
      rate: c.passRate as number,
      low: c.ci.low,
      high: c.ci.high,
      label: `${Math.round((c.passRate as number) * 100)}% n=${c.graded}`,
    }));
  if (rows.length === 0) return emptySpec(title);
  const models = [...new Set(rows.map((r) => r.model))].sort();
  const y = { field: 'model', type: 'nominal' as const, title: null, sort: models, axis: { labelLimit: 400 } };
  const color = { field: 'model', type: 'nominal' as const, legend: null, scale: { domain: models, scheme: COLOR_SCHEME } };
  const x = { field: 'rate', type: 'quantitative' as const, scale: { domain: [0, 1] }, axis: { format: '.0%', title: 'pass rate (95% interval)' } };
  return {
    $schema: SCHEMA,
    title,
    data: { values: rows },
    facet: { row: { field: 'task', type: 'nominal', title: null, sort: 'ascending', header: { labelAngle: 0, labelAlign: 'left', labelAnchor: 'start', labelOrient: 'top' } } },
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: WIDTH,
      height: { step: 22 },
      layer: [
        { mark: { type: 'rule', strokeWidth: 2 }, encoding: { y, x: { ...x, field: 'low' }, x2: { field: 'high' }, color } },
        { mark: { type: 'point', filled: true, size: 70, opacity: 1 }, encoding: { y, x, color } },
        { mark: { type: 'text', align: 'left', dx: 6, fontSize: 10 }, encoding: { y, x: { ...x, field: 'high' }, text: { field: 'label', type: 'nominal' } } },
      ],
    },
  };
}

/** Height of one over-time panel: small multiples stay readable, and 8 tasks make a chart of about 1,000 px, not 2,300. */
const OVER_TIME_PANEL_HEIGHT = 70;
const OVER_TIME_PANEL_WIDTH = 170;

/**
 * Pass rate over time as small multiples: a panel per task (rows) and model (columns), so models never overplot;
 * each point is one run date (UTC) on the task's default variant, with its 95% interval as a whisker.
 */
function passRateOverTimeSpec(data: ReportData): TopLevelSpec {
  const title = 'Pass rate over time, per task and model (default variant, by run date UTC, 95% interval)';
  const rows = data.overTime.map((p) => {
    const ci = wilson(p.passes, p.graded);
    return {
      task: `${p.task} (${data.defaultVariant.get(p.task) ?? '?'})`,
      model: p.model,
      date: Date.parse(`${p.date}T00:00:00.000Z`),
      rate: p.passes / p.graded,
      low: ci.low,
      high: ci.high,
      label: `${p.date}: ${p.passes}/${p.graded} passed, 95% interval ${Math.round(ci.low * 100)}–${Math.round(ci.high * 100)}%`,
    };
  });
  if (rows.length === 0) return emptySpec(title);
  const models = [...new Set(rows.map((r) => r.model))].sort();
  const dates = [...new Set(rows.map((r) => r.date))].sort((a, b) => a - b);
  const day = 86_400_000;
  const x = {
    field: 'date',
    type: 'temporal' as const,
    title: null,
    // Pad by half a day so a single date is not at the edge; ticks are whole UTC days.
    scale: { type: 'utc' as const, domain: [dates[0]! - day / 2, dates[dates.length - 1]! + day / 2] },
    axis: { format: '%Y-%m-%d', labelAngle: -30, tickCount: { interval: 'day' as const, step: Math.max(1, Math.ceil(dates.length > 1 ? (dates[dates.length - 1]! - dates[0]!) / day / 4 : 1)) } },
  };
  const y = { field: 'rate', type: 'quantitative' as const, scale: { domain: [0, 1] }, axis: { format: '.0%', title: null, tickCount: 3 } };
  const color = { field: 'model', type: 'nominal' as const, legend: null, scale: { domain: models, scheme: COLOR_SCHEME } };
  const header = { labelAngle: 0, labelAlign: 'left' as const, labelAnchor: 'start' as const, labelOrient: 'top' as const, labelLimit: 300 };
  return {
    $schema: SCHEMA,
    title,
    data: { values: rows },
    facet: {
      row: { field: 'task', type: 'nominal', title: null, sort: 'ascending', header },
      column: { field: 'model', type: 'nominal', title: null, sort: models, header: { labelLimit: 0, labelFontSize: 10 } },
    },
    spec: {
      width: OVER_TIME_PANEL_WIDTH,
      height: OVER_TIME_PANEL_HEIGHT,
      layer: [
        { mark: { type: 'rule', strokeWidth: 1.5, opacity: 0.6 }, encoding: { x, y: { ...y, field: 'low' }, y2: { field: 'high' }, color } },
        { mark: { type: 'line', point: { filled: true, size: 30 } }, encoding: { x, y, color, tooltip: [{ field: 'model' }, { field: 'label' }] } },
      ],
    },
  };
}

/** Both charts as SVG strings, in a fixed order. Pure apart from Vega's process-wide id counters, which are reset. */
export async function renderCharts(records: readonly RunRecord[], tasks: readonly ReportTask[]): Promise<Chart[]> {
  const data = reportData(records, tasks);
  return [
    { file: CHART_FILES.passRate, svg: await renderSvg(passRateSpec(data)) },
    { file: CHART_FILES.passRateOverTime, svg: await renderSvg(passRateOverTimeSpec(data)) },
  ];
}
