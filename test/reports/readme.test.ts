import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { addRunToStore } from '../../src/runs/store.js';
import { taskVersions } from '../../src/tasks/version.js';
import type { RunRecord, TrialResult } from '../../src/runs/record.js';
import { makeRunRecord, makeTrial, STATUS_OF, type StatusLetter } from '../support/records.js';
import {
  calibrationRows, formatRate, renderReport, reportData, sectionMarkers, updateReadme, REPORT_SECTIONS, ReadmeMarkerError, type ReportTask,
} from '../../src/reports/readme.js';
import { normalizeSvgIds, renderCharts } from '../../src/reports/charts.js';

/*
 * The data (hand-made; every expected number below is computed by hand in the comments).
 *
 * Models: oracle, anthropic:claude-haiku-4-5 (HAIKU), anthropic:claude-3-5-sonnet (SONNET).
 * Tasks: paged-attention (the real definition: variants budget-2900 (default) and no-budget, one sample
 * "default", calibration SONNET in [0.17, 0.69]) and the `echo` fixture (variants default (default) and
 * terse, samples apple and pear, no calibration).
 *
 * Run 1, started 2026-11-20:
 *   paged-attention/budget-2900 oracle: 5 passed
 *   paged-attention/no-budget   oracle: 5 passed
 *   paged-attention/budget-2900 HAIKU : P F F F E       (1 of 4 graded on 2026-11-20)
 *   paged-attention/budget-2900 SONNET: P P P P F
 *   echo/default oracle: apple P, pear P
 * Run 2, started 2026-11-21:
 *   paged-attention/budget-2900 HAIKU : P P P F F F E S (3 of 6 graded on 2026-11-21)
 *   paged-attention/no-budget   HAIKU : 7 P, 3 F
 *   paged-attention/budget-2900 SONNET: P P P P F
 *   echo/default HAIKU: apple P P P F, pear P F F F
 *   echo/terse   HAIKU: apple P F,     pear F F
 */
const HAIKU = 'anthropic:claude-haiku-4-5';
const SONNET = 'anthropic:claude-3-5-sonnet';
const REPO = path.resolve(import.meta.dirname, '..', '..');
type S = StatusLetter;

function trials(task: string, variant: string, model: string, sample: string, statuses: S[], finishedAt: string): TrialResult[] {
  return statuses.map((s, epoch) =>
    makeTrial({
      task, variant, sample, model, epoch, status: STATUS_OF[s],
      limit: s === 'F' ? 'tokens' : null,
      // Passes: 1000 output tokens and $0.02; failures 3000 and $0.01; errors 0 and $0.005; skips nothing.
      usage: { inputTokens: 500, outputTokens: s === 'P' ? 1000 : s === 'F' ? 3000 : 0, cacheReadInputTokens: 0, cacheCreationInputTokens: 0 },
      costUsd: s === 'P' ? 0.02 : s === 'F' ? 0.01 : s === 'E' ? 0.005 : null,
      durationMs: 1000, error: s === 'E' ? 'API 529 overloaded' : s === 'S' ? 'python modules missing' : null,
      turns: 3, finishedAt,
    }));
}
const rep = (s: S, n: number): S[] => Array<S>(n).fill(s);

function record(runId: string, startedAt: string, ts: TrialResult[]): RunRecord {
  return makeRunRecord(runId, ts, { startedAt, finishedAt: startedAt.replace('T10', 'T11').replace('T09', 'T10') });
}

