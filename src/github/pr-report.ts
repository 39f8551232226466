import { markdownTable } from 'markdown-table';
import { renderComparisonMarkdown, type ComparisonResult, type GateConfig } from '../reports/compare/index.js';
import type { RunRecord } from '../runs/record.js';
import type { BaselineSelection } from './baseline.js';
import { judgePullRequest } from './pr-gate.js';

/** Identifies envbench's report among a PR's comments (with the bot's authorship; see sticky-comment.ts). */
export const PR_REPORT_MARKER = '<!-- envbench:pr-report -->';

export interface PrReport {
  body: string;
  comparison: ComparisonResult;
  regression: boolean;
  /** The check's outcome: false on a regression or a candidate that could not be judged. */
  passed: boolean;
  failures: string[];
  baseline: BaselineSelection;
}

export interface PrReportInput {
  candidate: RunRecord;
  baseRecords: readonly RunRecord[];
  baseVersions: ReadonlyMap<string, ReadonlyMap<string, string>>;
  baseRef: string;
  headSha: string;
  runUrl?: string;
  gate?: Partial<GateConfig>;
}

const day = (iso: string) => iso.slice(0, 10);

/** What the baseline is, by the rule: the runs and dates used, per cell. */
export function renderBaseline(b: BaselineSelection, baseRef: string): string {
  const lines = [
    `**Baseline** (the rule: per cell, the newest ${b.size} graded trials on \`${baseRef}\` of the task's current version there, fully graded): ` +
      (b.runs.length
        ? `${b.trials.length} trial(s) from ${b.runs.length} run(s): ${b.runs.map((r) => `\`${r.runId}\` (${day(r.startedAt)}, ${r.trials})`).join(', ')}.`
        : 'no trials qualify.'),
  ];
  const rows = b.cells.map((c) => {
    const ex = [c.excluded.olderVersion && `${c.excluded.olderVersion} older version`, c.excluded.partialProfile && `${c.excluded.partialProfile} partial profile`, c.excluded.unversioned && `${c.excluded.unversioned} unversioned`].filter(Boolean).join(', ');
    return [
      c.key,
      c.taskHash ? c.taskHash.slice(0, 12) : 'not on base',
      `${c.used} of ${c.eligible}`,
      c.oldest && c.newest ? `${day(c.oldest)} – ${day(c.newest)}` : '—',
      c.runs.map((r) => `${r.runId} (${r.trials})`).join(', ') || '—',
      ex || '—',
    ].map((x) => x.replace(/\|/g, '\\|'));
  });
  if (rows.length) {
    lines.push('', '<details><summary>Baseline per cell</summary>', '', markdownTable([['cell', 'task version', 'trials used', 'dates', 'runs (trials)', 'not used'], ...rows]), '', '</details>');
  }
  return lines.join('\n');
}

/** The PR comment: the gate's verdict per cell against the base branch's results, with what was compared. */
export function buildPrReport(i: PrReportInput): PrReport {
  const { comparison, baseline, partialCandidateTrials } = judgePullRequest({ candidate: i.candidate.trials, baseRecords: i.baseRecords, baseVersions: i.baseVersions, gate: i.gate, final: true });
  const errors = i.candidate.trials.filter((t) => t.status === 'error');
  const lines = [
    PR_REPORT_MARKER,
    '# envbench: pass rates against the base branch',
    '',
    renderComparisonMarkdown(comparison).trim(),
    '',
    `Candidate: run \`${i.candidate.runId}\` at ${i.headSha.slice(0, 12)}, ${i.candidate.trials.length} trial(s)` +
      (errors.length ? `, ${errors.length} ended in error (infrastructure or API; excluded from rates)` : '') +
      (partialCandidateTrials ? `, ${partialCandidateTrials} graded with a partial profile (not compared)` : '') +
      '.',
    '',
    renderBaseline(baseline, i.baseRef),
  ];
  if (!baseline.trials.length) lines.push('', `No baseline results on \`${i.baseRef}\` for these cells' current task versions yet: nothing to compare. The scheduled run publishes baselines.`);
  if (i.runUrl) lines.push('', `[Workflow run](${i.runUrl})`);
  return { body: lines.join('\n') + '\n', comparison, regression: comparison.hasRegression, passed: comparison.passed, failures: comparison.failures, baseline };
}
