import { markdownTable } from 'markdown-table';
import { level, pct, points, pValue, signedPoints } from '../../format.js';
import type { ComparisonResult, CellComparison } from './compare.js';
import type { SideSummary } from './pairing.js';


function sideCell(s: SideSummary | null, passes?: number, graded?: number): string {
  if (!s) return '—';
  const k = passes ?? s.passes;
  const n = graded ?? s.graded;
  let out = `${k}/${n} (${pct(n ? k / n : null, 'n/a')})`;
  const extra = [s.errors ? `${s.errors} error${s.errors > 1 ? 's' : ''}` : '', s.skips ? `${s.skips} skipped` : ''].filter(Boolean);
  if (extra.length) out += ` +${extra.join(', ')}`;
  return out;
}

function verdictCell(c: CellComparison): string {
  const d = c.decision;
  switch (c.verdict) {
    case 'baseline-only':
      return 'baseline only (not compared)';
    case 'candidate-only':
      return 'candidate only (not compared)';
    case 'regression':
      return '**REGRESSION**';
    case 'improvement':
      return 'improvement';
    case 'no-change':
      return 'no change';
    case 'undecided':
      return `undecided: ${d?.moreTrials ?? '?'} more for the next look`;
    case 'inconclusive':
      return `${c.failure ? '**CANNOT JUDGE**' : 'inconclusive'}${d?.moreTrials ? `: needs ~${d.moreTrials} more graded trials` : ''}${d?.reason ? ` (${d.reason})` : ''}`;
  }
}

/** A headline and one table row per cell. */
export function renderComparisonMarkdown(result: ComparisonResult): string {
  const { cells, counts, config } = result;
  const compared = result.comparedCells;
  const s = compared === 1 ? '' : 's';
  const lines: string[] = [];
  if (result.hasRegression) {
    const names = cells.filter((c) => c.verdict === 'regression').map((c) => `\`${c.key}\` (${signedPoints(c.decision!.delta!)} points)`);
    lines.push(`## ❌ Regression in ${counts.regression} of ${compared} compared cell${s}: ${names.join(', ')}`);
  } else if (!result.passed) {
    lines.push(`## ❌ Cannot judge: ${result.failures.join('; ')}`);
  } else if (counts.undecided > 0) {
    lines.push(`## ⏳ No regression so far; ${counts.undecided} of ${compared} compared cells need more candidate trials`);
  } else if (counts.inconclusive > 0) {
    lines.push(`## ⚠️ No regression found, but ${counts.inconclusive} of ${compared} compared cell${s} ${counts.inconclusive === 1 ? 'is' : 'are'} inconclusive (too few trials to rule one out)`);
  } else {
    lines.push(`## ✅ No regression in ${compared} compared cell${s}`);
  }
  if (!result.passed && result.hasRegression && result.failures.length > 1) lines.push('', `Also: ${result.failures.slice(1).join('; ')}`);
  const tally = (['regression', 'improvement', 'no-change', 'undecided', 'inconclusive', 'baseline-only', 'candidate-only'] as const)
    .filter((v) => counts[v] > 0)
    .map((v) => `${counts[v]} ${v}`)
    .join(', ');
  lines.push('', tally || 'no cells');
  const split = `one-sided alpha ${config.alpha} for the whole comparison, split over its ${compared} compared cell${s} (${level(result.cellAlpha)} each)`;
  lines.push(
    '',
    '<details><summary>How the gate decides</summary>',
    '',
    config.mode === 'sequential'
      ? `Sequential gate: ${split}; looks at ${config.looks.join('/')} graded candidate trials with ${config.spending} spending${config.calibrate ? ' (calibrated exactly for single-sample cells)' : ''}; exact test stratified by sample; improvement has its own bound (alpha ${config.improvementAlpha}, ${config.improvementSpending}); no change once the one-sided ${((1 - config.futility) * 100).toFixed(0)}% bound excludes a drop of ${points(config.minEffect)}. Regression needs p below the look's level and a drop of at least ${points(config.minEffect)}.`
      : `Fixed comparison: ${split}; exact test stratified by sample; regression needs a drop of at least ${points(config.minEffect)}; no change once the 95% interval excludes such a drop.`,
    '',
    '</details>',
    '',
  );
  const rows = cells.map((c) => {
    const d = c.decision;
    const ci = d?.deltaCi;
    const delta = d?.delta != null && ci ? `${signedPoints(d.delta)} [${signedPoints(ci.low)}, ${signedPoints(ci.high)}]` : '—';
    const p = d?.pWorse != null ? `${pValue(d.pWorse)}${d.level.regression ? ` (level ${level(d.level.regression)})` : ''}` : '—';
    const cand = c.analyzed && c.candidate ? sideCell(c.candidate, c.analyzed.candidatePasses, c.analyzed.candidateGraded) + (c.analyzed.setAside ? ` (+${c.analyzed.setAside} set aside)` : '') : sideCell(c.candidate);
    return [c.task, c.variant, c.model, sideCell(c.baseline), cand, delta, p, verdictCell(c)].map((x) => x.replace(/\|/g, '\\|'));
  });
  lines.push(markdownTable([['task', 'variant', 'model', 'baseline', 'candidate', 'delta, points [95% CI]', 'p (worse)', 'verdict'], ...rows]));
  return lines.join('\n') + '\n';
}
