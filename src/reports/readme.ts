import { markdownTable } from 'markdown-table';
import type { RunRecord, TrialResult } from '../runs/record.js';
import { pct } from '../format.js';
import { cellStats, groupCells, type CellStats } from './cells.js';

/*
 * The README report: sections of README.md regenerated from the results store, between markers
 *
 *   <!-- envbench:leaderboard:start -->
 *   ...generated...
 *   <!-- envbench:leaderboard:end -->
 *
 * Everything here is pure: the same run records and tasks give byte-identical sections (every list is
 * sorted, and the only dates are those of the data). The CLI command (`report`) does the file IO.
 */

// ---------------------------------------------------------------------------------------------------
// Markers: the one place that names them

export const REPORT_SECTIONS = ['leaderboard', 'tasks', 'ablations', 'calibration', 'charts'] as const;
export type ReportSection = (typeof REPORT_SECTIONS)[number];
export type ReportSections = Record<ReportSection, string>;

/** Headings used when a section is appended to a README that had no markers for it. */
const SECTION_TITLES: Record<ReportSection, string> = {
  leaderboard: 'Leaderboard',
  tasks: 'Results by task',
  ablations: 'Ablations',
  calibration: 'Calibration',
  charts: 'Charts',
};

const MARKER_PREFIX = 'envbench';

/** The HTML comments that delimit a generated section, e.g. `<!-- envbench:leaderboard:start -->`. */
export function sectionMarkers(name: ReportSection): { start: string; end: string } {
  return { start: `<!-- ${MARKER_PREFIX}:${name}:start -->`, end: `<!-- ${MARKER_PREFIX}:${name}:end -->` };
}

/** Chart files written by the report, relative to the charts folder (results/charts by default). */
export const CHART_FILES = {
  passRate: 'pass-rate.svg',
  passRateOverTime: 'pass-rate-over-time.svg',
} as const;

// ---------------------------------------------------------------------------------------------------
// Inputs

/**
 * What the report needs of a task. A LoadedTask (src/tasks/load.ts) is one; tests can pass plain objects.
 */
export interface ReportTask {
  def: {
    id: string;
    title: string;
    calibration?: { model: string; low: number; high: number; source: string } | undefined;
  };
  variants: { id: string; isDefault: boolean; description?: string }[];
  /**
   * The current version hash of each variant (src/tasks/version.ts). When given, only trials of these versions
   * are counted; `report` always gives them. Tests may leave them out to count every version.
   */
  versions?: ReadonlyMap<string, string>;
}

/** Why a trial is not counted in the tables; null when it is (current task version, full grading profile). */
export type NotCountedReason = 'older task version' | 'no task version (schema 1 record)' | 'partial grading profile';

/** Whether a trial counts: of its task's current version (when known) and graded with the full profile. */
function notCountedReason(t: TrialResult, task: ReportTask | undefined): NotCountedReason | null {
  const current = task?.versions?.get(t.variant);
  if (task?.versions) {
    if (!t.provenance) return 'no task version (schema 1 record)';
    if (t.provenance.taskHash !== current) return 'older task version';
  }
  if (t.provenance?.grading?.profile === 'partial') return 'partial grading profile';
  return null;
}

/** Trials set apart from the tables, counted per task, variant, model and reason. */
export interface ApartRow {
  task: string;
  variant: string;
  model: string;
  reason: NotCountedReason;
  trials: number;
  graded: number;
  passes: number;
}

export interface ReportOptions {
  /** Path of the charts folder as a link from the README's folder, '/'-separated. Default 'results/charts'. */
  chartsPath?: string;
}

// ---------------------------------------------------------------------------------------------------
// The data model shared with the charts

