/**
 * run-eval: runs tasks x models (one shard of the plan) through the same `run` command as the CLI, then writes
 * the job summary, annotations for errors and skips, and outputs. Inputs: actions/run-eval/action.yml.
 */
import path from 'node:path';
import { existsSync } from 'node:fs';
import * as core from '@actions/core';
import { context } from '@actions/github';
import { z } from 'zod';
import { main, EXIT } from '../../src/cli/main.js';
import { loadTasks, TASKS_DIR } from '../../src/tasks/load.js';
import { newRunId, transcriptLogPath } from '../../src/runs/execute.js';
import { journalPath } from '../../src/runs/journal.js';
import { judgeTranscriptPath } from '../../src/runs/judge-session.js';
import { viewCommand } from '../../src/cli/view.js';
import { ShardSchema } from '../../src/runs/shard.js';
import { affectedTasks, changedFilesSince } from '../../src/github/affected.js';
import { inputs, readInputs, runAction } from '../../src/github/action-io.js';
import { runAnnotations, runSummaryMarkdown } from '../../src/github/job-summary.js';
import { loadRecordsAtRef } from '../../src/github/baseline.js';
import { judgePullRequest } from '../../src/github/pr-gate.js';
import { combineCellRecords, runSequentialEval, type EvalCell } from '../../src/github/sequential-eval.js';
import { taskVersionsAtRef } from '../../src/tasks/version.js';
import { readRunRecord, writeRunRecord } from '../../src/runs/journal.js';

const Inputs = z.object({
  tasks: z.string().trim().default('all'),
  models: inputs.list(),
  variants: z.string().trim().optional(),
  epochs: inputs.int(1, 1, 1000),
  concurrency: inputs.int(4, 1, 256),
  shard: ShardSchema.default({ index: 1, count: 1 }),
  base_ref: z.string().trim().optional(),
  out_dir: z.string().trim().default('.runs'),
  judge: z.string().trim().optional(),
  fail_on_error: inputs.bool(false),
  /** Run the PR gate's sequential design: batches at its looks, each cell stopped once decided (src/github/sequential-eval.ts). */
  sequential: inputs.bool(false),
  /** Sequential: the ref whose committed results are the baseline; default origin/<the PR's base branch>. */
  baseline_ref: z.string().trim().optional(),
  results_dir: z.string().trim().default('results/runs'),
  /** Where the tasks are in the repository, for their versions at the baseline ref. */
  tasks_path: z.string().trim().default('tasks'),
});

await runAction(async () => {
  const i = readInputs('run-eval', Inputs);
  const cwd = process.cwd();
  const tasksDir = process.env.ENVBENCH_TASKS_DIR || TASKS_DIR;
  const allIds = (await loadTasks(undefined, tasksDir)).map((t) => t.def.id);

  let tasks: string[];
  const notes: string[] = [];
  if (i.tasks === 'affected') {
    const pr = context.payload.pull_request as { base?: { ref?: string; sha?: string } } | undefined;
    const base = i.base_ref ?? (pr?.base?.sha || (pr?.base?.ref ? `origin/${pr.base.ref}` : undefined));
    if (!base) throw new Error('run-eval: tasks: affected needs a base to diff against: run on a pull_request event or set input `base_ref`');
    const affected = affectedTasks(await changedFilesSince(base, cwd), allIds);
    tasks = affected.tasks;
    notes.push(
      tasks.length
        ? `Affected tasks against \`${base}\`: ${tasks.map((t) => `\`${t}\` (${affected.reasons[t]})`).join(', ')}.`
        : `No task is affected by the changes against \`${base}\`: nothing to run.`,
    );
  } else if (i.tasks === 'all') {
    tasks = allIds;
  } else {
    tasks = i.tasks.split(/[\s,]+/).filter(Boolean);
    const unknown = tasks.filter((t) => !allIds.includes(t));
    if (unknown.length) throw new Error(`run-eval: input \`tasks\`: unknown task(s) ${unknown.join(', ')}. Known: ${allIds.join(', ')} (or "all", "affected")`);
  }
  core.setOutput('tasks', tasks.join(','));
  if (!tasks.length) {
    core.setOutput('record', '');
    core.setOutput('report', '');
    core.setOutput('transcripts', '');
    core.setOutput('judge_transcripts', '');
    await core.summary.addRaw(`## envbench\n\n${notes.join('\n')}\n`).write();
    core.info(notes.join('\n'));
    return;
  }

  if (i.sequential) return sequential(i, tasks, notes);

  // One id for the file, the record's runId and the run_id output.
  const runId = `${newRunId()}-shard${i.shard.index}of${i.shard.count}`;
  const out = path.join(i.out_dir, `${runId}.json`);
  const argv = ['run', '--tasks', tasks.join(','), '--models', i.models.join(','), '--epochs', String(i.epochs), '--concurrency', String(i.concurrency), '--shard', `${i.shard.index}/${i.shard.count}`, '--run-id', runId, '--out', out];
  if (i.variants) argv.push('--variants', i.variants);
  if (i.judge) argv.push('--judge', i.judge);
  core.info(`envbench ${argv.join(' ')}`);
  const code = await main(argv, { out: (s) => process.stdout.write(s + '\n'), err: (s) => process.stderr.write(s + '\n') });
  if (code === EXIT.usage) throw new Error(`run-eval: the run was refused (exit 2); see the error above`);
  if (code === EXIT.interrupted) throw new Error(`run-eval: the run was interrupted; its journal is ${journalPath(out)} (resume with \`npm run bench -- run --resume ${out}\`)`);

  const record = await readRunRecord(out);
  for (const a of runAnnotations(record)) (a.level === 'error' ? core.error : core.warning)(a.message, { title: a.title });
  const report = await viewCommand([out]);
  const extra = [
    ...notes,
    `Transcripts: open \`${path.basename(report)}\` from this job's artifact in a browser (the link follows below once it is uploaded).`,
  ];
  await core.summary.addRaw(runSummaryMarkdown(record, extra)).write();
  const transcripts = transcriptLogPath(out);
  const judgeTranscripts = judgeTranscriptPath(out);
  core.setOutput('record', out);
  core.setOutput('report', report);
  core.setOutput('transcripts', existsSync(transcripts) ? transcripts : '');
  core.setOutput('judge_transcripts', existsSync(judgeTranscripts) ? judgeTranscripts : '');
  core.setOutput('run_id', record.runId);
  for (const s of ['passed', 'failed', 'error', 'skipped'] as const) core.setOutput(s, String(record.trials.filter((t) => t.status === s).length));
  if (code === EXIT.trialErrors && i.fail_on_error) core.setFailed('run-eval: some trials ended in error (fail_on_error is true); see the annotations');
});

