import { spawn } from 'node:child_process';
import { promises as fs, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { findPython } from '../../src/python/discover.js';
import { checkRequirements } from '../../src/python/requirements.js';
import { loadTask, TASKS_DIR } from '../../src/tasks/index.js';
import { main, type StabilityReport, type SubmissionReport } from '../../scripts/verdict-stability.js';

const root = path.resolve(import.meta.dirname, '../..');
const fixtures = path.join(import.meta.dirname, 'fixtures', 'stability-tasks');

/** Runs the script as a user would; returns its exit code and output. */
function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(path.join(root, 'node_modules/.bin/tsx'), ['scripts/verdict-stability.ts', ...args], { cwd: root, env: { ...process.env, ...env } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.once('close', (code) => resolve({ code, out, err }));
  });
}

/**
 * The script's main() in this process, as the spawned command runs it (same arguments, same exit code, same
 * output), for every case that is not about the process itself: each spawn of tsx costs seconds of CPU.
 */
async function call(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; out: string; err: string }> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  const out: string[] = [];
  const err: string[] = [];
  try {
    const code = await main(args, { out: (s) => void out.push(s), err: (s) => void err.push(s) });
    return { code, out: out.map((s) => s + '\n').join(''), err: err.map((s) => s + '\n').join('') };
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

const tmpJson = async () => path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'envbench-vs-')), 'report.json');
const bySub = (r: StabilityReport, task: string) => new Map(r.tasks.find((t) => t.task === task)!.submissions.map((s) => [s.label, s]));

// Three fsdp-training files (the reference, a valid conversion, a cheat) and hello-python's reference: the real
// grading path at small cost. The --list test below checks that a run without --only takes every file.
const FSDP_ONLY = ['reference', 'valid_submissions/helper_functions.py', 'submissions/dead_code.py'];

describe('verdict-stability on real tasks (K=2, fsdp-training and examples/tasks/hello-python)', () => {
  let report: StabilityReport;
  let res: Awaited<ReturnType<typeof run>>;
  let unmet: string | null = null;

  beforeAll(async () => {
    const task = await loadTask(path.join(TASKS_DIR, 'fsdp-training'));
    const req = checkRequirements(task.def.requirements, await findPython({ modules: task.def.requirements.pythonModules }));
    if (!req.ok) {
      unmet = `${req.reason} (${req.hint})`;
      if (process.env.CI) throw new Error(`CI: fsdp-training cannot run here: ${unmet}`);
      return;
    }
    const json = await tmpJson();
    res = await run(['--task', 'fsdp-training', '--task', 'hello-python', '--k', '2', ...FSDP_ONLY.flatMap((o) => ['--only', o]), '--json', json]);
    report = JSON.parse(await fs.readFile(json, 'utf8')) as StabilityReport;
  }, 900_000);

  it('exits 0 with every target met, and prints a table and a summary line per task', (ctx) => {
    if (unmet) return ctx.skip(unmet);
    expect(res.code, res.err.slice(-3000)).toBe(0);
    expect(report.ok).toBe(true);
    expect(report.partial).toBe(false);
    expect(report.k).toBe(2);
    expect(report.tasks.map((t) => t.task)).toEqual(['fsdp-training', 'hello-python']);
    expect(res.out).toMatch(/\| submission +\| sample\/variant +\| expected +\| passes\/K +\| flips +\| errors/);
    const pass = 2 * 2;
    const fail = 2 * 1;
    expect(res.out).toMatch(new RegExp(`^fsdp-training: target met \\(K=2\\): reference and valid pass ${pass}/${pass} \\(Wilson 95% [\\d.]+%–100\\.0%\\); cheats fail ${fail}/${fail} `, 'm'));
    expect(res.out).toMatch(/^hello-python: target met \(K=2\): reference and valid pass 2\/2 /m);
  });

  it('grades each chosen file with the expected verdict K times', async (ctx) => {
    if (unmet) return ctx.skip(unmet);
    const valid = ['helper_functions.py'];
    const cheats = ['dead_code.py'];
    const subs = bySub(report, 'fsdp-training');
    expect([...subs.keys()].sort()).toEqual([...FSDP_ONLY].sort());
    for (const s of subs.values()) {
      expect(s.k).toBe(2);
      expect(s.errors).toBe(0);
      expect(s.flips, s.label).toBe(0);
      expect(s.passes, s.label).toBe(s.expected === 'pass' ? 2 : 0);
      expect(s.expected).toBe(s.kind === 'cheat' ? 'fail' : 'pass');
      expect(s.rate).toBe(1);
      expect(s.wilson95!.high).toBe(1);
      expect(s.wilson95!.low).toBeGreaterThan(0.3);
      expect(s.meanSeconds).toBeGreaterThan(0);
      expect(s.status).toBe('met');
      expect(s.flippedChecks).toEqual({});
    }
    const t = report.tasks[0]!;
    expect(t.expectedPass).toMatchObject({ expected: 2 * (1 + valid.length), finished: 2 * (1 + valid.length) });
    expect(t.expectedFail).toMatchObject({ expected: 2 * cheats.length, finished: 2 * cheats.length });
    expect(t.status).toBe('met');
    expect(bySub(report, 'hello-python').get('reference')).toMatchObject({ passes: 2, flips: 0, expected: 'pass' });
  });
});