export interface ReportData {
  /** Every cell (task, variant, model) with trials, sorted by task, variant, model. */
  cells: CellStats[];
  /** Task ids: defined ones and those seen only in the data, sorted. */
  taskIds: string[];
  tasks: Map<string, ReportTask>;
  /** Default variant of each defined task. */
  defaultVariant: Map<string, string>;
  /** One point per (task, model, run date) on the task's default variant: pass rate of that date's graded trials. */
  overTime: { task: string; model: string; date: string; passes: number; graded: number }[];
  /** Trials not counted (older task versions, partial grading profiles, unversioned records), shown apart. */
  apart: ApartRow[];
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const isGraded = (t: TrialResult) => t.status === 'passed' || t.status === 'failed';

/** UTC date (YYYY-MM-DD) of an ISO timestamp. */
function utcDate(iso: string): string {
  return new Date(iso).toISOString().slice(0, 10);
}

/** Cells, the task list and the over-time points: everything the sections and charts are drawn from. */
export function reportData(records: readonly RunRecord[], tasks: readonly ReportTask[]): ReportData {
  const taskMap = new Map<string, ReportTask>();
  const defaultVariant = new Map<string, string>();
  for (const t of tasks) {
    taskMap.set(t.def.id, t);
    const d = t.variants.find((v) => v.isDefault) ?? t.variants[0];
    if (d) defaultVariant.set(t.def.id, d.id);
  }
  const apartMap = new Map<string, ApartRow>();
  const counted = (t: TrialResult): boolean => {
    const reason = notCountedReason(t, taskMap.get(t.task));
    if (reason === null) return true;
    const key = JSON.stringify([t.task, t.variant, t.model, reason]);
    let row = apartMap.get(key);
    if (!row) apartMap.set(key, (row = { task: t.task, variant: t.variant, model: t.model, reason, trials: 0, graded: 0, passes: 0 }));
    row.trials++;
    if (isGraded(t)) row.graded++;
    if (t.status === 'passed') row.passes++;
    return false;
  };
  const trials = records.flatMap((r) => r.trials).filter(counted);
  const countedSet = new Set(trials);
  const cells = groupCells(trials)
    .map((c) => cellStats(c.trials))
    .sort((a, b) => cmp(a.task, b.task) || cmp(a.variant, b.variant) || cmp(a.model, b.model));

  const points = new Map<string, { task: string; model: string; date: string; passes: number; graded: number }>();
  for (const r of records) {
    const date = utcDate(r.startedAt);
    for (const t of r.trials) {
      if (!isGraded(t) || defaultVariant.get(t.task) !== t.variant || !countedSet.has(t)) continue;
      const key = `${t.task}\u0000${t.model}\u0000${date}`;
      let p = points.get(key);
      if (!p) points.set(key, (p = { task: t.task, model: t.model, date, passes: 0, graded: 0 }));
      p.graded++;
      if (t.status === 'passed') p.passes++;
    }
  }
  const overTime = [...points.values()].sort((a, b) => cmp(a.task, b.task) || cmp(a.model, b.model) || cmp(a.date, b.date));
  const apart = [...apartMap.values()].sort((a, b) => cmp(a.task, b.task) || cmp(a.variant, b.variant) || cmp(a.model, b.model) || cmp(a.reason, b.reason));
  const taskIds = [...new Set([...taskMap.keys(), ...cells.map((c) => c.task), ...apart.map((a) => a.task)])].sort(cmp);
  return { cells, taskIds, tasks: taskMap, defaultVariant, overTime, apart };
}

// ---------------------------------------------------------------------------------------------------
// Formatting

const pctBare = (x: number) => `${Math.round(x * 100)}`;
const DASH = '—';

/** "40% [17–69] n=10": pass rate, its 95% interval in percent, and graded trials. */
export function formatRate(c: Pick<CellStats, 'passRate' | 'ci' | 'graded'>): string {
  if (c.passRate === null) return `${DASH} n=0`;
  return `${pct(c.passRate)} [${pctBare(c.ci.low)}–${pctBare(c.ci.high)}] n=${c.graded}`;
}

const num = (x: number | null, digits: number) => (x === null ? DASH : x.toFixed(digits));
const tokens = (x: number | null) => (x === null ? DASH : Number.isInteger(x) ? String(x) : x.toFixed(1));
const usd = (x: number | null) => (x === null ? DASH : `$${x.toFixed(4)}`);
/** Table cells may not contain pipes or newlines. */
const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
const table = (rows: string[][]) => markdownTable(rows.map((r) => r.map(cell)));
const code = (s: string) => `\`${s}\``;

/** The rule the tables count by, stated under them. */
const COUNTING_RULE =
  'Counted: only trials of each task\'s current version (the content hash of its files, src/tasks/version.ts) graded with its full grading profile (every check ran).';

function apartSummary(rows: readonly ApartRow[]): string {
  const by = new Map<NotCountedReason, number>();
  for (const r of rows) by.set(r.reason, (by.get(r.reason) ?? 0) + r.trials);
  return [...by].sort((a, b) => cmp(a[0], b[0])).map(([reason, n]) => `${n} trial${n === 1 ? '' : 's'} of ${reason === 'no task version (schema 1 record)' ? 'records without task versions (schema 1)' : reason === 'older task version' ? 'older task versions' : 'a partial grading profile'}`).join(', ');
}

function apartTable(rows: readonly ApartRow[]): string {
  return table([
    ['variant', 'model', 'not counted because', 'trials', 'graded', 'passed'],
    ...rows.map((r) => [r.variant, r.model, r.reason, String(r.trials), String(r.graded), String(r.passes)]),
  ]);
}

const NO_RUNS =
  '_No runs yet._ This section is generated from the results store (`results/runs/`) by `npm run bench -- report`; ' +
  'it fills in once `npm run bench` has stored a run.';

// ---------------------------------------------------------------------------------------------------
// Sections

/** Variants of a task in display order: the default first, then the definition's order, then unknown ones sorted. */
function variantOrder(task: string, data: ReportData): string[] {
  const t = data.tasks.get(task);
  const defined = t ? t.variants.map((v) => v.id) : [];
  const def = data.defaultVariant.get(task);
  const ordered = def ? [def, ...defined.filter((v) => v !== def)] : defined;
  const seen = [...new Set(data.cells.filter((c) => c.task === task).map((c) => c.variant))].filter((v) => !ordered.includes(v)).sort(cmp);
  return [...ordered, ...seen];
}

function leaderboard(data: ReportData): string {
  const tasks = data.taskIds.filter((t) => data.defaultVariant.has(t));
  const onDefault = data.cells.filter((c) => data.defaultVariant.get(c.task) === c.variant);
  const undefinedTasks = [...new Set(data.cells.map((c) => c.task))].filter((t) => !data.tasks.has(t)).sort(cmp);
  const notes: string[] = [];
  if (undefinedTasks.length) {
    notes.push(`Not in the leaderboard, because no task definition names their default variant: ${undefinedTasks.map(code).join(', ')} (see the results by task).`);
  }
  const apartN = data.apart.reduce((a, r) => a + r.trials, 0);
  if (apartN) notes.push(`${COUNTING_RULE} Not counted: ${apartSummary(data.apart)}; they are listed under the results by task.`);
  if (onDefault.length === 0) return [NO_RUNS, ...notes].join('\n\n');

  const models = [...new Set(onDefault.map((c) => c.model))];
  const rows = models.map((model) => {
    const mine = onDefault.filter((c) => c.model === model);
    const rates = mine.filter((c) => c.passRate !== null).map((c) => c.passRate as number);
    const mean = rates.length ? rates.reduce((a, b) => a + b, 0) / rates.length : null;
    return {
      model,
      mean,
      covered: rates.length,
      errors: mine.reduce((a, c) => a + c.errors, 0),
      skips: mine.reduce((a, c) => a + c.skips, 0),
      cells: tasks.map((t) => {
        const c = mine.find((x) => x.task === t);
        return c ? formatRate(c) : DASH;
      }),
    };
  });
  rows.sort((a, b) => (b.mean ?? -1) - (a.mean ?? -1) || cmp(a.model, b.model));
  const header = ['model', 'mean pass rate', ...tasks.map((t) => `${t} (${data.defaultVariant.get(t)})`), 'errors', 'skipped'];
  const body = rows.map((r) => [
    r.model,
    r.mean === null ? DASH : r.covered < tasks.length ? `${pct(r.mean)} (${r.covered} of ${tasks.length} tasks)` : pct(r.mean),
    ...r.cells,
    String(r.errors),
    String(r.skips),
  ]);
  return [
    table([header, ...body]),
    'Each cell: the pass rate over graded trials (passed + failed) on the task\'s default variant, its 95% interval ' +
      '(Wilson; clustered by sample when a task has several samples) and n, the graded trials. ' +
      '**Errors (harness, grader or API failures) and skips are excluded from the rates** and counted in their own columns. ' +
      'Rows are sorted by the mean pass rate over tasks. Other variants are under the ablations, every cell under the results by task.' +
      (apartN ? '' : ` ${COUNTING_RULE}`),
    ...notes,
  ].join('\n\n');
}

function tasksSection(data: ReportData): string {
  if (data.taskIds.length === 0) return '_No tasks defined._';
  const parts: string[] = [];
  for (const id of data.taskIds) {
    const t = data.tasks.get(id);
    const def = data.defaultVariant.get(id);
    parts.push(`### ${code(id)}${t ? `: ${t.def.title}` : ' (no longer defined in tasks/)'}`);
    const cells = data.cells.filter((c) => c.task === id);
    const apart = data.apart.filter((r) => r.task === id);
    const apartPart = apart.length ? [`Not counted above (${apartSummary(apart)}):`, apartTable(apart)] : [];
    if (cells.length === 0) {
      parts.push(`Default variant ${code(def ?? '?')}. ${apart.length ? '_No counted runs yet._' : '_No runs yet._'}`, ...apartPart);
      continue;
    }
    if (def) parts.push(`Default variant ${code(def)}.`);
    const defined = new Set(t?.variants.map((v) => v.id) ?? []);
    const rows: string[][] = [];
    for (const v of variantOrder(id, data)) {
      for (const c of cells.filter((x) => x.variant === v)) {
        const at = (k: number) => c.passAtK.find((r) => r.k === k)?.passAtK ?? null;
        rows.push([
          t && !defined.has(v) ? `${v} (not defined)` : v,
          c.model,
          String(c.graded),
          String(c.passes),
          String(c.errors),
          String(c.skips),
          c.passRate === null ? DASH : `${pct(c.passRate)} [${pctBare(c.ci.low)}–${pctBare(c.ci.high)}]`,
          c.passRate === null ? DASH : c.interval,
          at(1) === null ? DASH : pct(at(1)!),
          at(5) === null ? DASH : pct(at(5)!),
          num(c.meanScore, 2),
          tokens(c.medianOutputTokens),
          usd(c.meanCostUsd),
          c.latestFinishedAt ? utcDate(c.latestFinishedAt) : DASH,
        ]);
      }
    }
    parts.push(
      table([
        ['variant', 'model', 'n', 'passed', 'errors', 'skipped', 'pass rate [95% CI]', 'interval', 'pass@1', 'pass@5', 'mean score', 'median output tokens', 'mean cost', 'newest trial'],
        ...rows,
      ]),
      ...apartPart,
    );
  }
  if (data.cells.length === 0 && data.apart.length === 0) return parts.join('\n\n');
  parts.push(
    COUNTING_RULE + ' Trials of older versions, of a partial profile (a CUDA check skipped on CPU) and of records without versions are listed apart under each task, never pooled. ' +
    'n: graded trials (passed + failed), the denominator of the pass rate; errors and skips are not in it. ' +
      'Interval: `wilson` (trials independent) or `clustered` (standard error clustered by sample, used when graded trials come from two or more samples). ' +
      'pass@k: the unbiased estimator averaged over samples, shown when every sample has at least k graded trials. ' +
      'Mean score and median output tokens are over graded trials; mean cost over trials that ran and have a price. Newest trial: UTC date.',
  );
  return parts.join('\n\n');
}

function ablations(data: ReportData): string {
  const parts: string[] = [];
  for (const id of data.taskIds) {
    const variants = variantOrder(id, data);
    if (variants.length < 2) continue;
    const t = data.tasks.get(id);
    const def = data.defaultVariant.get(id);
    parts.push(`### ${code(id)}`);
    const descriptions = (t?.variants ?? []).filter((v) => v.description).map((v) => `- ${code(v.id)}${v.id === def ? ' (default)' : ''}: ${v.description}`);
    if (descriptions.length) parts.push(descriptions.join('\n'));
    const cells = data.cells.filter((c) => c.task === id);
    if (cells.length === 0) {
      parts.push('_No runs yet._');
      continue;
    }
    const models = [...new Set(cells.map((c) => c.model))].sort(cmp);
    parts.push(
      table([
        ['model', ...variants.map((v) => (v === def ? `${v} (default)` : v))],
        ...models.map((m) => [m, ...variants.map((v) => {
          const c = cells.find((x) => x.model === m && x.variant === v);
          return c ? formatRate(c) : DASH;
        })]),
      ]),
    );
  }
  if (parts.length === 0) return '_No task has more than one variant._';
  if (data.cells.length === 0) return parts.join('\n\n');
  parts.push('Pass rate [95% interval] n=graded trials, per variant; errors and skips excluded as above.');
  return parts.join('\n\n');
}

/** Calibration verdict of one task: its calibration model's pass rate on the default variant against its band. */
export interface CalibrationRow {
  task: string;
  model: string;
  low: number;
  high: number;
  source: string;
  cell: CellStats | null;
  /**
   * Judged by the 95% interval, not the point estimate: out of band only when the whole interval is outside
   * the band; 'inconclusive' when the point is outside but the interval still reaches the band (too few trials).
   */
  status: 'in band' | 'above band' | 'below band' | 'inconclusive' | 'no data';
}

export function calibrationRows(data: ReportData): CalibrationRow[] {
  const rows: CalibrationRow[] = [];
  for (const id of data.taskIds) {
    const cal = data.tasks.get(id)?.def.calibration;
    if (!cal) continue;
    const c = data.cells.find((x) => x.task === id && x.variant === data.defaultVariant.get(id) && x.model === cal.model) ?? null;
    const r = c?.passRate ?? null;
    const ci = c?.wilsonCi;
    const status: CalibrationRow['status'] =
      r === null || !ci
        ? 'no data'
        : ci.high < cal.low
          ? 'below band'
          : ci.low > cal.high
            ? 'above band'
            : r < cal.low || r > cal.high
              ? 'inconclusive'
              : 'in band';
    rows.push({ task: id, model: cal.model, low: cal.low, high: cal.high, source: cal.source, cell: c, status });
  }
  return rows;
}

function calibration(data: ReportData): string {
  const rows = calibrationRows(data);
  if (rows.length === 0) return '_No task defines a calibration band._';
  const out = rows.filter((r) => r.status === 'above band' || r.status === 'below band');
  const missing = rows.filter((r) => r.status === 'no data');
  const unsure = rows.filter((r) => r.status === 'inconclusive');
  const summary = [
    out.length
      ? `**Out of band: ${out.map((r) => code(r.task)).join(', ')}.** A task outside its band may have drifted: a changed grader or environment, or a different model behind the name.`
      : out.length + missing.length + unsure.length < rows.length
        ? 'Every calibrated task with data is consistent with its band.'
        : '',
    missing.length ? `No data for the calibration model: ${missing.map((r) => code(r.task)).join(', ')}.` : '',
    unsure.length ? `Inconclusive (the pass rate is outside the band but its interval reaches it; more trials decide): ${unsure.map((r) => code(r.task)).join(', ')}.` : '',
  ].filter(Boolean).join(' ');
  return [
    summary,
    table([
      ['task', 'calibration model', 'band', 'observed (default variant)', 'status', 'band source'],
      ...rows.map((r) => [
        r.task,
        r.model,
        `${pct(r.low)}–${pct(r.high)}`,
        r.cell ? formatRate(r.cell) : DASH,
        r.status === 'above band' || r.status === 'below band' ? `**${r.status.toUpperCase()}**` : r.status,
        r.source,
      ]),
    ]),
    'The band is the `calibration` field of the task definition. A task is out of band only when the 95% interval of its pass rate lies wholly outside the band, never from a point estimate.',
  ].join('\n\n');
}

function charts(chartsPath: string): string {
  const link = (f: string) => (chartsPath ? `${chartsPath.replace(/\/+$/, '')}/${f}` : f);
  return [
    `![Pass rate per model and task, default variants, with 95% intervals](${link(CHART_FILES.passRate)})`,
    `![Pass rate per model over time, by run date (UTC), default variants](${link(CHART_FILES.passRateOverTime)})`,
    `Drawn with Vega-Lite by \`npm run bench -- report\` into \`${chartsPath || '.'}/\`.`,
  ].join('\n\n');
}

/** Every generated section, as markdown without the markers. Pure and deterministic. */
export function renderReport(records: readonly RunRecord[], tasks: readonly ReportTask[], opts: ReportOptions = {}): ReportSections {
  const data = reportData(records, tasks);
  return {
    leaderboard: leaderboard(data),
    tasks: tasksSection(data),
    ablations: ablations(data),
    calibration: calibration(data),
    charts: charts(opts.chartsPath ?? 'results/charts'),
  };
}

// ---------------------------------------------------------------------------------------------------
// README update

export class ReadmeMarkerError extends Error {
  override name = 'ReadmeMarkerError';
}

export interface ReadmeUpdate {
  text: string;
  /** Sections whose markers were missing: appended at the end, with a heading. */
  appended: ReportSection[];
  changed: boolean;
}

function occurrences(text: string, s: string): number[] {
  const at: number[] = [];
  for (let i = text.indexOf(s); i !== -1; i = text.indexOf(s, i + s.length)) at.push(i);
  return at;
}

/**
 * Replaces what lies between each section's markers with the section (the markers and everything outside
 * them are kept byte for byte). A section with neither marker is appended at the end, under a heading,
 * with its markers; later updates replace it in place. A lone, repeated or misordered marker is an error.
 */
export function updateReadme(readmeText: string, sections: Partial<ReportSections>): ReadmeUpdate {
  let text = readmeText;
  const appended: ReportSection[] = [];
  for (const name of REPORT_SECTIONS) {
    const body = sections[name];
    if (body === undefined) continue;
    const { start, end } = sectionMarkers(name);
    const s = occurrences(text, start);
    const e = occurrences(text, end);
    const content = `${start}\n${body.trim()}\n${end}`;
    if (s.length === 0 && e.length === 0) {
      text = `${text.replace(/\s*$/, '')}${text.trim() ? '\n\n' : ''}## ${SECTION_TITLES[name]}\n\n${content}\n`;
      appended.push(name);
      continue;
    }
    if (s.length !== 1 || e.length !== 1) {
      throw new ReadmeMarkerError(`the README must have exactly one ${start} and one ${end} (found ${s.length} and ${e.length}); fix the markers and run the report again`);
    }
    if (e[0]! < s[0]!) throw new ReadmeMarkerError(`${end} comes before ${start}; swap them and run the report again`);
    text = text.slice(0, s[0]!) + content + text.slice(e[0]! + end.length);
  }
  return { text, appended, changed: text !== readmeText };
}
