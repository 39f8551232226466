/**
 * The sequential PR gate end to end, as the pr-eval workflow runs it: run-eval (sequential) then pr-report, each
 * a separate Node process with the runner's environment, against real git (the base branch on a bare remote),
 * the real Anthropic SDK talking to a local Messages server, and the real @actions/github talking to a local
 * GitHub REST server. The scripted model's pass rate drops sharply for one model and a little for the other.
 */
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runActionEntry } from '../support/action-runner.js';
import { startGitHubServer, type GitHubServer } from '../support/github-server.js';
import { startMessagesServer, toolUseReply, type MessagesServer } from '../support/messages-server.js';
import { makeRunRecord, makeTrial } from '../support/records.js';
import { taskVersionsAtRef } from '../../src/tasks/version.js';
import { readRunRecord } from '../../src/runs/journal.js';
import { PR_REPORT_MARKER } from '../../src/github/pr-report.js';
import type { RunRecord, TrialResult } from '../../src/runs/record.js';

const TOKEN = 'ghs_e2e_token';
const REPO = 'envbench-org/envbench';
const ECHO = path.join(import.meta.dirname, '..', 'fixtures', 'tasks', 'echo');
const payload = JSON.parse(await fs.readFile(path.join(import.meta.dirname, '..', 'fixtures', 'github', 'pull_request.synchronize.json'), 'utf8'));
const git = (cwd: string, ...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@e', ...args], { cwd, stdio: 'pipe' }).toString().trim();

const CLEAR = 'anthropic:model-clear-drop';
const SLIGHT = 'anthropic:model-slight-drop';

let work: string;
let clone: string;
let github: GitHubServer;
let model: MessagesServer;
let hash: string;

/** Base-branch trials of one model on echo/default: `n` per sample, the first `k` of each sample passing. */
function baseTrials(modelName: string, n: number, k: number, taskHash: string, day: string): TrialResult[] {
  return ['apple', 'pear'].flatMap((sample) =>
    Array.from({ length: n }, (_, epoch) =>
      makeTrial({
        task: 'echo', variant: 'default', sample, model: modelName, epoch, status: epoch < k ? 'passed' : 'failed', finishedAt: `${day}T01:00:00.000Z`,
        provenance: { taskHash, harness: '0.1.0+base', servedModel: modelName.slice(10), grading: { profile: 'full', ran: ['submitted', 'matches'], skipped: [] } },
      }),
    ),
  );
}

beforeAll(async () => {
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'envbench-gate-e2e-'));
  const seed = path.join(work, 'seed');
  const task = path.join(seed, 'tasks', 'echo');
  await fs.cp(ECHO, task, { recursive: true });
  await fs.writeFile(path.join(task, 'task.ts'), `export { default } from ${JSON.stringify(path.join(ECHO, 'task.ts'))};\n`);
  git(seed, 'init', '-q', '-b', 'main');
  git(seed, 'add', '.');
  git(seed, 'commit', '-q', '-m', 'the echo task');
  hash = (await taskVersionsAtRef(seed, 'HEAD', [{ task: 'echo', variant: 'default' }])).get('echo')!.get('default')!;
  // The current version: CLEAR passes 100%, SLIGHT 50%, 50 trials per sample each (100 per cell).
  const current = makeRunRecord('20261120T010000Z-current', [...baseTrials(CLEAR, 50, 50, hash, '2026-11-20'), ...baseTrials(SLIGHT, 50, 25, hash, '2026-11-20')], { schemaVersion: 2, startedAt: '2026-11-20T00:00:00.000Z' });
  // A NEWER run of an older task version where SLIGHT passed every time: the baseline rule must not use it.
  const older = makeRunRecord('20261122T010000Z-older', baseTrials(SLIGHT, 50, 50, 'e'.repeat(64), '2026-11-22'), { schemaVersion: 2, startedAt: '2026-11-22T00:00:00.000Z' });
  await fs.mkdir(path.join(seed, 'results', 'runs'), { recursive: true });
  for (const r of [current, older]) await fs.writeFile(path.join(seed, 'results', 'runs', `${r.runId}.json`), JSON.stringify(r));
  git(seed, 'add', '.');
  git(seed, 'commit', '-q', '-m', 'baseline results');
  git(work, 'clone', '-q', '--bare', seed, 'remote.git');
  git(work, 'clone', '-q', 'remote.git', 'pr');
  clone = path.join(work, 'pr');
  github = await startGitHubServer({ token: TOKEN });
  // The scripted model: CLEAR never answers right now; SLIGHT answers right 9 times in 20 (45%).
  const calls = new Map<string, number>();
  model = await startMessagesServer((body) => {
    const n = calls.get(body.model) ?? 0;
    calls.set(body.model, n + 1);
    const word = /word (\w+)/.exec(JSON.stringify(body.messages[0]))?.[1] ?? '?';
    const right = body.model === SLIGHT.slice(10) && n % 2 === 1 && n % 20 < 18;
    return toolUseReply('submit_answer', { answer: right ? word : 'wrong' });
  });
});
afterAll(async () => {
  await github?.close();
  await model?.close();
  await fs.rm(work, { recursive: true, force: true });
});

