import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTask, type LoadedTask } from '../../src/tasks/index.js';
import { combineTaskHash, gitBlobId, taskVersion, taskVersionsAtRef } from '../../src/tasks/version.js';
import { environmentGaps, gradingProfileOf } from '../../src/tasks/grading-profile.js';
import { runTrial, type TrialEnv } from '../../src/runs/trial.js';
import { parseAgentSpec } from '../../src/agents/model-spec.js';
import { TranscriptLog } from '../../src/agents/transcript.js';
import { RunRecordSchema } from '../../src/runs/record.js';
import { makeRunRecord, makeTrial } from '../support/records.js';
import type { PythonEnv } from '../../src/python/env.js';
import type { EnvironmentChecks } from '../../src/tasks/define.js';

const ECHO = path.join(import.meta.dirname, '..', 'fixtures', 'tasks', 'echo');
const git = (cwd: string, ...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@e', ...args], { cwd, stdio: 'pipe' }).toString().trim();

let repo: string;
beforeAll(async () => {
  // A repository holding a copy of the echo task; its task.ts re-exports the fixture's definition.
  repo = await fs.mkdtemp(path.join(os.tmpdir(), 'envbench-version-'));
  const dest = path.join(repo, 'tasks', 'echo');
  await fs.cp(ECHO, dest, { recursive: true });
  await fs.writeFile(path.join(dest, 'task.ts'), `export { default } from ${JSON.stringify(path.join(ECHO, 'task.ts'))};\n`);
  await fs.mkdir(path.join(repo, 'src', 'grading', 'python'), { recursive: true });
  await fs.writeFile(path.join(repo, 'src', 'grading', 'python', 'verdict.py'), 'VERSION = 1\n');
  git(repo, 'init', '-q', '-b', 'main');
  git(repo, 'add', '.');
  git(repo, 'commit', '-q', '-m', 'v1');
});
afterAll(() => fs.rm(repo, { recursive: true, force: true }));

const load = () => loadTask(path.join(repo, 'tasks', 'echo'));

describe('task version hash', () => {
  it("git's blob id, computed without git: sha1('blob 6\\0hello\\n') as `git hash-object` gives it", () => {
    expect(gitBlobId(Buffer.from('hello\n'))).toBe('ce013625030ba8dba906f756967f9e9ca394464a');
  });

  it('is the same from the checkout and from the git tree at a ref, and differs per variant', async () => {
    const t = await load();
    const onDisk = await taskVersion(t, 'default', repo);
    const atRef = await taskVersionsAtRef(repo, 'HEAD', [{ task: 'echo', variant: 'default' }, { task: 'echo', variant: 'terse' }, { task: 'gone', variant: 'x' }]);
    expect(onDisk).toMatch(/^[0-9a-f]{64}$/);
    expect(atRef.get('echo')!.get('default')).toBe(onDisk);
    expect(atRef.get('echo')!.get('terse')).toBe(await taskVersion(t, 'terse', repo));
    expect(atRef.get('echo')!.get('terse')).not.toBe(onDisk);
    expect(atRef.has('gone')).toBe(false);
  });

  it('changes with the prompt, the grader files and the shared check library; not with README.md or test/', async () => {
    const v1 = await taskVersion(await load(), 'default', repo);
    await fs.writeFile(path.join(repo, 'tasks', 'echo', 'README.md'), 'docs changed\n');
    await fs.mkdir(path.join(repo, 'tasks', 'echo', 'test'), { recursive: true });
    await fs.writeFile(path.join(repo, 'tasks', 'echo', 'test', 'x.test.ts'), '// a test\n');
    await fs.mkdir(path.join(repo, 'tasks', 'echo', '__pycache__'), { recursive: true });
    await fs.writeFile(path.join(repo, 'tasks', 'echo', '__pycache__', 'check.cpython-311.pyc'), 'bytes');
    expect(await taskVersion(await load(), 'default', repo)).toBe(v1);
    await fs.writeFile(path.join(repo, 'src', 'grading', 'python', 'verdict.py'), 'VERSION = 2\n');
    const v2 = await taskVersion(await load(), 'default', repo);
    expect(v2).not.toBe(v1);
    await fs.appendFile(path.join(repo, 'tasks', 'echo', 'prompt.md'), 'one more line\n');
    const v3 = await taskVersion(await load(), 'default', repo);
    expect(new Set([v1, v2, v3]).size).toBe(3);
    // The order files are listed in does not matter; the path of each does.
    const files = [{ path: 'task/a', blob: '1' }, { path: 'task/b', blob: '2' }];
    expect(combineTaskHash(files, 'v')).toBe(combineTaskHash([...files].reverse(), 'v'));
    expect(combineTaskHash(files, 'v')).not.toBe(combineTaskHash([{ path: 'task/a', blob: '2' }, { path: 'task/b', blob: '1' }], 'v'));
  });
});

const CUDA_CHECKS: EnvironmentChecks[] = [{ checks: ['peak_memory', 'on_device'], needs: { cuda: true }, decisive: true }];
const TORCH2: EnvironmentChecks[] = [{ checks: ['torchrun'], needs: { cuda: false, minTorch: '2.0' }, decisive: false }];
const cpu = { cuda: false, torch: '1.13.1' };
const gpu = { cuda: true, torch: '2.3.0+cu121' };

describe('grading profile', () => {
  it('names the checks that cannot run here and why', () => {
    expect(environmentGaps(CUDA_CHECKS, cpu)).toEqual([
      { check: 'peak_memory', why: 'no CUDA here', decisive: true },
      { check: 'on_device', why: 'no CUDA here', decisive: true },
    ]);
    expect(environmentGaps(CUDA_CHECKS, gpu)).toEqual([]);
    expect(environmentGaps(TORCH2, cpu)).toEqual([{ check: 'torchrun', why: 'needs torch >= 2.0 (here 1.13.1)', decisive: false }]);
    expect(environmentGaps(TORCH2, gpu)).toEqual([]);
  });

  it('is partial when a declared check was skipped, by the environment or by the grader itself; full otherwise', () => {
    const checks = [
      { name: 'ast', passed: true, detail: '' },
      { name: 'peak_memory', passed: null, detail: 'skipped: no CUDA' },
      { name: 'judge:verdict', passed: null, detail: 'not run: no judge' },
    ];
    expect(gradingProfileOf(CUDA_CHECKS, cpu, checks)).toEqual({
      profile: 'partial',
      ran: ['ast'],
      skipped: [{ check: 'peak_memory', why: 'no CUDA here' }, { check: 'on_device', why: 'no CUDA here' }],
    });
    // On a GPU machine whose grader still skipped one (a broken driver, say): partial, with the grader's reason.
    expect(gradingProfileOf(CUDA_CHECKS, gpu, checks).skipped).toEqual([{ check: 'peak_memory', why: 'skipped: no CUDA' }]);
    // A skipped check the task does not declare (the judge) does not make the profile partial.
    expect(gradingProfileOf(CUDA_CHECKS, gpu, checks.filter((c) => c.name !== 'peak_memory')).profile).toBe('full');
  });
});

describe('trials record what produced them', () => {
  let echo: LoadedTask;
  let env: TrialEnv;
  let dir: string;
  beforeAll(async () => {
    echo = await loadTask(ECHO);
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'envbench-prov-'));
    const python: PythonEnv = { source: 'given', command: 'python3', executable: '/usr/bin/python3', version: '3.11', prefixes: [], modules: {}, torch: '1.13.1', cuda: false, gpu: null };
    env = { sandbox: null as never, python, requirements: { ok: true }, workRoot: dir, transcripts: new TranscriptLog(path.join(dir, 't.jsonl')), recordDir: dir, harness: '0.1.0+abc' };
  });
  afterAll(() => fs.rm(dir, { recursive: true, force: true }));
  const spec = (task: LoadedTask, agent: string) => ({ task, variant: task.variants[0]!, sampleId: 'apple', agent: parseAgentSpec(agent), agentName: agent, epoch: 0 });

  it('an oracle trial records the task hash, the harness and a full profile', async () => {
    const r = await runTrial(spec(echo, 'oracle'), env);
    expect(r.status).toBe('passed');
    expect(r.provenance).toEqual({ taskHash: await taskVersion(echo, 'default'), harness: '0.1.0+abc', servedModel: null, grading: { profile: 'full', ran: ['submitted', 'matches'], skipped: [] } });
  });

  it('a model trial of a task whose CUDA checks are decisive is skipped without CUDA, unless partial grading is asked for', async () => {
    const gpuTask: LoadedTask = { ...echo, def: { ...echo.def, environmentChecks: CUDA_CHECKS } };
    const skipped = await runTrial(spec(gpuTask, 'anthropic:claude-haiku-4-5'), env);
    expect(skipped.status).toBe('skipped');
    expect(skipped.error).toMatch(/^the checks that decide this task cannot run here: peak_memory \(no CUDA here\), on_device \(no CUDA here\)\. .*--partial-grading/);
    expect(skipped.provenance?.grading).toBeNull();
    // Asked for: the trial goes ahead (here it stops at the missing client, which proves it got past the gate).
    const tried = await runTrial(spec(gpuTask, 'anthropic:claude-haiku-4-5'), { ...env, allowPartialGrading: true });
    expect(tried.status).toBe('error');
    expect(tried.error).toMatch(/no Anthropic client/);
    // The oracle still runs on CPU (validate), with its partial profile on record.
    const oracle = await runTrial(spec(gpuTask, 'oracle'), env);
    expect(oracle.status).toBe('passed');
    expect(oracle.provenance?.grading?.profile).toBe('partial');
  });
});

describe('run record schema versions', () => {
  it('version 1 records (no provenance) still load; version 2 needs provenance on every trial', () => {
    expect(RunRecordSchema.safeParse(makeRunRecord('old', [makeTrial()])).success).toBe(true);
    const v2 = RunRecordSchema.safeParse({ ...makeRunRecord('new', [makeTrial()]), schemaVersion: 2 });
    expect(v2.success).toBe(false);
    expect(v2.error!.issues[0]!.path).toEqual(['trials', 0, 'provenance']);
  });
});
