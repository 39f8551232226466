import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { runActionEntry } from '../support/action-runner.js';
import { startMessagesServer, errorReply, type MessagesServer } from '../support/messages-server.js';
import { readRunRecord } from '../../src/runs/journal.js';
import { trialKey } from '../../src/runs/record.js';

const FIXTURE_TASKS = path.join(import.meta.dirname, '..', 'fixtures', 'tasks');
const payload = JSON.parse(await fs.readFile(path.join(import.meta.dirname, '..', 'fixtures', 'github', 'pull_request.synchronize.json'), 'utf8'));
const git = (cwd: string, ...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@e', ...args], { cwd, stdio: 'pipe' }).toString().trim();

const declaredOutputs = Object.keys(
  (parseYaml(await fs.readFile(path.join(import.meta.dirname, '..', '..', 'actions', 'run-eval', 'action.yml'), 'utf8')) as { outputs: Record<string, unknown> }).outputs,
);

let repo: string;
let server: MessagesServer;
let baseSha: string;

beforeAll(async () => {
  // A checkout whose PR commit changes the echo task's folder, on top of a base commit.
  repo = await fs.mkdtemp(path.join(os.tmpdir(), 'envbench-runeval-'));
  await fs.mkdir(path.join(repo, 'tasks', 'echo'), { recursive: true });
  await fs.writeFile(path.join(repo, 'tasks', 'echo', 'prompt.md'), 'v1\n');
  await fs.writeFile(path.join(repo, 'README.md'), 'docs\n');
  git(repo, 'init', '-q', '-b', 'main');
  git(repo, 'add', '.');
  git(repo, 'commit', '-q', '-m', 'base');
  baseSha = git(repo, 'rev-parse', 'HEAD');
  await fs.writeFile(path.join(repo, 'tasks', 'echo', 'prompt.md'), 'v2\n');
  git(repo, 'commit', '-q', '-am', 'pr');
  // A Messages endpoint that refuses every request: model trials end in error, never failed.
  server = await startMessagesServer(() => errorReply(400, { message: 'model: not a valid model id' }));
});
afterAll(async () => {
  await server?.close();
  await fs.rm(repo, { recursive: true, force: true });
});

const run = (inputs: Record<string, string>, event = { name: 'pull_request', payload }) =>
  runActionEntry('run-eval', {
    cwd: repo,
    inputs,
    event,
    env: { ENVBENCH_TASKS_DIR: FIXTURE_TASKS, ANTHROPIC_API_KEY: 'sk-test', ANTHROPIC_BASE_URL: server.url },
  });

describe('run-eval action', () => {
  it('runs the affected tasks in shards that together cover the plan, with summary, annotations and outputs', async () => {
    const common = { tasks: 'affected', base_ref: baseSha, models: 'oracle,nop,anthropic:claude-haiku-4-5', judge: 'none' };
    const [a, b] = await Promise.all([run({ ...common, shard: '1/2' }), run({ ...common, shard: '2/2' })]);
    for (const r of [a, b]) {
      expect(r.code, r.stderr + r.stdout).toBe(0);
      expect(r.outputs.tasks).toBe('echo');
      expect(r.outputs.record).toMatch(/^\.runs\/.+-shard[12]of2\.json$/);
      // The model trial's API error is an error annotation, and never a failure.
      expect(r.summary).toMatch(/\| task +\| variant/);
      expect(r.summary).toMatch(/Affected tasks against `[0-9a-f]+`: `echo` \(its folder changed \(tasks\/echo\/prompt\.md\)\)/);
    }
    const records = await Promise.all([a, b].map((r) => readRunRecord(path.join(repo, r.outputs.record!))));
    for (const [r, rec] of [a, b].map((r, k) => [r, records[k]!] as const)) {
      // One run id: the file name, the record inside and the output.
      expect(path.basename(r.outputs.record!, '.json')).toBe(rec.runId);
      expect(r.outputs.run_id).toBe(rec.runId);
      // The HTML report is made beside the record for the artifact, and the summary says where to find it.
      expect(r.outputs.report).toBe(r.outputs.record!.replace(/\.json$/, '.html'));
      expect(await fs.readFile(path.join(repo, r.outputs.report!), 'utf8')).toMatch(/^<!doctype html>/);
      expect(r.summary).toMatch(/Transcripts: open `.+\.html` from this job's artifact/);
      expect(r.outputs.skipped).toBe('0');
      // Every output the entry point sets is declared in action.yml (an undeclared one is invisible to workflows).
      for (const name of Object.keys(r.outputs)) expect(declaredOutputs, name).toContain(name);
    }
    expect(records.map((r) => r.plan.shard)).toEqual([{ index: 1, count: 2 }, { index: 2, count: 2 }]);
    const keys = records.flatMap((r) => r.trials.map(trialKey)).sort();
    // echo: 2 samples x 3 agents, each trial in exactly one shard.
    expect(keys).toHaveLength(6);
    expect(new Set(keys).size).toBe(6);
    const all = records.flatMap((r) => r.trials);
    expect(all.filter((t) => t.model === 'oracle').every((t) => t.status === 'passed')).toBe(true);
    expect(all.filter((t) => t.model === 'nop').every((t) => t.status === 'failed')).toBe(true);
    const model = all.filter((t) => t.model.startsWith('anthropic:'));
    expect(model.map((t) => t.status)).toEqual(['error', 'error']);
    const withError = [a, b].find((r) => records[[a, b].indexOf(r)]!.trials.some((t) => t.status === 'error'))!;
    expect(withError.stdout).toMatch(/::error title=envbench error%3A echo\/default\/(apple|pear)\/anthropic%3Aclaude-haiku-4-5\/0::/);
    expect(Number(a.outputs.error) + Number(b.outputs.error)).toBe(2);
    expect(Number(a.outputs.passed) + Number(b.outputs.passed)).toBe(2);
  }, 240_000);

  it('runs nothing, successfully, when no task is affected', async () => {
    const head = git(repo, 'rev-parse', 'HEAD');
    const r = await run({ tasks: 'affected', base_ref: head, models: 'oracle' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.outputs).toMatchObject({ tasks: '', record: '' });
    expect(r.summary).toMatch(/No task is affected/);
  }, 120_000);

  it('fails with the input named when an input is wrong', async () => {
    // Every wrong input is named in one failure (each run of the entry costs seconds: one run checks all three).
    const inputs = await run({ tasks: 'echo', shard: '3/2', epochs: 'ten' });
    expect(inputs.code).toBe(1);
    expect(inputs.stdout).toMatch(/input `shard` \(got "3\/2"\): the shard index i must be between 1 and n/);
    expect(inputs.stdout).toMatch(/input `epochs` \(got "ten"\): write a whole number/);
    expect(inputs.stdout).toMatch(/input `models`/);
    expect(inputs.stdout).not.toMatch(/input `tasks`/);
    const unknown = await run({ tasks: 'nope', models: 'oracle' });
    expect(unknown.stdout).toMatch(/unknown task\(s\) nope/);
    const noBase = await run({ tasks: 'affected', models: 'oracle' }, { name: 'workflow_dispatch', payload: {} });
    expect(noBase.stdout).toMatch(/needs a base to diff against/);
  }, 240_000);
});
