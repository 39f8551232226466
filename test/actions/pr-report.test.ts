import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGitHubServer, type GitHubServer } from '../support/github-server.js';
import { runActionEntry } from '../support/action-runner.js';
import { makeRunRecord, makeTrial } from '../support/records.js';
import { PR_REPORT_MARKER } from '../../src/github/pr-report.js';
import type { RunRecord } from '../../src/runs/record.js';
import { taskVersionsAtRef } from '../../src/tasks/version.js';

const TOKEN = 'ghs_test_token_123';
const REPO = 'envbench-org/envbench';
const payload = JSON.parse(await fs.readFile(path.join(import.meta.dirname, '..', 'fixtures', 'github', 'pull_request.synchronize.json'), 'utf8'));

let taskHash = '0'.repeat(64);
/** n trials of one cell, the first k passing, of the base branch's current version of the task. */
function cellRecord(id: string, n: number, k: number): RunRecord {
  const provenance = { taskHash, harness: '0.1.0+test', servedModel: 'm-20260101', grading: { profile: 'full' as const, ran: ['check'], skipped: [] } };
  return makeRunRecord(
    id,
    Array.from({ length: n }, (_, epoch) => makeTrial({ task: 'paged-attention', variant: 'budget-2900', model: 'anthropic:m', epoch, status: epoch < k ? 'passed' : 'failed', provenance })),
    { schemaVersion: 2 },
  );
}

const git = (cwd: string, ...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@e', ...args], { cwd, stdio: 'pipe' }).toString().trim();

let server: GitHubServer;
let work: string;
let clone: string;

beforeAll(async () => {
  server = await startGitHubServer({ token: TOKEN });
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'envbench-prr-'));
  // The base branch on a remote holds the baseline results; the PR's checkout is a clone of it.
  const seed = path.join(work, 'seed');
  // The task as the base branch has it: its version hash decides which committed trials are the baseline.
  await fs.mkdir(path.join(seed, 'tasks', 'paged-attention'), { recursive: true });
  await fs.writeFile(path.join(seed, 'tasks', 'paged-attention', 'task.ts'), '// the task at the base branch\n');
  git(seed, 'init', '-q', '-b', 'main');
  git(seed, 'add', '.');
  git(seed, 'commit', '-q', '-m', 'task');
  taskHash = (await taskVersionsAtRef(seed, 'HEAD', [{ task: 'paged-attention', variant: 'budget-2900' }])).get('paged-attention')!.get('budget-2900')!;
  await fs.mkdir(path.join(seed, 'results', 'runs'), { recursive: true });
  await fs.writeFile(path.join(seed, 'results', 'runs', 'base-run.json'), JSON.stringify(cellRecord('base-run', 40, 32)));
  git(seed, 'add', '.');
  git(seed, 'commit', '-q', '-m', 'baseline');
  git(work, 'clone', '-q', '--bare', seed, 'remote.git');
  git(work, 'clone', '-q', 'remote.git', 'pr');
  clone = path.join(work, 'pr');
  // The PR's own checkout says something else about the baseline; it must not be believed.
  await fs.writeFile(path.join(clone, 'results', 'runs', 'base-run.json'), JSON.stringify(cellRecord('base-run', 40, 2)));
});
afterAll(async () => {
  await server?.close();
  await fs.rm(work, { recursive: true, force: true });
});

async function report(candidate: RunRecord | null, inputs: Record<string, string> = {}) {
  let record = '';
  if (candidate) {
    record = path.join(work, `${candidate.runId}.json`);
    await fs.writeFile(record, JSON.stringify(candidate));
  }
  return runActionEntry('pr-report', {
    cwd: clone,
    inputs: { record, github_token: TOKEN, ...inputs },
    event: { name: 'pull_request', payload },
    env: { GITHUB_API_URL: server.url },
  });
}

const ours = () => (server.comments.get(`${REPO}#17`) ?? []).filter((c) => c.user.login === 'github-actions[bot]');
const posts = () => server.requests.filter((r) => r.method === 'POST').length;