const D1 = '2026-11-20T10:30:00.000Z';
const D2 = '2026-11-21T09:30:00.000Z';
const RUN1 = record('20261120T100000Z-aaaa0001', '2026-11-20T10:00:00.000Z', [
  ...trials('paged-attention', 'budget-2900', 'oracle', 'default', rep('P', 5), D1),
  ...trials('paged-attention', 'no-budget', 'oracle', 'default', rep('P', 5), D1),
  ...trials('paged-attention', 'budget-2900', HAIKU, 'default', ['P', 'F', 'F', 'F', 'E'], D1),
  ...trials('paged-attention', 'budget-2900', SONNET, 'default', ['P', 'P', 'P', 'P', 'F'], D1),
  ...trials('echo', 'default', 'oracle', 'apple', ['P'], D1),
  ...trials('echo', 'default', 'oracle', 'pear', ['P'], D1),
]);
const RUN2 = record('20261121T090000Z-bbbb0002', '2026-11-21T09:00:00.000Z', [
  ...trials('paged-attention', 'budget-2900', HAIKU, 'default', ['P', 'P', 'P', 'F', 'F', 'F', 'E', 'S'], D2),
  ...trials('paged-attention', 'no-budget', HAIKU, 'default', [...rep('P', 7), ...rep('F', 3)], D2),
  ...trials('paged-attention', 'budget-2900', SONNET, 'default', ['P', 'P', 'P', 'P', 'F'], D2),
  ...trials('echo', 'default', HAIKU, 'apple', ['P', 'P', 'P', 'F'], D2),
  ...trials('echo', 'default', HAIKU, 'pear', ['P', 'F', 'F', 'F'], D2),
  ...trials('echo', 'terse', HAIKU, 'apple', ['P', 'F'], D2),
  ...trials('echo', 'terse', HAIKU, 'pear', ['F', 'F'], D2),
]);
// A third run on a later date: changes the data, so the committed report goes stale.
const RUN3 = record('20261122T090000Z-cccc0003', '2026-11-22T09:00:00.000Z', [
  ...trials('paged-attention', 'budget-2900', HAIKU, 'default', rep('P', 10), '2026-11-22T09:30:00.000Z'),
]);

/** Markdown table rows as arrays of trimmed cells, to check cells without depending on column padding. */
function rows(markdown: string): string[][] {
  return markdown
    .split('\n')
    .filter((l) => l.startsWith('|') && !/^\|[\s-|]+\|$/.test(l))
    .map((l) => l.slice(1, -1).split(/(?<!\\)\|/).map((c) => c.trim()));
}
const row = (markdown: string, ...firstCells: string[]) =>
  rows(markdown).find((r) => firstCells.every((c, i) => r[i] === c));

function between(text: string, name: (typeof REPORT_SECTIONS)[number]): string {
  const { start, end } = sectionMarkers(name);
  return text.slice(text.indexOf(start) + start.length, text.indexOf(end));
}

const README_WITH_MARKERS = [
  '# demo', '', 'Intro kept as is.', '', '## Leaderboard', '',
  sectionMarkers('leaderboard').start, 'stale text', sectionMarkers('leaderboard').end, '',
  '## Details', '',
  ...(['tasks', 'ablations', 'calibration', 'charts'] as const).flatMap((s) => [sectionMarkers(s).start, sectionMarkers(s).end, '']),
  '## Footer', '', 'Kept too.', '',
].join('\n');

async function cli(argv: string[], env: NodeJS.ProcessEnv) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (s) => out.push(s), err: (s) => err.push(s) }, env);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

let tasksDir: string;
const tempDirs: string[] = [];
afterAll(async () => {
  for (const d of tempDirs) await fs.rm(d, { recursive: true, force: true });
});
let tasks: Awaited<ReturnType<typeof import('../../src/tasks/load.js').loadTasks>>;

beforeAll(async () => {
  // A tasks folder with the real paged-attention task and the echo fixture: copies of their folders whose
  // task.ts re-exports the original definition (so its own relative imports still resolve).
  tasksDir = await fs.mkdtemp(path.join(os.tmpdir(), 'envbench-report-tasks-'));
  tempDirs.push(tasksDir);
  for (const src of [path.join(REPO, 'tasks', 'paged-attention'), path.join(REPO, 'test', 'fixtures', 'tasks', 'echo')]) {
    const dest = path.join(tasksDir, path.basename(src));
    await fs.cp(src, dest, { recursive: true });
    await fs.writeFile(path.join(dest, 'task.ts'), `export { default } from ${JSON.stringify(pathToFileURL(path.join(src, 'task.ts')).href)};\n`);
  }
  const { loadTasks } = await import('../../src/tasks/load.js');
  tasks = await loadTasks(undefined, tasksDir);
  versions = await taskVersions(tasks);
});

let versions: Map<string, Map<string, string>>;
/** The record as this harness writes it: each trial of the tasks' current version, fully graded. */
function current(r: RunRecord, over: Partial<NonNullable<TrialResult['provenance']>> = {}): RunRecord {
  return {
    ...r,
    schemaVersion: 2,
    trials: r.trials.map((t) => ({
      ...t,
      provenance: { taskHash: versions.get(t.task)?.get(t.variant) ?? 'f'.repeat(64), harness: '0.1.0+test', servedModel: null, grading: { profile: 'full', ran: [], skipped: [] }, ...over },
    })),
  };
}