describe('verdict-stability on a fixture whose verdicts are set by the submission', () => {
  const env = { ENVBENCH_TASKS_DIR: fixtures };
  let report: StabilityReport;
  let res: Awaited<ReturnType<typeof run>>;
  let subs: Map<string, SubmissionReport>;

  beforeAll(async () => {
    const json = await tmpJson();
    res = await call(['--task', 'coin', '--k', '4', '--concurrency', '1', '--json', json], env);
    report = JSON.parse(await fs.readFile(json, 'utf8')) as StabilityReport;
    subs = bySub(report, 'coin');
  }, 300_000);

  it('exits 1 when a cheat passes some gradings, and counts those gradings as flips with the check that varied', () => {
    expect(res.code, res.err.slice(-2000)).toBe(1);
    expect(report.ok).toBe(false);
    expect(report.tasks[0]!.status).toBe('missed');
    expect(subs.get('submissions/alternates.txt')).toMatchObject({ expected: 'fail', passes: 2, fails: 2, flips: 2, errors: 0, rate: 0.5, status: 'missed' });
    // Only the check whose outcome varied is named; the one that passed every time is not.
    expect(subs.get('submissions/alternates.txt')!.flippedChecks).toEqual({ verdict: { pass: 2, fail: 2 } });
    expect(res.out).toMatch(/^coin: target MISSED \(K=4\): reference and valid pass 16\/16 .*cheats fail 10\/12 /m);
  });

  it('reports an infrastructure error as an error, never as a flip', () => {
    expect(subs.get('submissions/infra.txt')).toMatchObject({ passes: 0, fails: 0, flips: 0, errors: 4, rate: null, wilson95: null, status: 'incomplete' });
    expect(subs.get('submissions/infra.txt')!.firstError).toMatch(/fixture cannot grade this/);
    expect(res.out).toMatch(/errors in submissions\/infra\.txt \(4\/4\): grader: the fixture cannot grade this/);
  });

  it('grades a file as the sample its folder names, and as the sample or variant the override file gives', () => {
    // Each of these passes only when graded as the sample or variant it names: a wrong mapping would flip it.
    expect(subs.get('submissions/second/folder_sample.txt')).toMatchObject({ sample: 'second', variant: 'default', passes: 0, flips: 0 });
    expect(subs.get('valid_submissions/by_override.txt')).toMatchObject({ sample: 'second', passes: 4, flips: 0 });
    expect(subs.get('valid_submissions/other_variant.txt')).toMatchObject({ sample: 'first', variant: 'other', passes: 4, flips: 0 });
    // The reference of every sample; README.md is not a submission; the excluded file is listed with its reason.
    expect(subs.get('reference:first')).toMatchObject({ passes: 4 });
    expect(subs.get('reference:second')).toMatchObject({ passes: 4 });
    expect([...subs.keys()].some((l) => /README|excluded/.test(l))).toBe(false);
    expect(report.tasks[0]!.excluded).toEqual([{ label: 'submissions/excluded.txt', reason: 'would pass: shows an excluded file is not graded' }]);
  });

  it('with errors and no miss the target is not shown: exit 1, status incomplete (--only filters by label, repeatable)', async () => {
    const json = await tmpJson();
    const r = await call(['--task', 'coin', '--k', '2', '--only', 'infra', '--only', 'plain_fail', '--json', json], env);
    expect(r.code).toBe(1);
    const rep = JSON.parse(await fs.readFile(json, 'utf8')) as StabilityReport;
    expect(rep.tasks[0]!.submissions.map((s) => s.label)).toEqual(['submissions/infra.txt', 'submissions/plain_fail.txt']);
    expect(rep.tasks[0]!.status).toBe('incomplete');
    expect(r.out).toMatch(/^coin: target NOT SHOWN/m);
  }, 120_000);

  it('exits 0 when every target is met', async () => {
    const r = await call(['--task', 'coin', '--k', '2', '--only', 'valid_submissions'], env);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^coin: target met \(K=2\): reference and valid pass 4\/4 /m);
  }, 120_000);
});

