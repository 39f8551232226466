/**
 * pr-report: compares the PR's run with the base branch's committed results by the baseline rule
 * (src/github/baseline.ts), posts or updates one sticky PR comment, and fails the step on a significant
 * regression or on a candidate that could not be judged (all errors, nothing run).
 * Inputs: actions/pr-report/action.yml.
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import * as core from '@actions/core';
import { context, getOctokit } from '@actions/github';
import { z } from 'zod';
import { readRunRecord } from '../../src/runs/journal.js';
import { loadRecordsAtRef } from '../../src/github/baseline.js';
import { taskVersionsAtRef } from '../../src/tasks/version.js';
import { buildPrReport, PR_REPORT_MARKER } from '../../src/github/pr-report.js';
import { upsertStickyComment } from '../../src/github/sticky-comment.js';
import { inputs, readInputs, runAction } from '../../src/github/action-io.js';

const Inputs = z.object({
  /** run-eval's `record` output; empty when no task was affected. */
  record: z.string().trim().optional(),
  github_token: z.string({ error: 'required: a token that may comment on pull requests (secrets.GITHUB_TOKEN with pull-requests: write)' }).min(1),
  base_ref: z.string().trim().optional(),
  results_dir: z.string().trim().default('results/runs'),
  /** Where the tasks are in the repository (their versions at the base ref are hashed from there). */
  tasks_dir: z.string().trim().default('tasks'),
  bot_login: z.string().trim().default('github-actions[bot]'),
  alpha: z.string().regex(/^0?\.\d+$/, 'a probability such as 0.05').transform(Number).optional(),
  min_effect: z.string().regex(/^0?\.\d+$/, 'a fraction such as 0.15 (15 points)').transform(Number).optional(),
  fail_on_regression: inputs.bool(true),
});

/** `record` may name the run record or a folder holding exactly one (where download-artifact put it). */
async function resolveRecord(p: string): Promise<string> {
  const st = await stat(p).catch(() => null);
  if (!st) throw new Error(`pr-report: input \`record\`: ${p} does not exist`);
  if (st.isFile()) return p;
  const found = (await readdir(p, { recursive: true, withFileTypes: true })).filter((e) => e.isFile() && e.name.endsWith('.json'));
  if (found.length !== 1) throw new Error(`pr-report: input \`record\`: expected one run record (*.json) in ${p}, found ${found.length}`);
  return path.join(found[0]!.parentPath, found[0]!.name);
}

await runAction(async () => {
  const i = readInputs('pr-report', Inputs);
  const pr = context.payload.pull_request as { number: number; base: { ref: string }; head: { sha: string } } | undefined;
  if (!pr) throw new Error(`pr-report: runs on pull_request events only (this is "${context.eventName}")`);
  const octokit = getOctokit(i.github_token);
  const target = { owner: context.repo.owner, repo: context.repo.repo, issueNumber: pr.number, marker: PR_REPORT_MARKER, botLogin: i.bot_login };
  if (!i.record) {
    // Nothing ran; an earlier report on this PR would now be stale, so it is replaced, not left standing.
    const posted = await upsertStickyComment(octokit, target, `${PR_REPORT_MARKER}\n# envbench\n\nNo task is affected by this PR's latest changes, so no eval ran and nothing can regress.\n`);
    core.info(`pr-report: no record (no task affected); ${posted.action} comment ${posted.commentId}`);
    core.setOutput('regression', 'false');
    core.setOutput('comment_url', posted.url);
    return;
  }
  const candidate = await readRunRecord(await resolveRecord(i.record));
  const baseRef = i.base_ref ?? `origin/${pr.base.ref}`;
  const base = await loadRecordsAtRef(process.cwd(), baseRef, i.results_dir);
  base.problems.forEach((p) => core.warning(`${p.file} at ${baseRef}: ${p.message}`, { title: 'envbench baseline' }));
  const baseVersions = await taskVersionsAtRef(process.cwd(), baseRef, candidate.trials, i.tasks_dir);
  const report = buildPrReport({
    candidate,
    baseRecords: base.records,
    baseVersions,
    baseRef,
    headSha: pr.head.sha,
    runUrl: `${context.serverUrl}/${context.repo.owner}/${context.repo.repo}/actions/runs/${context.runId}`,
    gate: { ...(i.alpha !== undefined && { alpha: i.alpha }), ...(i.min_effect !== undefined && { minEffect: i.min_effect }) },
  });
  const posted = await upsertStickyComment(octokit, target, report.body);
  core.info(`pr-report: ${posted.action} comment ${posted.commentId}${posted.removed.length ? ` (removed duplicates ${posted.removed.join(', ')})` : ''}`);
  await core.summary.addRaw(report.body).write();
  core.setOutput('regression', String(report.regression));
  core.setOutput('comment_url', posted.url);
  if (report.regression && i.fail_on_regression) {
    core.setFailed('pr-report: a significant pass-rate regression against the base branch; see the PR comment');
  } else if (!report.passed) {
    // Not a regression, but nothing could be judged (every trial errored or was skipped): never a green check.
    core.setFailed(`pr-report: the candidate could not be judged: ${report.failures.join('; ')}`);
  }
});