/**
 * The PR job's loop (src/github/sequential-eval.ts): one `run` per cell per look, judged at each look by the
 * very gate pr-report applies, until every cell is decided or capped. The per-cell records live under
 * out_dir/sequential/cells and are resumed when present (restore that folder to carry on after a cancel).
 */
async function sequential(i: z.infer<typeof Inputs>, taskIds: string[], notes: string[]): Promise<void> {
  if (i.shard.count !== 1) throw new Error('run-eval: input `sequential`: the sequential gate runs the whole plan in one job; leave `shard` at 1/1');
  const cwd = process.cwd();
  const loaded = await loadTasks(taskIds, process.env.ENVBENCH_TASKS_DIR || TASKS_DIR);
  const wanted = i.variants?.split(/[\s,]+/).filter(Boolean);
  const cells: EvalCell[] = loaded.flatMap((t) =>
    t.variants
      .filter((v) => (wanted ? wanted.includes('all') || wanted.includes(v.id) : v.isDefault))
      .flatMap((v) => i.models.map((model) => ({ task: t.def.id, variant: v.id, model, samples: t.def.samples.length }))),
  );
  const pr = context.payload.pull_request as { base?: { ref?: string } } | undefined;
  const baseRef = i.baseline_ref ?? (pr?.base?.ref ? `origin/${pr.base.ref}` : undefined);
  if (!baseRef) throw new Error('run-eval: input `sequential` needs the baseline: run on a pull_request event or set input `baseline_ref`');
  const base = await loadRecordsAtRef(cwd, baseRef, i.results_dir);
  base.problems.forEach((p) => core.warning(`${p.file} at ${baseRef}: ${p.message}`, { title: 'envbench baseline' }));
  const baseVersions = await taskVersionsAtRef(cwd, baseRef, cells, i.tasks_path);
  const dir = path.join(i.out_dir, 'sequential');
  const io = { out: (s: string) => process.stdout.write(s + '\n'), err: (s: string) => process.stderr.write(s + '\n') };
  const perCell = Math.max(1, Math.floor(i.concurrency / Math.max(1, cells.length)));
  const result = await runSequentialEval({
    cells,
    dir,
    judge: (candidate, final) => judgePullRequest({ candidate, baseRecords: base.records, baseVersions, final }).comparison,
    runCell: (cell, epochs, record, resume) => {
      const argv = resume
        ? ['run', '--resume', record, '--epochs', String(epochs), '--concurrency', String(perCell)]
        : ['run', '--tasks', cell.task, '--variants', cell.variant, '--models', cell.model, '--epochs', String(epochs), '--concurrency', String(perCell), '--out', record, ...(i.judge ? ['--judge', i.judge] : [])];
      core.info(`envbench ${argv.join(' ')}`);
      return main(argv, io);
    },
    stopOn: (code) => code === EXIT.usage || code === EXIT.interrupted,
    log: (line) => core.info(line),
  });
  if (result.stoppedBy === EXIT.usage) throw new Error('run-eval: a run was refused (exit 2); see the error above');
  if (result.stoppedBy === EXIT.interrupted) throw new Error(`run-eval: the run was interrupted; restore ${dir} and run again to resume`);
  if (!result.trials.length) throw new Error('run-eval: no trial ran');
  const record = await combineCellRecords(result.progress, result.trials);
  const out = path.join(i.out_dir, `${record.runId}.json`);
  await writeRunRecord(out, record);
  const lines = result.progress.map((p) => `- \`${p.cell.task}/${p.cell.variant}/${p.cell.model}\`: ${p.trials} trial(s), ${p.state}${p.verdict ? ` (${p.verdict})` : ''}`);
  notes.push(`Sequential gate: ${result.looks} look(s) run.`, ...lines);
  for (const a of runAnnotations(record)) (a.level === 'error' ? core.error : core.warning)(a.message, { title: a.title });
  await core.summary.addRaw(runSummaryMarkdown(record, notes)).write();
  core.setOutput('record', out);
  // The cells' folder: their journals and transcript logs, uploaded beside the combined record.
  core.setOutput('transcripts', path.join(dir, 'cells'));
  core.setOutput('run_id', record.runId);
  for (const s of ['passed', 'failed', 'error', 'skipped'] as const) core.setOutput(s, String(record.trials.filter((t) => t.status === s).length));
  if (record.trials.some((t) => t.status === 'error') && i.fail_on_error) core.setFailed('run-eval: some trials ended in error (fail_on_error is true); see the annotations');
}
