import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { addRunToStore, ResultsStoreError } from '../runs/store.js';
import type { RunRecord } from '../runs/record.js';
import { regenerateReport } from '../reports/regenerate.js';
import { GitCommandError, REMOTE_GIT_TIMEOUT_MS, runGit } from '../git.js';

export class PublishError extends Error {
  override name = 'PublishError';
}

export interface PublishOptions {
  /** A clone of the repository whose `branch` receives the results. */
  repoDir: string;
  records: readonly RunRecord[];
  remote?: string;
  branch: string;
  /** Relative to repoDir. */
  resultsDir?: string;
  readme?: string;
  chartsDir?: string;
  tasksDir: string;
  /** Attempts before giving up when other publishers keep winning the race. */
  maxAttempts?: number;
  /** First back-off; doubles each attempt, with jitter so racing publishers spread out. */
  backoffMs?: number;
  author?: { name: string; email: string };
  message?: string;
  log?: (msg: string) => void;
  /** Bound on one fetch or push (default REMOTE_GIT_TIMEOUT_MS); a remote that does not answer fails the publish. */
  remoteTimeoutMs?: number;
}

export interface PublishResult {
  /** Run ids committed by this publish. */
  published: string[];
  /** Run ids that were already on the branch (a re-run of the publish job): never written twice. */
  alreadyPresent: string[];
  attempts: number;
  commit: string | null;
}

async function git(cwd: string, args: string[], timeoutMs?: number): Promise<string> {
  return (await runGit(cwd, args, timeoutMs)).trim();
}

/** A push refused because the branch moved on (another publisher won the race), as opposed to auth or network. */
function isRace(e: unknown): boolean {
  return e instanceof GitCommandError && /\[rejected\]|\(fetch first\)|non-fast-forward|failed to update ref|cannot lock ref|stale info/i.test(e.message);
}

/**
 * Commits run records to the results store on `branch`, regenerates the README and charts from the whole
 * store, and pushes. Concurrent publishers never lose a result: when the push is refused because the branch
 * moved, this publisher replays its change on the new tip (the records are re-added, and the derived files,
 * which would conflict textually, are regenerated from the merged store) and pushes again, up to maxAttempts
 * times with jittered exponential back-off; then it fails naming the runs that did not land.
 * A record already on the branch (same run id) is not written again, so re-running a publish is harmless.
 */
export async function publishResults(o: PublishOptions): Promise<PublishResult> {
  const remote = o.remote ?? 'origin';
  const resultsRel = o.resultsDir ?? path.join('results', 'runs');
  const readmeRel = o.readme ?? 'README.md';
  const chartsRel = o.chartsDir ?? path.join(path.dirname(resultsRel), 'charts');
  const maxAttempts = o.maxAttempts ?? 8;
  const backoff = o.backoffMs ?? 500;
  const author = o.author ?? { name: 'github-actions[bot]', email: '41898282+github-actions[bot]@users.noreply.github.com' };
  const log = o.log ?? (() => {});
  const cwd = o.repoDir;
  const remoteTimeout = o.remoteTimeoutMs ?? REMOTE_GIT_TIMEOUT_MS;

  // Each attempt resets to the remote tip; refuse to throw away someone's uncommitted work.
  const dirty = await git(cwd, ['status', '--porcelain', '--untracked-files=no']);
  if (dirty) throw new PublishError(`${cwd} has uncommitted changes to tracked files; publish from a clean checkout:\n${dirty}`);

  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    await git(cwd, ['fetch', '--quiet', remote, o.branch], remoteTimeout);
    await git(cwd, ['checkout', '--quiet', '-B', o.branch, `${remote}/${o.branch}`]);
    await git(cwd, ['reset', '--quiet', '--hard', `${remote}/${o.branch}`]);

    const published: string[] = [];
    const alreadyPresent: string[] = [];
    for (const record of o.records) {
      try {
        await addRunToStore(record, path.join(cwd, resultsRel));
        published.push(record.runId);
      } catch (e) {
        if (e instanceof ResultsStoreError && /already exists/.test(e.message)) alreadyPresent.push(record.runId);
        else throw e;
      }
    }
    if (!published.length) {
      log(`nothing to publish: all ${alreadyPresent.length} run(s) are already on ${o.branch}`);
      return { published, alreadyPresent, attempts: attempt, commit: null };
    }
    await regenerateReport({
      resultsDir: path.join(cwd, resultsRel),
      readmePath: path.join(cwd, readmeRel),
      chartsDir: path.join(cwd, chartsRel),
      tasksDir: o.tasksDir,
      warn: (m) => log(`warning: ${m}`),
    });
    await git(cwd, ['add', '--all', '--', resultsRel, path.dirname(resultsRel), readmeRel, chartsRel]);
    const message = o.message ?? `results: publish ${published.length} run(s)\n\n${published.map((id) => `- ${id}`).join('\n')}`;
    await git(cwd, ['-c', `user.name=${author.name}`, '-c', `user.email=${author.email}`, 'commit', '--quiet', '-m', message]);
    try {
      await git(cwd, ['push', '--quiet', remote, `HEAD:refs/heads/${o.branch}`], remoteTimeout);
      const commit = await git(cwd, ['rev-parse', 'HEAD']);
      log(`published ${published.length} run(s) in ${commit.slice(0, 12)} (attempt ${attempt})`);
      return { published, alreadyPresent, attempts: attempt, commit };
    } catch (e) {
      if (e instanceof GitCommandError && e.timedOut) {
        throw new PublishError(
          `push to ${remote}/${o.branch} did not finish: ${e.message}. It may or may not have landed; re-running the publish is safe (runs already on the branch are skipped).`,
        );
      }
      if (!isRace(e)) throw new PublishError(`push to ${remote}/${o.branch} failed (not a race with another publisher, so not retried): ${(e as Error).message}`);
      if (attempt === maxAttempts) break;
      const wait = backoff * 2 ** (attempt - 1) * (0.5 + Math.random());
      log(`${o.branch} moved while publishing (attempt ${attempt}/${maxAttempts}); replaying on the new tip in ${Math.round(wait)} ms`);
      await sleep(wait);
    }
  }
  throw new PublishError(
    `gave up after ${maxAttempts} attempts: ${o.branch} kept moving (other publishers). Not published: ` +
      `${o.records.map((r) => r.runId).join(', ')}. Re-run the job; records already on the branch are skipped.`,
  );
}
