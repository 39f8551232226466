import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { type Check, type Grade, type GradeContext, GraderInfraError, judgeWithRubric, type PythonCheckSpec, type RubricJudgement, rubricMaxPoints, runPythonCheck } from '../../src/task-api.js';
import { rubric } from './rubric.js';

/**
 * Two graders side by side:
 *   - check.py: 11 AST checks (pass at 9, seed 000's rule) and, with CUDA and torch >= 2, a world-size-1 torchrun run
 *     whose checkpoint compare loads itself (torch.load weights_only). See check.py and README.md.
 *   - the LLM judge with the seed's 10-point rubric (pass at 8, seed 001's rule; rubric.ts).
 * When the judge ran, a pass needs both. Without a judge (validate's oracle and nop, no model access) check.py
 * decides alone, as before. `rubric_vs_ast` reports where the two disagree; it never decides anything.
 */
export const CHECK: PythonCheckSpec = {
  script: 'check.py',
  // The starter is public (the agent starts from it); check.py reads it in every phase. conversion.py holds
  // the static checks check.py imports (public grader code, it decides nothing in the run).
  runFiles: ['starter.py', 'conversion.py'],
  publicFiles: ['inputs.npz'],
  limits: {
    prepare: { wallSec: 180 },
    // torchrun and one worker, each with torch and CUDA loaded; the run itself is capped at 300 s by check.py.
    run: { wallSec: 420, memoryMb: 16_384 },
    compare: { wallSec: 180 },
  },
  // The checkpoint travels as raw bytes: about 30 MB of float32 weights.
  maxOutputMb: 96,
};

export const STATIC_CHECKS = [
  'nccl_init', 'local_rank_from_env', 'fsdp_lambda_auto_wrap', 'wrap_criteria', 'no_transformer_auto_wrap_policy',
  'distributed_sampler', 'set_epoch_in_loop', 'optimizer_after_fsdp', 'full_state_dict_config', 'rank0_state_dict_save',
  'destroy_process_group',
] as const;
export const RUNTIME_CHECKS = ['torchrun_completes', 'checkpoint_full_state_dict', 'fsdp_at_runtime'] as const;
export const DISAGREEMENT_CHECK = 'rubric_vs_ast';

/** Which of check.py's checks cover each rubric criterion, for the per-criterion comparison. */
export const CRITERION_CHECKS: Record<string, readonly string[]> = {
  'distributed-init': ['nccl_init', 'local_rank_from_env'],
  'fsdp-wrapping': ['fsdp_lambda_auto_wrap', 'wrap_criteria', 'no_transformer_auto_wrap_policy'],
  'data-distribution': ['distributed_sampler', 'set_epoch_in_loop'],
  checkpointing: ['full_state_dict_config', 'rank0_state_dict_save'],
  cleanup: ['destroy_process_group'],
  'optimizer-after-fsdp': ['optimizer_after_fsdp'],
  // Only a GPU run says whether the script works; without one this criterion is the judge's alone.
  'overall-correctness': ['torchrun_completes', 'checkpoint_full_state_dict'],
};

/** The prompt as the agent saw it (the starter script inlined), so the judge can compare with the original. */
export async function judgeTaskPrompt(taskDir: string): Promise<string> {
  const template = await readFile(path.join(taskDir, 'prompt.md'), 'utf8');
  const files = new Map<string, string>();
  for (const m of template.matchAll(/\{\{\s*file:([\w./-]+)\s*\}\}/g)) {
    const name = m[1]!;
    const p = path.join(taskDir, name);
    if (!p.startsWith(taskDir + path.sep)) throw new GraderInfraError(`fsdp-training: prompt.md: {{file:${name}}} leaves the task folder`);
    if (!files.has(name)) files.set(name, await readFile(p, 'utf8'));
  }
  return template.replace(/\{\{\s*file:([\w./-]+)\s*\}\}/g, (_m, name: string) => files.get(name)!);
}

const pointsOf = (j: RubricJudgement, id: string) => j.verdict?.criteria[id]?.points ?? 0;

