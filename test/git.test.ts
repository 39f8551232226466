import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GitCommandError, runGit } from '../src/git.js';
import { publishResults } from '../src/github/publish.js';
import { REPORT_SECTIONS, sectionMarkers } from '../src/reports/readme.js';
import { makeRunRecord, makeTrial } from './support/records.js';

const FIXTURE_TASKS = path.join(import.meta.dirname, 'fixtures', 'tasks');
const git = (cwd: string, ...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@e', ...args], { cwd, stdio: 'pipe' }).toString().trim();

let work: string;
beforeAll(async () => {
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'envbench-git-'));
});
afterAll(() => fs.rm(work, { recursive: true, force: true }));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !/^State:\s+Z/m.test(execFileSync('cat', [`/proc/${pid}/status`]).toString()); // a zombie is dead
  } catch {
    return false;
  }
}

describe('runGit', () => {
  it('resolves with stdout, and a failing command rejects with its stderr', async () => {
    const repo = path.join(work, 'plain');
    await fs.mkdir(repo);
    git(repo, 'init', '-q', '-b', 'main');
    expect((await runGit(repo, ['rev-parse', '--is-inside-work-tree'])).trim()).toBe('true');
    const e = await runGit(repo, ['rev-parse', '--verify', 'no-such-ref']).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(GitCommandError);
    expect((e as GitCommandError).message).toMatch(/^git rev-parse --verify no-such-ref: fatal: /);
    expect((e as GitCommandError).timedOut).toBe(false);
  });
});

describe('publish against a remote that never answers', () => {
  it('fails at the remote bound, naming it, and leaves no git process or hook behind', async () => {
    const seed = path.join(work, 'seed');
    await fs.mkdir(path.join(seed, 'results', 'runs'), { recursive: true });
    await fs.writeFile(path.join(seed, 'results', 'runs', '.gitkeep'), '');
    const sections = REPORT_SECTIONS.map((s) => `${sectionMarkers(s).start}\n${sectionMarkers(s).end}`).join('\n\n');
    await fs.writeFile(path.join(seed, 'README.md'), `# results\n\n${sections}\n`);
    git(seed, 'init', '-q', '-b', 'main');
    git(seed, 'add', '.');
    git(seed, 'commit', '-q', '-m', 'init');
    git(work, 'clone', '-q', '--bare', seed, 'remote.git');
    const remote = path.join(work, 'remote.git');
    // The remote accepts the connection, then hangs in its pre-receive hook (a stalled server).
    const mark = path.join(work, 'hook.pid');
    await fs.writeFile(path.join(remote, 'hooks', 'pre-receive'), `#!/bin/sh\necho $$ > '${mark}'\nexec sleep 60\n`, { mode: 0o755 });
    git(work, 'clone', '-q', remote, 'clone');

    const record = makeRunRecord('hung-remote', [makeTrial({ task: 'echo', variant: 'default', sample: 'apple', model: 'oracle', epoch: 0, status: 'passed' })]);
    const t0 = performance.now();
    const err = await publishResults({
      repoDir: path.join(work, 'clone'),
      records: [record],
      branch: 'main',
      tasksDir: FIXTURE_TASKS,
      remoteTimeoutMs: 2000,
    }).catch((e: unknown) => e);
    const ms = performance.now() - t0;
    expect((err as Error).name).toBe('PublishError');
    expect((err as Error).message).toMatch(/push to origin\/main did not finish: git push .*no answer within 2 s; killed it/);
    expect((err as Error).message).toMatch(/re-running the publish is safe/);
    expect(ms).toBeLessThan(20_000);
    // The hook (in git's process group) was killed with it: nothing stalls the runner after the step.
    const pid = Number(await fs.readFile(mark, 'utf8'));
    expect(pid).toBeGreaterThan(0);
    for (let i = 0; i < 50 && alive(pid); i++) await new Promise((r) => setTimeout(r, 20));
    expect(alive(pid)).toBe(false);
  });
});