describe('pr-report action (real @actions/github against a local GitHub REST server)', () => {
  it('creates one comment, then updates it in place, never duplicating it or touching a person\'s quote', async () => {
    const quote = server.seed(REPO, 17, `> ${PR_REPORT_MARKER}\n> quoting the old report`, 'maintainer-a');
    const first = await report(cellRecord('cand-1', 40, 31));
    expect(first.code, first.stderr + first.stdout).toBe(0);
    expect(first.outputs.regression).toBe('false');
    expect(ours()).toHaveLength(1);
    expect(ours()[0]!.body).toContain(PR_REPORT_MARKER);
    expect(ours()[0]!.body).toMatch(/No regression/);
    expect(first.summary).toContain('pass rates against the base branch');
    expect(first.outputs.comment_url).toBe(ours()[0]!.html_url);
    const id = ours()[0]!.id;

    const second = await report(cellRecord('cand-2', 40, 33));
    expect(second.code, second.stderr).toBe(0);
    expect(ours()).toHaveLength(1);
    expect(ours()[0]!.id).toBe(id);
    expect(ours()[0]!.body).toContain('cand-2');
    expect(posts()).toBe(1);
    expect(server.requests.some((r) => r.method === 'PATCH' && r.path.endsWith(`/issues/comments/${id}`))).toBe(true);
    // The person's comment with the marker was never edited.
    expect(server.comments.get(`${REPO}#17`)!.find((c) => c.id === quote.id)!.body).toContain('quoting the old report');
    expect(server.requests.filter((r) => r.method === 'PATCH' && r.path.endsWith(`/${quote.id}`))).toEqual([]);
    // Every request carried the token.
    expect(server.requests.every((r) => r.authorization === `token ${TOKEN}`)).toBe(true);
  }, 120_000);

  it('fails the step on a significant regression against the base branch\'s committed results, and says so in the comment', async () => {
    // 80% on the base branch (from git, not the PR's edited copy) against 10% now.
    const r = await report(cellRecord('cand-bad', 40, 4));
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/::error::pr-report: a significant pass-rate regression/);
    expect(r.outputs.regression).toBe('true');
    expect(ours()).toHaveLength(1);
    expect(ours()[0]!.body).toMatch(/Regression in 1 of 1 compared cell/);
    expect(ours()[0]!.body).toContain('40 trial(s) from 1 run(s): `base-run` (2026-11-21, 40)');
  }, 120_000);

  it('finds the comment on a later page of a long thread', async () => {
    for (let i = 0; i < 120; i++) server.seed(REPO, 17, `chatter ${i}`, 'someone');
    const before = posts();
    const r = await report(cellRecord('cand-3', 40, 32));
    expect(r.code, r.stderr).toBe(0);
    expect(posts()).toBe(before);
    expect(ours()).toHaveLength(1);
    expect(server.requests.some((q) => q.method === 'GET' && q.path.includes('page=2'))).toBe(true);
  }, 120_000);

  it('replaces the report when no task is affected, instead of leaving a stale verdict', async () => {
    const r = await report(null);
    expect(r.code, r.stderr).toBe(0);
    expect(ours()).toHaveLength(1);
    expect(ours()[0]!.body).toMatch(/No task is affected/);
  }, 120_000);

  it('rejects bad inputs by name and refuses non-PR events', async () => {
    const noToken = await report(cellRecord('x', 2, 1), { github_token: '' });
    expect(noToken.code).toBe(1);
    expect(noToken.stdout).toMatch(/input `github_token`.*required/s);
    const badAlpha = await report(cellRecord('y', 2, 1), { alpha: 'five percent' });
    expect(badAlpha.code).toBe(1);
    expect(badAlpha.stdout).toMatch(/input `alpha` \(got "five percent"\): a probability such as 0.05/);
    const push = await runActionEntry('pr-report', { cwd: clone, inputs: { github_token: TOKEN }, event: { name: 'push', payload: {} }, env: { GITHUB_API_URL: server.url } });
    expect(push.code).toBe(1);
    expect(push.stdout).toMatch(/runs on pull_request events only \(this is "push"\)/);
  }, 120_000);
});
