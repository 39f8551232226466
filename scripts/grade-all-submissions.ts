/**
 * Grades every submission a task lists in `tasks/<id>/test/expectations.ts` (references, no-ops, valid
 * alternatives, cheats) through the real sandboxed grader, and checks each verdict and catching check
 * against that list: the full set, of which `npm test` grades only the `quick` cases.
 *
 *   npx tsx scripts/grade-all-submissions.ts --task ml-training-optimization [--only a,b] [--quick] [--concurrency 2]
 *   npx tsx scripts/grade-all-submissions.ts --all      (every task that has an expectations file)
 *
 * Exit 0 when every grade is as expected, 1 on any mismatch (or a submission file no case names), 2 on a
 * usage or setup error. A grading error (infrastructure) counts as a mismatch.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import pLimit from 'p-limit';
import { TASKS_DIR } from '../src/tasks/index.js';
import { gradingHarness } from '../test/support/grading.js';
import { failingChecks, loadExpectations, loadSubmission, unlistedSubmissions, verdictProblems } from '../test/support/submission-cases.js';

interface Args {
  tasks: string[];
  all: boolean;
  only: string[] | null;
  quick: boolean;
  concurrency: number;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { tasks: [], all: false, only: null, quick: false, concurrency: 2 };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!;
    const val = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${k} needs a value`);
      return v;
    };
    if (k === '--task') a.tasks.push(val());
    else if (k === '--all') a.all = true;
    else if (k === '--only') a.only = val().split(',').filter(Boolean);
    else if (k === '--quick') a.quick = true;
    else if (k === '--concurrency') a.concurrency = Math.max(1, Number.parseInt(val(), 10) || 1);
    else throw new Error(`unknown argument ${k}`);
  }
  if (!a.all && a.tasks.length === 0) throw new Error('give --task <id> (repeatable) or --all');
  return a;
}

async function tasksWithExpectations(): Promise<string[]> {
  const out: string[] = [];
  for (const id of (await fs.readdir(TASKS_DIR)).sort()) {
    try {
      await fs.access(path.join(TASKS_DIR, id, 'test', 'expectations.ts'));
      out.push(id);
    } catch {
      // no expectations file: not graded here
    }
  }
  return out;
}

/** Grades one task's cases; returns the number of mismatches. */
async function gradeTask(taskId: string, args: Args): Promise<number> {
  const taskDir = path.join(TASKS_DIR, taskId);
  const exp = await loadExpectations(taskDir);
  if (!exp) throw new Error(`task ${taskId} has no test/expectations.ts`);
  let bad = 0;
  const unlisted = await unlistedSubmissions(taskDir, exp);
  for (const f of unlisted) {
    console.log(`MISMATCH ${taskId} ${f}: a submission file that no case in test/expectations.ts names`);
    bad++;
  }
  const h = await gradingHarness(taskId);
  if (h.unmet) throw new Error(`task ${taskId} cannot run here: ${h.unmet}`);
  let cases = Object.entries(exp.cases);
  if (args.quick) cases = cases.filter(([, c]) => c.quick);
  if (args.only) {
    const unknown = args.only.filter((n) => !exp.cases[n]);
    if (unknown.length) throw new Error(`${taskId}: no such case(s): ${unknown.join(', ')}`);
    cases = cases.filter(([n]) => args.only!.includes(n));
  }
  console.log(`${taskId}: grading ${cases.length} submission(s), ${args.concurrency} at a time`);
  const limit = pLimit(args.concurrency);
  const t0 = Date.now();
  await Promise.all(
    cases.map(([name, c]) =>
      limit(async () => {
        const t = Date.now();
        let problems: string[];
        let summary = '';
        try {
          const g = await h.grade(await loadSubmission(taskDir, exp, c), c.variant);
          problems = verdictProblems(g, c);
          summary = g.passed ? 'passed' : `failed by ${failingChecks(g).join(', ') || '(a skipped required check)'}`;
          if (problems.length) summary += `\n    ${JSON.stringify(g.checks)}`;
        } catch (e) {
          problems = [`grading error: ${(e as Error).message}`];
        }
        const secs = ((Date.now() - t) / 1000).toFixed(0);
        const want = c.expect === 'pass' ? 'pass' : `fail by ${c.expect.may.join('|')}`;
        if (problems.length) {
          bad++;
          console.log(`MISMATCH ${taskId} ${name} (expected ${want}, ${secs} s): ${problems.join('; ')} ${summary}`);
        } else {
          console.log(`ok       ${taskId} ${name} (${want}, ${secs} s): ${summary}`);
        }
      }),
    ),
  );
  console.log(`${taskId}: ${cases.length - (bad - unlisted.length)} of ${cases.length} as expected, ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  return bad;
}

async function main(): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`grade-all-submissions: ${(e as Error).message}`);
    return 2;
  }
  const tasks = args.all ? await tasksWithExpectations() : args.tasks;
  let bad = 0;
  for (const t of tasks) {
    try {
      bad += await gradeTask(t, args);
    } catch (e) {
      console.error(`grade-all-submissions: ${(e as Error).message}`);
      return 2;
    }
  }
  console.log(bad ? `${bad} mismatch(es)` : 'every verdict as expected');
  return bad ? 1 : 0;
}

process.exitCode = await main();
