/**
 * Expected verdicts of a task's graded submissions (its references, no-ops, valid alternatives and cheats),
 * kept in ONE place per task, `tasks/<id>/test/expectations.ts`, which exports `expectations`. The task's
 * vitest file grades the `quick` cases (a small representative set, for `npm test`);
 * `scripts/grade-all-submissions.ts` grades every case and checks the same expectations.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Grade } from './types.js';

export interface SubmissionCase {
  /** The submission's file, relative to the task folder. */
  file: string;
  /** The variant it is graded under (default: the task's default variant). */
  variant?: string;
  /** `pass`, or the checks that may fail: at least one of them must, and no other may. */
  expect: 'pass' | { may: readonly string[] };
  /** Graded by `npm test` too; every case is graded by scripts/grade-all-submissions.ts. */
  quick?: boolean;
  /** Check details that must match (check name -> pattern). */
  details?: Readonly<Record<string, RegExp>>;
  /** Check details that must not match. */
  notDetails?: Readonly<Record<string, RegExp>>;
  /** Checks that must have no result (passed === null): work that a decided failure skipped. */
  skipped?: readonly string[];
}

export interface TaskExpectations {
  cases: Readonly<Record<string, SubmissionCase>>;
  /** The submission built from the file's text (default: `{ code: text }`). */
  submission?: (text: string, file: string) => unknown;
}

/** The names of the checks that failed, of a grade or of any list of checks in the same shape. */
export const failingChecks = (g: Pick<Grade, 'checks'>) => g.checks.filter((c) => c.passed === false).map((c) => c.name);
export const checkDetail = (g: Grade, name: string) => g.checks.find((c) => c.name === name)?.detail ?? '';

/** What is wrong with a grade against its case: [] when it is what the case expects. */
export function verdictProblems(g: Grade, c: SubmissionCase): string[] {
  const problems: string[] = [];
  const failing = failingChecks(g);
  if (c.expect === 'pass') {
    if (!g.passed) problems.push(`expected a pass, got a fail (failing: ${failing.join(', ') || 'none; a required check was skipped'})`);
    if (failing.length) problems.push(`failing checks: ${failing.join(', ')}`);
    if (g.passed && g.score !== 1) problems.push(`passed with score ${g.score}, expected 1`);
  } else {
    const may = c.expect.may;
    if (g.passed) problems.push(`expected a fail (by ${may.join(' or ')}), got a pass`);
    else if (!failing.some((n) => may.includes(n))) problems.push(`expected ${may.join(' or ')} to fail; failing: ${failing.join(', ') || 'none'}`);
    const other = failing.filter((n) => !may.includes(n));
    if (other.length) problems.push(`failing outside ${may.join(', ')}: ${other.join(', ')}`);
  }
  for (const [name, re] of Object.entries(c.details ?? {})) {
    if (!re.test(checkDetail(g, name))) problems.push(`${name} detail does not match ${re}: ${checkDetail(g, name).slice(0, 300)}`);
  }
  for (const [name, re] of Object.entries(c.notDetails ?? {})) {
    if (re.test(checkDetail(g, name))) problems.push(`${name} detail matches ${re}: ${checkDetail(g, name).slice(0, 300)}`);
  }
  for (const name of c.skipped ?? []) {
    const check = g.checks.find((x) => x.name === name);
    if (!check || check.passed !== null) problems.push(`${name} should have no result, got ${check ? String(check.passed) : 'no such check'}`);
  }
  return problems;
}

/** The submission of a case, read from the task folder. */
export async function loadSubmission(taskDir: string, exp: TaskExpectations, c: SubmissionCase): Promise<unknown> {
  const text = await fs.readFile(path.join(taskDir, c.file), 'utf8');
  return exp.submission ? exp.submission(text, c.file) : { code: text };
}

/** The task's expectations module, or null when it has none. */
export async function loadExpectations(taskDir: string): Promise<TaskExpectations | null> {
  const file = path.join(taskDir, 'test', 'expectations.ts');
  try {
    await fs.access(file);
  } catch {
    return null;
  }
  const mod = (await import(file)) as { expectations?: TaskExpectations };
  if (!mod.expectations) throw new Error(`${file} exports no \`expectations\``);
  return mod.expectations;
}

/**
 * The submission files in the task's solution/, test/valid_submissions/ and test/submissions/ (and the
 * no-ops in baselines/ where there is one) that no case names: each must be graded somewhere.
 */
export async function unlistedSubmissions(taskDir: string, exp: TaskExpectations): Promise<string[]> {
  const listed = new Set(Object.values(exp.cases).map((c) => path.normalize(c.file)));
  const found: string[] = [];
  for (const dir of ['solution', 'baselines', 'test/valid_submissions', 'test/submissions']) {
    let names: string[];
    try {
      names = await fs.readdir(path.join(taskDir, dir));
    } catch {
      continue;
    }
    for (const n of names) {
      if (n === 'README.md' || n.startsWith('.') || n === '__pycache__') continue;
      const rel = path.normalize(path.join(dir, n));
      if (!listed.has(rel)) found.push(rel);
    }
  }
  return found.sort();
}