async function workspace(readme = README_WITH_MARKERS, runs: RunRecord[] = [RUN1, RUN2]) {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'envbench-report-'));
  tempDirs.push(dir);
  const results = path.join(dir, 'results', 'runs');
  await fs.mkdir(results, { recursive: true });
  for (const r of runs) await addRunToStore(r.schemaVersion === 1 ? current(r) : r, results);
  const readmePath = path.join(dir, 'README.md');
  await fs.writeFile(readmePath, readme);
  const env = { ENVBENCH_TASKS_DIR: tasksDir };
  const args = ['report', '--results', results, '--readme', readmePath];
  return { dir, results, readmePath, env, args, charts: path.join(dir, 'results', 'charts') };
}

describe('renderReport: only the current task version and the full grading profile count', () => {
  it('older versions, partial profiles and unversioned records are counted apart and said so', () => {
    const hash = versions.get('echo')!.get('default')!;
    const withVersions = tasks.map((t) => ({ ...t, versions: versions.get(t.def.id)! }));
    const prov = (taskHash: string, profile: 'full' | 'partial') => ({
      taskHash, harness: '0.1.0+x', servedModel: 'claude-haiku-4-5-20251001',
      grading: { profile, ran: ['matches'], skipped: profile === 'partial' ? [{ check: 'peak', why: 'no CUDA here' }] : [] },
    });
    const mk = (status: 'P' | 'F', epoch: number, p: ReturnType<typeof prov> | undefined) =>
      makeTrial({ task: 'echo', variant: 'default', sample: 'apple', model: HAIKU, epoch, status: STATUS_OF[status], ...(p && { provenance: p }) });
    const run = makeRunRecord('mixed', [
      // current and full: 1 of 2 passed -> the only counted trials
      mk('P', 0, prov(hash, 'full')), mk('F', 1, prov(hash, 'full')),
      // an older task version: 3 passes that must not lift the rate
      mk('P', 2, prov('0'.repeat(64), 'full')), mk('P', 3, prov('0'.repeat(64), 'full')), mk('P', 4, prov('0'.repeat(64), 'full')),
      // current version graded without its CUDA checks
      mk('P', 5, prov(hash, 'partial')),
    ], { schemaVersion: 2 });
    const legacy = makeRunRecord('legacy', [mk('P', 6, undefined), mk('P', 7, undefined)]);
    const s = renderReport([run, legacy], withVersions);
    expect(row(s.leaderboard, HAIKU)![2]).toMatch(/^50% \[\d+–\d+\] n=2$/);
    expect(s.leaderboard).toContain('Counted: only trials of each task\'s current version');
    expect(s.leaderboard).toContain('Not counted: 2 trials of records without task versions (schema 1), 3 trials of older task versions, 1 trial of a partial grading profile');
    const apart = s.tasks.slice(s.tasks.indexOf('Not counted above'));
    expect(rows(apart).slice(1)).toEqual([
      ['default', HAIKU, 'no task version (schema 1 record)', '2', '2', '2'],
      ['default', HAIKU, 'older task version', '3', '3', '3'],
      ['default', HAIKU, 'partial grading profile', '1', '1', '1'],
    ]);
  });
});

