import { GitCommandError, runGit } from '../git.js';

/**
 * Paths whose change can alter any task's outcome: the harness (src/), its dependencies and toolchain, and the
 * run-eval action itself. A change there re-runs every task; a change under tasks/<id>/ re-runs that task;
 * anything else (docs, results/, other actions, tests of the harness) re-runs nothing.
 */
const HARNESS_PATHS: readonly RegExp[] = [
  /^src\//,
  /^package(-lock)?\.json$/,
  /^tsconfig\.json$/,
  /^actions\/run-eval\//,
  /^scripts\/bench\.ts$/,
];

export interface Affected {
  tasks: string[];
  /** Why each task is included, for the job summary. */
  reasons: Record<string, string>;
  harnessChanged: boolean;
}

export function affectedTasks(changedFiles: readonly string[], taskIds: readonly string[]): Affected {
  const known = new Set(taskIds);
  const harness = changedFiles.filter((f) => HARNESS_PATHS.some((re) => re.test(f)));
  if (harness.length) {
    const why = `the harness changed (${harness.slice(0, 3).join(', ')}${harness.length > 3 ? `, +${harness.length - 3} more` : ''})`;
    return { tasks: [...taskIds], reasons: Object.fromEntries(taskIds.map((t) => [t, why])), harnessChanged: true };
  }
  const reasons: Record<string, string> = {};
  for (const f of changedFiles) {
    const m = /^tasks\/([^/]+)\//.exec(f);
    // A task folder that no longer exists (deleted in the PR) has nothing to run.
    if (m && known.has(m[1]!) && !reasons[m[1]!]) reasons[m[1]!] = `its folder changed (${f})`;
  }
  return { tasks: taskIds.filter((t) => reasons[t]), reasons, harnessChanged: false };
}

export class GitError extends Error {
  override name = 'GitError';
}

/** Files changed on HEAD since it left `baseRef` (three-dot: the PR's own changes, not the base's newer ones). */
export async function changedFilesSince(baseRef: string, cwd: string): Promise<string[]> {
  try {
    const stdout = await runGit(cwd, ['diff', '--name-only', '-z', `${baseRef}...HEAD`]);
    return stdout.split('\0').filter(Boolean);
  } catch (e) {
    const msg = e instanceof GitCommandError ? e.detail : (e as Error).message;
    throw new GitError(
      `cannot diff against ${baseRef}: ${msg}. The base must be fetched: use actions/checkout with fetch-depth: 0 ` +
        `(or fetch the base branch) before run-eval with tasks: affected.`,
    );
  }
}
