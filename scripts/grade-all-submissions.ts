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
import { pathToFileURL } from 'node:url';
import { parseArgs as parseNodeArgs } from 'node:util';
import pLimit from 'p-limit';
import { z } from 'zod';
import { positiveInt, UsageError } from '../src/cli/args.js';
import { TASKS_DIR } from '../src/config.js';
import { failingChecks, loadExpectations, loadSubmission, unlistedSubmissions, verdictProblems } from '../src/grading/expectations.js';
import { localGrader } from '../src/grading/local.js';
import { loadTask } from '../src/tasks/load.js';

const ArgsSchema = z
  .object({
    task: z.array(z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'a task id is lower-case letters, digits and "-"')).default([]),
    all: z.boolean().default(false),
    only: z.string().min(1, '--only needs case names, comma-separated').transform((s) => s.split(',').filter(Boolean)).optional(),
    quick: z.boolean().default(false),
    concurrency: positiveInt('--concurrency').max(64, '--concurrency must be at most 64').default(2),
  })
  .refine((a) => a.all || a.task.length > 0, { message: 'give --task <id> (repeatable) or --all', path: ['task'] });
type Args = z.infer<typeof ArgsSchema>;

export function parseGradeAllArgs(argv: string[]): Args {
  let values: Record<string, unknown>;
  try {
    values = parseNodeArgs({
      args: argv,
      options: { task: { type: 'string', multiple: true }, all: { type: 'boolean' }, only: { type: 'string' }, quick: { type: 'boolean' }, concurrency: { type: 'string' } },
      allowPositionals: false,
      strict: true,
    }).values as Record<string, unknown>;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const r = ArgsSchema.safeParse(values);
  if (!r.success) throw new UsageError(r.error.issues.map((i) => `--${i.path.map(String).join('.') || 'arguments'}: ${i.message}`).join('; '));
  return r.data;
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
  try {
    await fs.access(path.join(taskDir, 'task.ts'));
  } catch {
    throw new UsageError(`--task: no task "${taskId}" in ${path.relative(process.cwd(), TASKS_DIR) || TASKS_DIR}`);
  }
  const exp = await loadExpectations(taskDir);
  if (!exp) throw new UsageError(`--task ${taskId}: ${path.relative(process.cwd(), taskDir)}/test/expectations.ts does not exist`);
  let bad = 0;
  const unlisted = await unlistedSubmissions(taskDir, exp);
  for (const f of unlisted) {
    console.log(`MISMATCH ${taskId} ${f}: a submission file that no case in test/expectations.ts names`);
    bad++;
  }
  if (args.only) {
    const unknown = args.only.filter((n) => !exp.cases[n]);
    if (unknown.length) throw new UsageError(`--only: ${taskId} has no case(s) ${unknown.join(', ')}`);
  }
  const h = await localGrader(await loadTask(taskDir));
  if (h.unmet) throw new Error(`task ${taskId} cannot run here: ${h.unmet}`);
  let cases = Object.entries(exp.cases);
  if (args.quick) cases = cases.filter(([, c]) => c.quick);
  if (args.only) cases = cases.filter(([n]) => args.only!.includes(n));
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
          const g = await h.grade(await loadSubmission(taskDir, exp, c), c.variant ? { variantId: c.variant } : {});
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

export async function main(argv: string[]): Promise<number> {
  let args: Args;
  try {
    args = parseGradeAllArgs(argv);
  } catch (e) {
    console.error(`grade-all-submissions: ${(e as Error).message}`);
    return 2;
  }
  const tasks = args.all ? await tasksWithExpectations() : args.task;
  let bad = 0;
  for (const t of tasks) {
    try {
      bad += await gradeTask(t, args);
    } catch (e) {
      // A usage error (no such task or case) is the caller's: exit 2. Anything else is a setup error: also 2, named.
      console.error(`grade-all-submissions: ${(e as Error).message}`);
      return 2;
    }
  }
  console.log(bad ? `${bad} mismatch(es)` : 'every verdict as expected');
  return bad ? 1 : 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) process.exitCode = await main(process.argv.slice(2));