describe('renderReport: the numbers', () => {
  it('leaderboard: default variants, hand-computed cells, sorted by mean pass rate, errors apart', () => {
    const s = renderReport([RUN1, RUN2], tasks).leaderboard;
    const table = rows(s);
    // Columns: tasks sorted by id (echo, paged-attention), each on its default variant.
    expect(table[0]).toEqual(['model', 'mean pass rate', 'echo (default)', 'paged-attention (budget-2900)', 'errors', 'skipped']);
    // Means over tasks: oracle (100% + 100%)/2 = 100%; SONNET 80% on its only task; HAIKU (50% + 40%)/2 = 45%.
    expect(table.slice(1).map((r) => r[0])).toEqual(['oracle', SONNET, HAIKU]);
    // HAIKU on paged-attention/budget-2900: 1+3 = 4 passed, 3+3 = 6 failed, 2 errors, 1 skip -> 4/10 graded.
    // Wilson 95%, z = 1.96: center (0.4 + 1.9208/10)/1.38415 = 0.42777, half 1.96*sqrt(0.024 + 0.0096)/1.38415 = 0.25955
    // -> [0.168, 0.687] = [17–69].
    // HAIKU on echo/default: apple 3/4, pear 1/4 -> 4/8 = 50%, two samples so clustered: residual sums +1 and -1,
    // SE = sqrt(2/1 * 2)/8 = 0.25; two clusters: t with 1 df, 0.5 ± 12.706*0.25 clipped -> [0–100] (all two samples can say).
    expect(row(s, HAIKU)).toEqual([HAIKU, '45%', '50% [0–100] n=8', '40% [17–69] n=10', '2', '1']);
    // SONNET: 4/5 + 4/5 = 8/10. Wilson: center (0.8 + 0.19208)/1.38415 = 0.71675, half 1.96*sqrt(0.016 + 0.0096)/1.38415 = 0.22658
    // -> [0.490, 0.943] = [49–94]. It never ran echo.
    expect(row(s, SONNET)).toEqual([SONNET, '80% (1 of 2 tasks)', '—', '80% [49–94] n=10', '0', '0']);
    // oracle: 5/5 -> Wilson low (1 + 0.38415)/1.76831 - 1.96*sqrt(0.038415)/1.76831 = 0.78277 - 0.21724 = 0.566 -> [57–100];
    // echo 2/2 (p = 1, so Wilson, not clustered): (1 + 0.96037)/2.92073 - 1.96*sqrt(0.24009)/2.92073 = 0.67119 - 0.32881 = 0.342 -> [34–100].
    expect(row(s, 'oracle')).toEqual(['oracle', '100%', '100% [34–100] n=2', '100% [57–100] n=5', '0', '0']);
    expect(s).toMatch(/Errors \(harness, grader or API failures\) and skips are excluded from the rates/);
  });

  it('tasks: one table per task with n, errors, interval kind, pass@k, score, tokens, cost and the newest date', () => {
    const s = renderReport([RUN1, RUN2], tasks).tasks;
    expect(s.indexOf('### `echo`')).toBeLessThan(s.indexOf('### `paged-attention`'));
    expect(rows(s)[0]).toEqual(['variant', 'model', 'n', 'passed', 'errors', 'skipped', 'pass rate [95% CI]', 'interval', 'pass@1', 'pass@5', 'mean score', 'median output tokens', 'mean cost', 'newest trial']);
    // HAIKU budget-2900: pass@1 = 4/10; pass@5 = 1 - C(6,5)/C(10,5) = 1 - 6/252 = 0.976 -> 98%. Mean score 4/10.
    // Median output tokens of graded: four 1000s and six 3000s -> the 5th and 6th are 3000.
    // Mean cost over the 12 trials that ran: (4*0.02 + 6*0.01 + 2*0.005)/12 = 0.15/12 = $0.0125. Newest: run 2's date.
    expect(row(s, 'budget-2900', HAIKU)).toEqual(['budget-2900', HAIKU, '10', '4', '2', '1', '40% [17–69]', 'wilson', '40%', '98%', '0.40', '3000', '$0.0125', '2026-11-21']);
    // echo/default HAIKU: clustered (two samples, 0 < p < 1); pass@1 = mean(3/4, 1/4) = 50%; pass@5 needs 5 per sample: —.
    // Median tokens: four 1000s, four 3000s -> (1000 + 3000)/2 = 2000. Cost: (4*0.02 + 4*0.01)/8 = $0.0150.
    expect(row(s, 'default', HAIKU)).toEqual(['default', HAIKU, '8', '4', '0', '0', '50% [0–100]', 'clustered', '50%', '—', '0.50', '2000', '$0.0150', '2026-11-21']);
    // echo/terse HAIKU: apple 1/2, pear 0/2 -> 1/4; residual sums 1 - 0.5 = 0.5 and -0.5; SE = sqrt(2 * 0.5)/4 = 0.25;
    // 0.25 ± 0.49 -> [0, 0.74] (clipped at 0).
    expect(row(s, 'terse', HAIKU)?.slice(0, 8)).toEqual(['terse', HAIKU, '4', '1', '0', '0', '25% [0–100]', 'clustered']);
    // Default variant first, then the definition's order; models sorted within a variant.
    const pa = s.slice(s.indexOf('### `paged-attention`'));
    expect(rows(pa).slice(1).map((r) => `${r[0]} ${r[1]}`)).toEqual([
      `budget-2900 ${SONNET}`, `budget-2900 ${HAIKU}`, 'budget-2900 oracle', `no-budget ${HAIKU}`, 'no-budget oracle',
    ]);
  });

  it('ablations: variants x models for each task with more than one variant', () => {
    const s = renderReport([RUN1, RUN2], tasks).ablations;
    const pa = s.slice(s.indexOf('### `paged-attention`'));
    expect(rows(pa)[0]).toEqual(['model', 'budget-2900 (default)', 'no-budget']);
    // HAIKU no-budget: 7/10. Wilson: center (0.7 + 0.19208)/1.38415 = 0.64450, half 1.96*sqrt(0.021 + 0.0096)/1.38415 = 0.24771
    // -> [0.397, 0.892] = [40–89].
    expect(row(pa, HAIKU)).toEqual([HAIKU, '40% [17–69] n=10', '70% [40–89] n=10']);
    expect(row(pa, SONNET)).toEqual([SONNET, '80% [49–94] n=10', '—']);
    expect(row(pa, 'oracle')).toEqual(['oracle', '100% [57–100] n=5', '100% [57–100] n=5']);
    expect(pa).toContain("- `no-budget`: ablation: the same prompt with a 32,000-token budget");
    const echo = s.slice(s.indexOf('### `echo`'), s.indexOf('### `paged-attention`'));
    // echo/default oracle 2/2; terse: HAIKU 1/4 as above; oracle never ran terse.
    expect(row(echo, HAIKU)).toEqual([HAIKU, '50% [0–100] n=8', '25% [0–100] n=4']);
    expect(row(echo, 'oracle')).toEqual(['oracle', '100% [34–100] n=2', '—']);
  });

  it('calibration: a point estimate outside the band whose interval reaches it is inconclusive, not out of band', () => {
    const s = renderReport([RUN1, RUN2], tasks).calibration;
    // paged-attention's band for SONNET is [0.17, 0.69]; SONNET passed 8/10 = 0.80 > 0.69, but [49, 94] reaches the band.
    expect(s).not.toMatch(/Out of band/);
    expect(s).toMatch(/Inconclusive \(the pass rate is outside the band but its interval reaches it; more trials decide\): `paged-attention`\./);
    expect(row(s, 'paged-attention')).toEqual(['paged-attention', SONNET, '17%–69%', '80% [49–94] n=10', 'inconclusive', expect.stringMatching(/^seed 004/)]);
    // echo defines no calibration band: not listed.
    expect(row(s, 'echo')).toBeUndefined();
  });

  it('calibration: in band, below band and "no data" (tasks given as plain objects)', () => {
    const plain = (id: string, model: string, low: number, high: number): ReportTask => ({
      def: { id, title: id, calibration: { model, low, high, source: 'test' } },
      variants: [{ id: 'budget-2900', isDefault: true }],
    });
    const ts = [plain('paged-attention', SONNET, 0.5, 0.9), plain('t-below', SONNET, 0.5, 0.9), plain('t-few', SONNET, 0.5, 0.9), plain('t-none', 'anthropic:claude-opus-4-1', 0, 1)];
    // 30 trials, 3 passes: 10% [3–26], wholly below [50, 90]. 4 trials, 1 pass: 25% [5–70] reaches the band.
    const below = record('20261123T000000Z-dddd0004', '2026-11-23T00:00:00.000Z', [
      ...trials('t-below', 'budget-2900', SONNET, 's', [...rep('P', 3), ...rep('F', 27)], D2),
      ...trials('t-few', 'budget-2900', SONNET, 's', ['P', 'F', 'F', 'F'], D2),
    ]);
    const cal = calibrationRows(reportData([RUN1, RUN2, below], ts));
    expect(cal.map((r) => [r.task, r.status])).toEqual([['paged-attention', 'in band'], ['t-below', 'below band'], ['t-few', 'inconclusive'], ['t-none', 'no data']]);
    const s = renderReport([RUN1, RUN2, below], ts).calibration;
    expect(s).toMatch(/\*\*Out of band: `t-below`\.\*\*/);
    expect(row(s, 't-few')?.[4]).toBe('inconclusive');
    expect(row(s, 't-none')?.[3]).toBe('—');
    expect(row(s, 't-none')?.[4]).toBe('no data');
    expect(s).toMatch(/No data for the calibration model: `t-none`\./);
    expect(row(s, 't-below')?.[4]).toBe('**BELOW BAND**');
  });

  it('no runs: every section says so sensibly', () => {
    const s = renderReport([], tasks);
    expect(s.leaderboard).toMatch(/^_No runs yet\._/);
    expect(s.tasks).toMatch(/### `paged-attention`: PagedAttention decode[^\n]*\n\nDefault variant `budget-2900`\. _No runs yet\._/);
    expect(s.ablations).toMatch(/_No runs yet\._/);
    expect(rows(s.calibration).find((r) => r[0] === 'paged-attention')?.[4]).toBe('no data');
    expect(s.charts).toContain('](results/charts/pass-rate.svg)');
    expect(formatRate({ passRate: null, ci: { low: 0, high: 1 }, graded: 0 })).toBe('— n=0');
  });

  it('is deterministic: the order of runs and trials does not matter', () => {
    const shuffled = [{ ...RUN2, trials: [...RUN2.trials].reverse() }, { ...RUN1, trials: [...RUN1.trials].reverse() }];
    expect(renderReport(shuffled, [...tasks].reverse())).toEqual(renderReport([RUN1, RUN2], tasks));
  });
});

describe('updateReadme', () => {
  const sections = { leaderboard: 'L', tasks: 'T', ablations: 'A', calibration: 'C', charts: 'G' };

  it('replaces only what is between the markers; a second update changes nothing', () => {
    const once = updateReadme(README_WITH_MARKERS, sections);
    expect(once.changed).toBe(true);
    expect(once.appended).toEqual([]);
    expect(between(once.text, 'leaderboard')).toBe('\nL\n');
    expect(once.text.startsWith('# demo\n\nIntro kept as is.\n\n## Leaderboard\n\n')).toBe(true);
    expect(once.text.endsWith('## Footer\n\nKept too.\n')).toBe(true);
    const twice = updateReadme(once.text, sections);
    expect(twice.changed).toBe(false);
    expect(twice.text).toBe(once.text);
  });

  it('appends sections whose markers are missing, with a heading, and says which', () => {
    const r = updateReadme('# only a title\n', sections);
    expect(r.appended).toEqual([...REPORT_SECTIONS]);
    expect(r.text).toBe(
      '# only a title\n\n## Leaderboard\n\n<!-- envbench:leaderboard:start -->\nL\n<!-- envbench:leaderboard:end -->\n\n' +
        '## Results by task\n\n<!-- envbench:tasks:start -->\nT\n<!-- envbench:tasks:end -->\n\n' +
        '## Ablations\n\n<!-- envbench:ablations:start -->\nA\n<!-- envbench:ablations:end -->\n\n' +
        '## Calibration\n\n<!-- envbench:calibration:start -->\nC\n<!-- envbench:calibration:end -->\n\n' +
        '## Charts\n\n<!-- envbench:charts:start -->\nG\n<!-- envbench:charts:end -->\n',
    );
    expect(updateReadme(r.text, sections)).toEqual({ text: r.text, appended: [], changed: false });
  });

  it('refuses a lone, repeated or misordered marker', () => {
    const { start, end } = sectionMarkers('leaderboard');
    expect(() => updateReadme(`${start}\n`, { leaderboard: 'x' })).toThrow(ReadmeMarkerError);
    expect(() => updateReadme(`${start}\n${end}\n${start}\n${end}\n`, { leaderboard: 'x' })).toThrow(/exactly one/);
    expect(() => updateReadme(`${end}\n${start}\n`, { leaderboard: 'x' })).toThrow(/comes before/);
  });
});

describe('charts', () => {
  it('render to SVG naming every model, byte-identical across renders and time zones', async () => {
    const a = await renderCharts([RUN1, RUN2], tasks);
    const b = await renderCharts([RUN2, RUN1], [...tasks].reverse());
    expect(a.map((c) => c.file)).toEqual(['pass-rate.svg', 'pass-rate-over-time.svg']);
    for (const c of a) {
      expect(c.svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
      expect(c.svg.trimEnd().endsWith('</svg>')).toBe(true);
    }
    expect(b).toEqual(a);
    const [rate, overTime] = [a[0]!, a[1]!];
    for (const m of ['oracle', HAIKU, SONNET]) {
      expect(rate.svg).toContain(`>${m}</text>`);
      expect(overTime.svg).toContain(`>${m}</text>`);
    }
    // Labels of the whiskers: HAIKU's 4/10 on paged-attention; and both run dates on the time axis.
    expect(rate.svg).toContain('>40% n=10</text>');
    expect(overTime.svg).toContain('>2026-11-20</text>');
    expect(overTime.svg).toContain('>2026-11-21</text>');

    const tz = process.env.TZ;
    try {
      process.env.TZ = 'Pacific/Kiritimati'; // UTC+14: local dates differ from UTC dates here
      expect(await renderCharts([RUN1, RUN2], tasks)).toEqual(a);
      process.env.TZ = 'America/Los_Angeles';
      expect(await renderCharts([RUN1, RUN2], tasks)).toEqual(a);
    } finally {
      if (tz === undefined) delete process.env.TZ;
      else process.env.TZ = tz;
    }
  });

  it('say "No runs yet" without data', async () => {
    const charts = await renderCharts([], tasks);
    for (const c of charts) expect(c.svg).toContain('>No runs yet</text>');
  });

  it('normalizes the counter-based ids Vega gives clip paths and gradients', () => {
    expect(normalizeSvgIds('<clipPath id="clip7"/><g clip-path="url(#clip7)"/><clipPath id="clip9"/><g fill="url(#gradient_3)"/>')).toBe(
      '<clipPath id="clip1"/><g clip-path="url(#clip1)"/><clipPath id="clip2"/><g fill="url(#gradient_1)"/>',
    );
  });
});

describe('report command', () => {
  it('rewrites the sections and charts; a second run changes nothing; --check is 0 when current, 1 when stale', async () => {
    const w = await workspace();
    const r1 = await cli(w.args, w.env);
    expect(r1.err).not.toMatch(/error/i);
    expect(r1.code).toBe(0);
    const readme1 = await fs.readFile(w.readmePath, 'utf8');
    expect(row(between(readme1, 'leaderboard'), HAIKU)?.[3]).toBe('40% [17–69] n=10');
    expect(readme1).toContain('Intro kept as is.');
    expect(readme1).not.toContain('stale text');
    // The charts go beside the results store (results/charts), linked relative to the README.
    expect(between(readme1, 'charts')).toContain('![Pass rate per model and task, default variants, with 95% intervals](results/charts/pass-rate.svg)');
    const svg1 = await fs.readFile(path.join(w.charts, 'pass-rate.svg'), 'utf8');
    expect(svg1).toContain(HAIKU);
    const stat1 = await fs.stat(path.join(w.charts, 'pass-rate.svg'));
    // The index over runs is derived beside the store, newest first.
    const index1 = JSON.parse(await fs.readFile(path.join(path.dirname(w.results), 'index.json'), 'utf8')) as { runId: string; startedAt: string }[];
    expect(index1.length).toBeGreaterThanOrEqual(2);
    expect(index1.map((e) => e.startedAt)).toEqual([...index1.map((e) => e.startedAt)].sort().reverse());

    const r2 = await cli(w.args, w.env);
    expect(r2.code).toBe(0);
    expect(r2.out).toBe('report is current: nothing to update');
    expect(await fs.readFile(w.readmePath, 'utf8')).toBe(readme1);
    expect((await fs.stat(path.join(w.charts, 'pass-rate.svg'))).mtimeMs).toBe(stat1.mtimeMs); // not even rewritten

    expect((await cli([...w.args, '--check'], w.env)).code).toBe(0);

    // New data: --check says stale and writes nothing.
    await addRunToStore(current(RUN3), w.results);
    const check = await cli([...w.args, '--check'], w.env);
    expect(check.code).toBe(1);
    expect(check.err).toMatch(/report is stale/);
    expect(check.err).toContain(w.readmePath);
    expect(check.err).toContain('pass-rate-over-time.svg');
    expect(check.err).toContain('index.json');
    expect(await fs.readFile(w.readmePath, 'utf8')).toBe(readme1);
    expect(await fs.readFile(path.join(w.charts, 'pass-rate.svg'), 'utf8')).toBe(svg1);

    expect((await cli(w.args, w.env)).code).toBe(0);
    expect((await cli([...w.args, '--check'], w.env)).code).toBe(0);
    // HAIKU on budget-2900 now 14/20 = 70%.
    expect(row(between(await fs.readFile(w.readmePath, 'utf8'), 'leaderboard'), HAIKU)?.[3]).toMatch(/^70% \[\d+–\d+\] n=20$/);

    // A chart deleted or edited by hand is stale too.
    await fs.writeFile(path.join(w.charts, 'pass-rate.svg'), '<svg/>');
    expect((await cli([...w.args, '--check'], w.env)).code).toBe(1);
  });

  it('appends missing sections at the end the first time, and says so', async () => {
    const w = await workspace('# demo\n\nNo markers here.\n');
    const r = await cli(w.args, w.env);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/had no markers for: leaderboard, tasks, ablations, calibration, charts; appended those sections at the end/);
    const text = await fs.readFile(w.readmePath, 'utf8');
    expect(text.startsWith('# demo\n\nNo markers here.\n\n## Leaderboard\n\n<!-- envbench:leaderboard:start -->\n')).toBe(true);
    const again = await cli(w.args, w.env);
    expect(again.err).not.toMatch(/no markers/);
    expect(await fs.readFile(w.readmePath, 'utf8')).toBe(text);
  });

  it('--check exits 1 when markers are missing, without writing', async () => {
    const w = await workspace('# demo\n');
    const r = await cli([...w.args, '--check'], w.env);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/no markers for: leaderboard/);
    expect(await fs.readFile(w.readmePath, 'utf8')).toBe('# demo\n');
    await expect(fs.stat(w.charts)).rejects.toThrow(/ENOENT/);
  });

  it('warns about bad files in the store and reports the rest', async () => {
    const w = await workspace();
    await fs.writeFile(path.join(w.results, 'junk.json'), '{');
    const r = await cli(w.args, w.env);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/warning: skipped .*junk\.json: not valid JSON/);
    expect(row(between(await fs.readFile(w.readmePath, 'utf8'), 'leaderboard'), SONNET)?.[3]).toBe('80% [49–94] n=10');
  });

  it('an empty store renders "no runs yet"; broken markers and a missing README are usage errors', async () => {
    const w = await workspace(README_WITH_MARKERS, []);
    expect((await cli(w.args, w.env)).code).toBe(0);
    expect(between(await fs.readFile(w.readmePath, 'utf8'), 'leaderboard')).toMatch(/No runs yet/);
    expect(await fs.readFile(path.join(w.charts, 'pass-rate.svg'), 'utf8')).toContain('No runs yet');

    await fs.writeFile(w.readmePath, `${sectionMarkers('tasks').start}\n`);
    const bad = await cli(w.args, w.env);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/exactly one <!-- envbench:tasks:start -->/);

    const missing = await cli(['report', '--results', w.results, '--readme', path.join(w.dir, 'nope.md')], w.env);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/--readme: .*nope\.md does not exist/);
    expect((await cli(['report', '--bogus'], w.env)).code).toBe(2);
  });
});

