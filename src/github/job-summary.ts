import type { RunRecord, TrialResult } from '../runs/record.js';
import { judgeSummaryLines, summaryTable } from '../reports/summary.js';
import { trialKey } from '../runs/record.js';

export interface Annotation {
  level: 'error' | 'warning';
  title: string;
  message: string;
}

/** The job summary of one run: what ran, the pass-rate table with intervals, errors and skips kept apart. */
export function runSummaryMarkdown(record: RunRecord, extra: string[] = []): string {
  const n = (s: TrialResult['status']) => record.trials.filter((t) => t.status === s).length;
  const shard = record.plan.shard ? `, shard ${record.plan.shard.index}/${record.plan.shard.count}` : '';
  const lines = [
    `## envbench run \`${record.runId}\`${shard}`,
    '',
    `${record.trials.length} trial(s): ${n('passed')} passed, ${n('failed')} failed, ${n('error')} error, ${n('skipped')} skipped. ` +
      `Errors (harness, grader or API) and skips are never counted as failures.`,
    ...extra.map((e) => `\n${e}`),
    '',
    record.trials.length ? summaryTable(record.trials) : '_no trials_',
    // The judge's spending, apart from the agents' (the table's cost column).
    ...judgeSummaryLines(record.trials).map((l, i) => `${i === 0 ? '\n' : ''}- ${l}`),
  ];
  return lines.join('\n') + '\n';
}

/** One annotation per distinct problem: errors as errors, skips (missing requirements) as warnings. */
export function runAnnotations(record: RunRecord, max = 20): Annotation[] {
  const out: Annotation[] = [];
  const seen = new Set<string>();
  for (const t of record.trials) {
    if (t.status !== 'error' && t.status !== 'skipped') continue;
    const msg = (t.error ?? 'no detail').split('\n').slice(0, 6).join('\n');
    const dedupe = `${t.status}\u0000${t.task}\u0000${msg}`;
    if (seen.has(dedupe)) continue;
    seen.add(dedupe);
    out.push({
      level: t.status === 'error' ? 'error' : 'warning',
      title: `envbench ${t.status}: ${trialKey(t)}`,
      message: msg,
    });
  }
  if (out.length > max) {
    const rest = out.length - max;
    return [...out.slice(0, max), { level: 'warning', title: 'envbench', message: `${rest} more distinct problem(s); see the job summary and the run record` }];
  }
  return out;
}
