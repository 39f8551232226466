import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runActionEntry } from '../support/action-runner.js';
import { makeRunRecord, makeTrial } from '../support/records.js';
import { REPORT_SECTIONS, sectionMarkers } from '../../src/reports/readme.js';
import { RunRecordSchema, trialKey } from '../../src/runs/record.js';

const FIXTURE_TASKS = path.join(import.meta.dirname, '..', 'fixtures', 'tasks');
const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@e', ...args], { cwd, stdio: 'pipe' }).toString().trim();

let work: string;
let remote: string;

/** Two shard records of one run of `model` (echo task, 2 samples x 2 epochs). */
async function shardDir(name: string, model: string): Promise<string> {
  const dir = path.join(work, 'artifacts', name);
  for (const index of [1, 2]) {
    const trials = [0, 1].map((epoch) => makeTrial({ task: 'echo', variant: 'default', sample: index === 1 ? 'apple' : 'pear', model, epoch, status: epoch ? 'failed' : 'passed' }));
    const record = makeRunRecord(`${name}-s${index}`, trials, { plan: { tasks: ['echo'], models: [model], variants: null, epochs: 2, shard: { index, count: 2 } } });
    // download-artifact puts each artifact in its own folder; transcripts sit beside records and are not records.
    await fs.mkdir(path.join(dir, `envbench-run-${index}`), { recursive: true });
    await fs.writeFile(path.join(dir, `envbench-run-${index}`, `${name}-s${index}.json`), JSON.stringify(record));
    await fs.writeFile(path.join(dir, `envbench-run-${index}`, `${name}-s${index}.transcripts.jsonl`), '{"trial":"x"}\n');
  }
  return dir;
}

async function cloneOf(name: string): Promise<string> {
  git(work, 'clone', '-q', remote, name);
  return path.join(work, name);
}

const publish = (cwd: string, records: string, extra: Record<string, string> = {}) =>
  runActionEntry('publish-results', { cwd, inputs: { records, branch: 'main', ...extra }, env: { ENVBENCH_TASKS_DIR: FIXTURE_TASKS } });

async function remoteRuns(): Promise<string[]> {
  const check = path.join(work, `check-${Date.now()}`);
  git(work, 'clone', '-q', remote, check);
  return (await fs.readdir(path.join(check, 'results', 'runs'))).filter((f) => f.endsWith('.json')).sort();
}

beforeAll(async () => {
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'envbench-publish-'));
  const seed = path.join(work, 'seed');
  await fs.mkdir(path.join(seed, 'results', 'runs'), { recursive: true });
  await fs.writeFile(path.join(seed, 'results', 'runs', '.gitkeep'), '');
  const sections = REPORT_SECTIONS.map((s) => `${sectionMarkers(s).start}\n${sectionMarkers(s).end}`).join('\n\n');
  await fs.writeFile(path.join(seed, 'README.md'), `# results\n\n${sections}\n`);
  git(seed, 'init', '-q', '-b', 'main');
  git(seed, 'add', '.');
  git(seed, 'commit', '-q', '-m', 'init');
  git(work, 'clone', '-q', '--bare', seed, 'remote.git');
  remote = path.join(work, 'remote.git');
});
afterAll(() => fs.rm(work, { recursive: true, force: true }));