/**
 * Where the AST rule (and the GPU run, when it happened) and the judge disagree, overall and per criterion.
 * Informational: passed is always null, so it is never counted as a pass or a failure.
 */
export function disagreementCheck(det: Grade, j: RubricJudgement): Check {
  const byName = new Map(det.checks.map((c) => [c.name, c]));
  const stat = byName.get('static_score');
  const astCount = /^(\d+ of \d+)/.exec(stat?.detail ?? '')?.[1] ?? '?';
  if (!j.judged) {
    const why = j.checks[0]?.detail.replace(/^not run: /, '') ?? 'no judge';
    return { name: DISAGREEMENT_CHECK, passed: null, detail: `not compared: the judge did not run (${why}); the AST rule and the runtime checks decide` };
  }
  const max = rubricMaxPoints(rubric);
  const total = rubric.criteria.reduce((s, c) => s + pointsOf(j, c.id), 0);
  const ast = stat?.passed === true;
  const judge = j.passed === true;
  const astWord = `the AST rule ${ast ? 'passes' : 'fails'} (${astCount})`;
  const judgeWord = `the judge ${judge ? 'passes' : 'fails'} (${total}/${max})`;
  const head =
    ast === judge
      ? `agree: ${astWord} and ${judgeWord}`
      : ast
        ? `DISAGREE: ${astWord} but ${judgeWord}; the trial fails on the judge`
        : `DISAGREE: ${judgeWord} but ${astWord}; the trial fails on the AST rule`;

  const lines: string[] = [];
  for (const c of rubric.criteria) {
    const graded = (CRITERION_CHECKS[c.id] ?? []).map((n) => byName.get(n)).filter((x): x is Check => !!x && x.passed !== null);
    if (!graded.length) continue;
    const full = pointsOf(j, c.id) === c.points;
    const failed = graded.filter((x) => x.passed === false).map((x) => x.name);
    if (full === (failed.length === 0)) continue;
    lines.push(
      `- ${c.id}: judge ${pointsOf(j, c.id)}/${c.points}; ` +
        (failed.length ? `check.py fails ${failed.join(', ')}` : `check.py passes ${graded.map((x) => x.name).join(', ')}`),
    );
  }
  const perCriterion = lines.length
    ? `\ncriteria where they differ (judge below full points vs check.py passing, or the reverse):\n${lines.join('\n')}`
    : '\nno criterion differs between the judge and the matching check.py checks';
  // Same convention as neural-memory's judge_vs_ast: true when the graders agree, false when they differ
  // (for a person to read), null when not compared; it never enters the verdict.
  const agree = !head.startsWith('DISAGREE') && lines.length === 0;
  return { name: DISAGREEMENT_CHECK, passed: agree, detail: `${head} (informational: this check never decides the verdict)${perCriterion}` };
}

/**
 * The verdict. check.py's own `passed` is the deterministic rule: static_score (9 of 11) and no runtime check failing
 * (and the submission run not killed or crashing). When the judge ran, its verdict (8 of 10) is needed too.
 */
export function combineGrades(det: Grade, j: RubricJudgement): Grade {
  const checks = [...det.checks, ...j.checks, disagreementCheck(det, j)];
  if (!j.judged) return { passed: det.passed, score: det.score, checks };
  const passed = det.passed && j.passed === true;
  // Both graders weigh equally in the score; the verdict needs both.
  const score = (det.score + (j.score ?? 0)) / 2;
  return { passed, score, checks };
}

export async function gradeFsdp(code: string, ctx: GradeContext): Promise<Grade> {
  const taskPrompt = await judgeTaskPrompt(ctx.taskDir);
  // In parallel: the sandbox run and the judge call do not depend on each other. allSettled, so a judge error
  // never leaves the sandbox run going while the grading's folder is removed.
  const [det, judged] = await Promise.allSettled([
    runPythonCheck(CHECK, code, ctx),
    judgeWithRubric({ rubric, taskDir: ctx.taskDir, submission: code, taskPrompt }, ctx),
  ]);
  if (det.status === 'rejected') throw det.reason;
  if (judged.status === 'rejected') throw judged.reason;
  return combineGrades(det.value, judged.value);
}