const runEval = () =>
  runActionEntry('run-eval', {
    cwd: clone,
    inputs: { tasks: 'echo', models: `${CLEAR},${SLIGHT}`, sequential: 'true', judge: 'none', concurrency: '4' },
    event: { name: 'pull_request', payload },
    env: { ENVBENCH_TASKS_DIR: path.join(import.meta.dirname, '..', 'fixtures', 'tasks'), ANTHROPIC_API_KEY: 'sk-test', ANTHROPIC_BASE_URL: model.url },
    timeoutMs: 600_000,
  });

async function prReport(record: string) {
  return runActionEntry('pr-report', { cwd: clone, inputs: { record, github_token: TOKEN }, event: { name: 'pull_request', payload }, env: { GITHUB_API_URL: github.url } });
}
const ours = () => (github.comments.get(`${REPO}#17`) ?? []).filter((c) => c.user.login === 'github-actions[bot]');
const byModel = (r: RunRecord, m: string) => r.trials.filter((t) => t.model === m);

describe('the sequential PR gate, run-eval then pr-report', () => {
  let record: string;

  it('stops the clearly dropped cell at the first look, keeps running the undecided one, and fails the check on the drop', async () => {
    const ev = await runEval();
    expect(ev.code, ev.stderr + ev.stdout).toBe(0);
    record = path.join(clone, ev.outputs.record!);
    const r = await readRunRecord(record);
    // CLEAR: 0/10 against 100/100 is decided at the first look (10 graded trials: 5 epochs x 2 samples).
    expect(byModel(r, CLEAR)).toHaveLength(10);
    // SLIGHT: 45% against 50% decides nothing at 10 trials: it went on to later looks.
    expect(byModel(r, SLIGHT).length).toBeGreaterThan(10);
    expect(byModel(r, SLIGHT).length).toBeLessThanOrEqual(60);
    // Each trial names what produced it.
    expect(r.trials.every((t) => t.provenance?.servedModel === t.model.slice(10) && /^[0-9a-f]{64}$/.test(t.provenance.taskHash))).toBe(true);
    expect(ev.summary).toMatch(/Sequential gate: \d+ look\(s\) run/);

    const rep = await prReport(record);
    expect(rep.code).toBe(1);
    expect(rep.stdout).toMatch(/::error::pr-report: a significant pass-rate regression/);
    expect(ours()).toHaveLength(1);
    const body = ours()[0]!.body;
    expect(body).toContain(PR_REPORT_MARKER);
    expect(body).toMatch(/Regression in 1 of 2 compared cells: `echo\/default\/anthropic:model-clear-drop`/);
    // The baseline is named: the current version's run and its date, never the newer run of the older version.
    expect(body).toContain('200 trial(s) from 1 run(s): `20261120T010000Z-current` (2026-11-20, 200)');
    expect(body).not.toContain('20261122T010000Z-older');
    expect(body).toContain(hash.slice(0, 12));
    expect(body).toMatch(/\| echo\/default\/anthropic:model-slight-drop \| [0-9a-f]{12} +\| 100 of 100 +\| 2026-11-20 – 2026-11-20 \| 20261120T010000Z-current \(100\) \| 100 older version \|/);
  }, 600_000);

  it('resumes from its journals: a second attempt of the job repeats no trial', async () => {
    const before = model.requests.length;
    const ev = await runEval();
    expect(ev.code, ev.stderr + ev.stdout).toBe(0);
    expect(model.requests.length).toBe(before);
    const again = await readRunRecord(path.join(clone, ev.outputs.record!));
    const first = await readRunRecord(record);
    expect(again.trials.length).toBe(first.trials.length);
  }, 600_000);

  it('an all-error candidate fails the check with its cause, in the same sticky comment', async () => {
    const errors = makeRunRecord('cand-errors', ['apple', 'pear'].flatMap((sample) => Array.from({ length: 5 }, (_, epoch) => makeTrial({ task: 'echo', variant: 'default', sample, model: CLEAR, epoch, status: 'error', error: 'API 401: invalid x-api-key' }))));
    const file = path.join(work, 'cand-errors.json');
    await fs.writeFile(file, JSON.stringify(errors));
    const rep = await prReport(file);
    expect(rep.code).toBe(1);
    expect(rep.stdout).toMatch(/::error::pr-report: the candidate could not be judged: `echo\/default\/anthropic:model-clear-drop`: all 10 candidate trial\(s\) ended without a grade \(10 error\); first error: API 401: invalid x-api-key/);
    expect(ours()).toHaveLength(1);
    expect(ours()[0]!.body).toMatch(/## ❌ Cannot judge/);
    expect(ours()[0]!.body).not.toMatch(/No regression/);
  }, 120_000);
});