describe('verdict-stability --list: which sample and variant each file is graded as', () => {
  it('neural-memory-progressive: the folder names the step (sample); ml-training-optimization: test/verdict-stability.json names the variant', async () => {
    const r = await call(['--list', '--task', 'neural-memory-progressive,ml-training-optimization']);
    expect(r.code, r.err).toBe(0);
    const rows = r.out.trim().split('\n').map((l) => l.split('\t'));
    const row = (task: string, label: string) => rows.find((x) => x[0] === task && x[1] === label);
    expect(row('neural-memory-progressive', 'submissions/fusion/concat_linear.py')).toEqual(['neural-memory-progressive', 'submissions/fusion/concat_linear.py', 'fusion', 'plain', 'expected fail']);
    expect(row('neural-memory-progressive', 'reference:surprise')).toEqual(['neural-memory-progressive', 'reference:surprise', 'surprise', 'plain', 'expected pass']);
    expect(row('ml-training-optimization', 'valid_submissions/numpy_broadcast_cdist.py')?.slice(2)).toEqual(['default', 'numpy', 'expected pass']);
    expect(row('ml-training-optimization', 'submissions/complex_normalization_only.py')?.slice(2)).toEqual(['default', 'complex', 'expected fail']);
    // A reference per variant where the variants' references differ.
    for (const v of ['pytorch', 'numpy', 'complex']) expect(row('ml-training-optimization', `reference:${v}`)?.[3]).toBe(v);
  }, 120_000);

  it('without --only a task\'s run takes the reference, every valid alternative and every cheat, from the folders', async () => {
    const r = await call(['--list', '--task', 'fsdp-training']);
    expect(r.code, r.err).toBe(0);
    const dir = path.join(TASKS_DIR, 'fsdp-training', 'test');
    const py = (folder: string) => readdirSync(path.join(dir, folder)).filter((f) => f.endsWith('.py'));
    const rows = r.out.trim().split('\n').map((l) => l.split('\t'));
    expect(rows.map((x) => x[1]).sort()).toEqual(['reference', ...py('valid_submissions').map((f) => `valid_submissions/${f}`), ...py('submissions').map((f) => `submissions/${f}`)].sort());
    for (const x of rows) expect(x[4], x[1]).toBe(x[1]!.startsWith('submissions/') ? 'expected fail' : 'expected pass');
  }, 120_000);
});

describe('verdict-stability bad arguments exit 2 with a clear message', () => {
  it.for<[string[], RegExp]>([
    [[], /--task: required/],
    [['--task', 'fsdp-training', '--k', '0'], /--k: --k must be at least 1/],
    [['--task', 'fsdp-training', '--k', 'many'], /--k: --k must be a number/],
    [['--task', 'fsdp-training', '--concurrency', '2.5'], /--concurrency: --concurrency must be a whole number/],
    [['--task', 'fsdp-training', '--bogus'], /Unknown option '--bogus'/],
    [['--task', 'no-such-task'], /--task: no task "no-such-task"/],
    [['--task', '../tasks/fsdp-training'], /is not a task id/],
    [['--task', 'fsdp-training', 'extra'], /positional/i],
  ])('%j', { timeout: 60_000 }, async ([args, message]) => {
    // The first as the command a user types (the process's own exit code and stderr), the rest through main().
    const r = args.length === 0 ? await run(args) : await call(args);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.err).toMatch(/usage: npx tsx scripts\/verdict-stability\.ts --task <id>/);
    expect(r.out).toBe('');
  });
});