describe('the repository itself', () => {
  it('the committed README and charts are current with results/ (run `npm run bench -- report`)', async () => {
    const { main } = await import('../../src/cli/main.js');
    const err: string[] = [];
    const code = await main(['report', '--check'], { out: () => {}, err: (s) => err.push(s) }, { ...process.env, ENVBENCH_RESULTS_DIR: '', ENVBENCH_TASKS_DIR: '' });
    expect(code, err.join('\n')).toBe(0);
  });
});

describe('the over-time chart', () => {
  it('is small multiples (a panel per task and model, never overplotted), with interval whiskers and a sane height', async () => {
    // 8 tasks x 3 models x 4 run dates: the layout the issue measured at 2,343 px tall.
    const models = [HAIKU, SONNET, 'anthropic:claude-opus-4-5'];
    const ids = Array.from({ length: 8 }, (_, i) => `task-${i}`);
    const ts: ReportTask[] = ids.map((id) => ({ def: { id, title: id }, variants: [{ id: 'default', isDefault: true }] }));
    const runs = [20, 21, 22, 23].map((d, k) =>
      record(`202611${d}T000000Z-eeee000${k}`, `2026-11-${d}T00:00:00.000Z`, ids.flatMap((id) => models.flatMap((m) => trials(id, 'default', m, 's', ['P', 'F', 'P', 'F', k % 2 ? 'P' : 'F'], `2026-11-${d}T01:00:00.000Z`)))),
    );
    const [, overTime] = await renderCharts(runs, ts);
    const height = Number(/^<svg[^>]* height="(\d+(?:\.\d+)?)"/.exec(overTime!.svg)![1]);
    expect(height).toBeGreaterThan(8 * 70);
    expect(height).toBeLessThan(1300);
    // A column header per model, and whiskers (rule marks) for the intervals.
    for (const m of models) expect(overTime!.svg.split(`>${m}</text>`).length - 1).toBe(1);
    expect(overTime!.svg).toContain('mark-rule');
    expect(overTime!.svg).toMatch(/95% interval \d+–\d+%/);
  }, 60_000);
});
