import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pLimit from 'p-limit';
import { addUsage, ZERO_USAGE } from '../agents/prices.js';
import { gradeSubmission, isGradingError } from '../grading/grade.js';
import type { PythonEnv } from '../python/env.js';
import { usesGpu } from '../python/requirements.js';
import type { Sandbox } from '../sandbox/types.js';
import type { JudgeExample } from '../tasks/define.js';
import type { LoadedTask } from '../tasks/load.js';
import { outcomeOf, summarizeExample, summarizeTask, type JudgeCheckReport, type RunOutcome } from './judge-agreement.js';
import { openJudgeSession, type JudgeSetup } from './judge-session.js';

/*
 * judge-check: grades each task's labelled example submissions k times through the one grading entry point, as a
 * trial grades (same deadline, same error mapping), with a model judge, and reports agreement.
 */

/** A labelled example that cannot be read or made into a valid submission: a definition error in task.ts. */
export class JudgeExampleError extends Error {}

interface PreparedExample {
  task: LoadedTask;
  example: JudgeExample;
  sampleId: string;
  submission: unknown;
}

/** Reads and validates every example before any model call: a broken example is a definition error. */
async function prepareExamples(task: LoadedTask): Promise<PreparedExample[]> {
  const je = task.def.judgeExamples!;
  const where = path.relative(process.cwd(), task.file) || task.file;
  const out: PreparedExample[] = [];
  for (const [i, ex] of je.examples.entries()) {
    const field = `${where}: judgeExamples.examples.${i}.file`;
    const file = path.join(task.dir, ex.file);
    const text = await fs.readFile(file, 'utf8').catch(() => {
      throw new JudgeExampleError(`${field}: "${ex.file}" not found in the task folder`);
    });
    const sample = ex.sample ? task.def.samples.find((s) => s.id === ex.sample)! : task.def.samples[0]!;
    let raw: unknown;
    try {
      raw = je.toSubmission
        ? await je.toSubmission(text, { taskDir: task.dir, sampleId: sample.id, inputs: sample.inputs, file: ex.file })
        : JSON.parse(text);
    } catch (e) {
      const hint = je.toSubmission ? '' : ' (without judgeExamples.toSubmission the file must hold the submission as JSON)';
      throw new JudgeExampleError(`${field}: cannot make a submission of "${ex.file}": ${(e as Error).message}${hint}`);
    }
    const parsed = task.def.submission.safeParse(raw);
    if (!parsed.success) throw new JudgeExampleError(`${field}: "${ex.file}" does not match the task's submission schema: ${parsed.error.message}`);
    out.push({ task, example: ex, sampleId: sample.id, submission: parsed.data });
  }
  return out;
}


export interface JudgeCheckOptions {
  tasks: LoadedTask[];
  judge: Extract<JudgeSetup, { kind: 'model' }>;
  python: PythonEnv;
  sandbox: Sandbox;
  k: number;
  concurrency: number;
  minAgreement: number;
  /** Tasks that could not run here, with the reason; carried into the report. */
  skipped?: JudgeCheckReport['skipped'];
  log?: (line: string) => void;
}

/** Grades every example k times and summarises agreement per example and per task. */
export async function checkJudge(o: JudgeCheckOptions): Promise<JudgeCheckReport> {
  const prepared = (await Promise.all(o.tasks.map(prepareExamples))).flat();
  const limit = pLimit(o.concurrency);
  const workRoot = await fs.mkdtemp(path.join(os.tmpdir(), 'envbench-judge-check-'));
  o.log?.(`judge-check: ${prepared.length} example(s) x ${o.k} run(s) with ${o.judge.spec}`);

  let counter = 0;
  const gradeOnce = async (p: PreparedExample): Promise<RunOutcome> => {
    const session = openJudgeSession(o.judge);
    const dir = path.join(workRoot, String(counter++));
    let made: Promise<string> | null = null;
    try {
      const grade = await gradeSubmission(p.task, {
        sampleId: p.sampleId, variantId: p.task.defaultVariant.id, submission: p.submission, sandbox: o.sandbox, python: o.python,
        gpu: usesGpu(p.task.def.requirements, o.python),
        workDir: () => (made ??= fs.mkdir(dir, { recursive: true }).then(() => dir)),
        judge: session.ctx,
      });
      if (isGradingError(grade)) return { ok: false, error: grade.error, usage: session.log!.usage };
      return outcomeOf(grade, session.log!.usage);
    } finally {
      if (made) await fs.rm(dir, { recursive: true, force: true }).catch(() => {});
    }
  };

  let results: RunOutcome[][];
  try {
    results = await Promise.all(prepared.map((p) => Promise.all(Array.from({ length: o.k }, () => limit(() => gradeOnce(p))))));
  } finally {
    await fs.rm(workRoot, { recursive: true, force: true }).catch(() => {});
  }

  const examples = prepared.map((p, i) => summarizeExample(p.task.def.id, p.example, results[i]!));
  const tasks = o.tasks.map((t) => {
    const idx = prepared.flatMap((p, i) => (p.task === t ? [i] : []));
    const usage = idx.flatMap((i) => results[i]!.map((r) => r.usage)).reduce(addUsage, { ...ZERO_USAGE });
    return summarizeTask(t.def.id, idx.map((i) => examples[i]!), usage, o.judge.model, o.minAgreement);
  });
  return { judge: o.judge.spec, k: o.k, minAgreement: o.minAgreement, examples, tasks, skipped: o.skipped ?? [], ok: tasks.every((t) => t.ok) };
}
