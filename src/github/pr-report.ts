import { compareRuns, renderComparisonMarkdown, type ComparisonResult, type GateConfig } from '../reports/compare.js';
import type { RunRecord, TrialResult } from '../runs/record.js';
import { baselineFor } from './baseline.js';

/** Identifies envbench's report among a PR's comments (with the bot's authorship; see sticky-comment.ts). */
export const PR_REPORT_MARKER = '<!-- envbench:pr-report -->';

export interface PrReport {
  body: string;
  comparison: ComparisonResult;
  regression: boolean;
  baselineTrials: number;
}

export interface PrReportInput {
  candidate: RunRecord;
  baseline: readonly TrialResult[];
  baseRef: string;
  headSha: string;
  runUrl?: string;
  gate?: Partial<GateConfig>;
}

/** The PR comment: the gate's verdict per cell against the base branch's results, with what was compared. */
export function buildPrReport(i: PrReportInput): PrReport {
  const baseline = baselineFor(i.candidate.trials, i.baseline);
  const comparison = compareRuns(baseline, i.candidate.trials, i.gate);
  const errors = i.candidate.trials.filter((t) => t.status === 'error');
  const lines = [
    PR_REPORT_MARKER,
    '# envbench: pass rates against the base branch',
    '',
    renderComparisonMarkdown(comparison).trim(),
    '',
    `Candidate: run \`${i.candidate.runId}\` at ${i.headSha.slice(0, 12)}, ${i.candidate.trials.length} trial(s)` +
      (errors.length ? `, ${errors.length} ended in error (infrastructure or API; excluded from rates)` : '') +
      `. Baseline: ${baseline.length} trial(s) of the same tasks, variants and models committed on \`${i.baseRef}\`.`,
  ];
  if (!baseline.length) lines.push('', `No baseline results on \`${i.baseRef}\` for these cells yet: nothing to compare, so nothing can regress. The scheduled run publishes baselines.`);
  if (i.runUrl) lines.push('', `[Workflow run](${i.runUrl})`);
  return { body: lines.join('\n') + '\n', comparison, regression: comparison.hasRegression, baselineTrials: baseline.length };
}