describe('publish-results action', () => {
  it('concurrent publishers each land their merged run exactly once, README and charts regenerated', async () => {
    const names = ['p0', 'p1', 'p2', 'p3'];
    const clones = await Promise.all(names.map((n) => cloneOf(`clone-${n}`)));
    const dirs = await Promise.all(names.map((n, i) => shardDir(n, `anthropic:model-${i}`)));
    const results = await Promise.all(names.map((_, i) => publish(clones[i]!, dirs[i]!)));
    for (const r of results) expect(r.code, r.stdout + r.stderr).toBe(0);
    // Someone lost a race and replayed (4 pushes to one branch at once), unless the machine serialized them.
    const attempts = results.map((r) => Number(/after (\d+) attempt/.exec(r.summary)?.[1]));
    expect(attempts.every((a) => a >= 1)).toBe(true);

    const runs = await remoteRuns();
    expect(runs).toHaveLength(4);
    const check = path.join(work, 'final');
    git(work, 'clone', '-q', remote, check);
    const records = await Promise.all(runs.map(async (f) => RunRecordSchema.parse(JSON.parse(await fs.readFile(path.join(check, 'results', 'runs', f), 'utf8')))));
    // Each run is the merge of its two shards: 4 trials, none lost or repeated.
    for (const r of records) {
      expect(r.trials).toHaveLength(4);
      expect(new Set(r.trials.map(trialKey)).size).toBe(4);
      expect(r.mergedFrom).toHaveLength(2);
    }
    expect(records.map((r) => r.plan.models[0]).sort()).toEqual(['anthropic:model-0', 'anthropic:model-1', 'anthropic:model-2', 'anthropic:model-3']);
    expect(results.map((r) => r.outputs.published).sort()).toEqual(records.map((r) => r.runId).sort());
    // The README on the branch reflects all four (regenerated from the merged store, not one publisher's view).
    const readme = await fs.readFile(path.join(check, 'README.md'), 'utf8');
    for (let i = 0; i < 4; i++) expect(readme).toContain(`model-${i}`);
    expect(await fs.readdir(path.join(check, 'results', 'charts'))).not.toHaveLength(0);
    const index = JSON.parse(await fs.readFile(path.join(check, 'results', 'index.json'), 'utf8'));
    expect(index).toHaveLength(4);
    expect(git(check, 'log', '--format=%s').split('\n').filter((s) => s.startsWith('results: publish'))).toHaveLength(4);

    // Publishing the same shards again (a re-run job) changes nothing.
    const again = await publish(clones[0]!, dirs[0]!);
    expect(again.code, again.stdout).toBe(0);
    expect(again.outputs.published).toBe('');
    expect(again.outputs.already_present).toBe(results[0]!.outputs.published);
    expect(await remoteRuns()).toHaveLength(4);
  }, 300_000);

  /** A post-commit hook that pushes a competing commit after each of the first `times` commits: the publisher's push then loses the race. */
  async function raceAfterCommit(clone: string, times: number): Promise<void> {
    const rival = await cloneOf(`rival-${path.basename(clone)}`);
    const hook = path.join(clone, '.git', 'hooks', 'post-commit');
    await fs.writeFile(
      hook,
      `#!/bin/sh\nunset GIT_DIR GIT_INDEX_FILE GIT_WORK_TREE GIT_PREFIX\nn=$(cat "${clone}.races" 2>/dev/null || echo 0)\n[ "$n" -ge ${times} ] && exit 0\necho $((n+1)) > "${clone}.races"\ncd "${rival}" && git pull -q --rebase origin main && echo "$n" >> rival.txt && git add rival.txt && git -c user.name=r -c user.email=r@e commit -qm "rival $n" && git push -q origin HEAD:main\n`,
      { mode: 0o755 },
    );
  }

  it('replays on the new tip when the branch moves between commit and push, keeping the other commits', async () => {
    const clone = await cloneOf('clone-racer');
    await raceAfterCommit(clone, 2);
    const before = (await remoteRuns()).length;
    const r = await publish(clone, await shardDir('racer', 'anthropic:racer'), { max_attempts: '5' });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.summary).toMatch(/after 3 attempt\(s\)/);
    expect(r.stdout).toMatch(/main moved while publishing \(attempt 1\/5\)/);
    const check = path.join(work, 'check-racer');
    git(work, 'clone', '-q', remote, check);
    expect(await fs.readFile(path.join(check, 'rival.txt'), 'utf8')).toBe('0\n1\n');
    expect(await remoteRuns()).toHaveLength(before + 1);
  }, 300_000);

  it('gives up after max_attempts with a clear failure naming the runs that did not land', async () => {
    const clone = await cloneOf('clone-loser');
    await raceAfterCommit(clone, 100);
    const before = (await remoteRuns()).length;
    const r = await publish(clone, await shardDir('loser', 'anthropic:loser'), { max_attempts: '2' });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/::error::gave up after 2 attempts: main kept moving \(other publishers\)\. Not published: \S+-m[0-9a-f]{8}\. Re-run the job/);
    expect(await remoteRuns()).toHaveLength(before);
  }, 300_000);

  it('refuses a records folder with no records, and a duplicated shard, by name', async () => {
    const clone = await cloneOf('clone-bad');
    const empty = path.join(work, 'empty');
    await fs.mkdir(empty);
    const r = await publish(clone, empty);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/no run records \(\*\.json\) under .*empty/);
    const dup = await shardDir('dup', 'anthropic:dup');
    await fs.cp(path.join(dup, 'envbench-run-1'), path.join(dup, 'envbench-run-1-again'), { recursive: true });
    const d = await publish(clone, dup);
    expect(d.code).toBe(1);
    expect(d.stdout).toMatch(/is in both .*dup-s1\.json and .*dup-s1\.json: shards must be disjoint/);
  }, 120_000);
});
