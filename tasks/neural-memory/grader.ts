import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { type Check, defineRubric, type Grade, type GradeContext, GraderInfraError, JUDGE_CHECK_PREFIX, judgeWithRubric, type PythonCheckSpec, type RubricJudgement, runPythonCheck, VERDICT_CHECK } from '../../src/task-api.js';

/**
 * Grading of a neural-memory submission:
 *   - check.py (sandboxed): `sandbox_safe`, the six criteria as AST checks, and the runtime checks;
 *   - the seed's six-criterion rubric, judged by an LLM when a judge is available.
 * With a judge, the judge decides the six criteria (pass only at 6/6, the seed's rule) and every other
 * check.py check must still pass; the AST criteria stay as a cross-check, and `judge_vs_ast` reports where
 * they disagree without failing the trial. Without a judge (validate, oracle, nop), check.py decides alone.
 */

/**
 * prepare (trusted) draws the model size and token ids; the submission runs alone with inputs.json and
 * writes raw tensors and observations; compare (trusted) reads the source with `ast` and decides every
 * check itself. See check.py and README.md.
 */
export const CHECK: PythonCheckSpec = {
  script: 'check.py',
  publicFiles: ['inputs.json'],
  limits: {
    prepare: { wallSec: 60 },
    run: { wallSec: 300, memoryMb: 4096 },
    compare: { wallSec: 120, outputBytes: 64 * 1024 },
  },
  maxOutputMb: 16,
};

/** Each variant's prompt file; task.ts builds its variants from this, and the judge sees the same prompt. */
export const VARIANT_PROMPTS = {
  'biology-outer-product-learnable': 'prompt.md',
  'explicit-criteria': 'prompt-explicit-criteria.md',
  'biology-only': 'prompt-biology-only.md',
  'biology-outer-product': 'prompt-biology-outer-product.md',
  paper: 'prompt-paper.md',
} as const;
export type VariantId = keyof typeof VARIANT_PROMPTS;

const JUDGE_INSTRUCTIONS = [
  'The submission is one Python file: a small Transformer language model extended with a memory module. Grade the code as it runs when the file is imported and `SimpleTransformer` is built and called.',
  'Only executed code counts. Comments, docstrings, names, print statements and claims earn nothing by themselves; neither do functions nothing calls, branches that can never run, or code under `if __name__ == "__main__":`.',
  'Judge each criterion on its own: a mistake in one part does not cost points on another.',
  'Accept equivalent formulations: einsum, bmm, matmul of unsqueezed vectors or torch.outer for an outer product; v k^T or k v^T with the matching read; lerp or A + g * (B - A) for a complementary blend; a per-head or per-batch memory; extra terms such as momentum.',
  'Do not grade style, efficiency, model quality or features beyond the six criteria.',
].join('\n');

/** The seed's six criteria, one point each; pass only with all six. */
export const rubric = defineRubric({
  id: 'neural-memory',
  title: 'A Titans-style neural long-term memory added to a small Transformer language model',
  criteria: [
    {
      id: 'neural-memory-class',
      title: 'A NeuralMemory nn.Module that holds the memory logic and is used by the model',
      points: 1,
      pass: 'A top-level class `NeuralMemory` subclasses `nn.Module`; its forward (or methods it calls) reads and writes the memory, and `SimpleTransformer` constructs it and calls it in its forward pass.',
      fail: 'There is no `NeuralMemory` nn.Module; or it is an empty shell while the memory logic lives elsewhere; or the model never builds or never calls it.',
    },
    {
      id: 'surprise-gate',
      title: 'A sigmoid surprise gate computed from the prediction error, controlling the write',
      points: 1,
      pass: 'Before each write the memory compares what it retrieves for the current key (M k, or the memory network applied to the key) with the actual value or input: a difference, squared or absolute error, a norm of the error, a cosine similarity, the gradient of that recall loss, or a learned network applied to the error. A sigmoid of that comparison (possibly through learned weights) scales what is written into M, so content the memory already predicts well is written weakly.',
      fail: 'The gate is computed from the input alone (e.g. sigmoid(Linear(x_t))), from the input and the retrieval side by side (a Linear over their concatenation) with no explicit comparison, or from a constant; there is no sigmoid; the error is computed but does not scale the write; or the gate scales only the read or the output.',
    },
    {
      id: 'learnable-decay',
      title: 'A learnable decay (forgetting) of the memory',
      points: 1,
      pass: 'At every step the memory matrix M itself is multiplied by a retention (or 1 - forgetting) factor that comes from an `nn.Parameter` that trains (e.g. sigmoid(decay_logit)) or from a learned layer of the current token, so the fade rate is learned.',
      fail: 'The decay is a fixed number or hyperparameter, a buffer, or a parameter with requires_grad=False; the decay applies only to a momentum or surprise term and never to M; or a decay parameter is defined but never applied to M.',
    },
    {
      id: 'outer-product',
      title: 'An outer-product (V ⊗ Kᵀ) associative write into a d_mem x d_mem matrix',
      points: 1,
      pass: 'The memory is a d_mem x d_mem matrix (per batch element or per head), and each write adds the outer product of a value-like vector (the value, or the recall error) and a key-like vector to it, in any equivalent form (torch.outer, einsum "bi,bj->bij", v.unsqueeze(-1) * k.unsqueeze(-2), bmm), or adds the gradient of a recall loss with respect to M, which is such an outer product.',
      fail: 'The memory stores keys and values in a list, cache or buffer and attends over them; a write is an elementwise product, a vector, or a replacement of M by a projection of the input; or there is no matrix memory.',
    },
    {
      id: 'recurrent-update',
      title: 'A recurrent update, one timestep at a time',
      points: 1,
      pass: 'The memory state is carried from one token to the next and rewritten at every timestep (a loop over sequence positions, or an equivalent causal scan that yields one state per token), so the read at position t uses the memory written from tokens up to t and never later ones.',
      fail: 'The memory is written once for the whole sequence in a single batched update, is a fixed parameter that forward never changes, or lets position t read writes from later tokens.',
    },
    {
      id: 'gated-fusion',
      title: 'A complementary learned gate fusing memory with attention: g * attn + (1 - g) * mem',
      points: 1,
      pass: 'The memory output is blended with the attention output (or the hidden stream) as g * A + (1 - g) * B, where one of A and B comes from the memory and the other does not, and g lies in (0, 1) from a sigmoid of a learned function or a learned parameter; A + g * (B - A) and torch.lerp(A, B, g) are the same blend.',
      fail: 'The memory is added as a residual (x + mem, x + g * mem, attn + g * mem) with no (1 - g) complement; concatenated and projected by a Linear; summed or averaged with fixed weights; or blended with a constant g.',
    },
  ],
  passRule: { kind: 'all' },
  instructions: JUDGE_INSTRUCTIONS,
});

/** check.py's AST check for each rubric criterion (the check names are stable). */
export const CRITERIA: ReadonlyArray<{ ast: string; judge: string }> = [
  { ast: 'neural_memory_class', judge: 'neural-memory-class' },
  { ast: 'surprise_gate', judge: 'surprise-gate' },
  { ast: 'learnable_decay', judge: 'learnable-decay' },
  { ast: 'outer_product', judge: 'outer-product' },
  { ast: 'recurrent_update', judge: 'recurrent-update' },
  { ast: 'gated_fusion', judge: 'gated-fusion' },
];
const AST_CRITERIA = new Set(CRITERIA.map((c) => c.ast));
export const DISAGREEMENT_CHECK = 'judge_vs_ast';

const PLACEHOLDER = /\{\{\s*file:([\w./-]+)\s*\}\}/g;

/** The user prompt of a variant as the agent saw it (the same text loadTask renders), for the judge. */
export async function renderedPrompt(taskDir: string, variantId: string): Promise<string> {
  const file = (VARIANT_PROMPTS as Record<string, string>)[variantId];
  if (!file) throw new GraderInfraError(`neural-memory: no prompt for variant "${variantId}" (have: ${Object.keys(VARIANT_PROMPTS).join(', ')}); add it to VARIANT_PROMPTS in grader.ts`);
  const template = await readFile(path.join(taskDir, file), 'utf8');
  const includes = new Map<string, string>();
  for (const [, name] of template.matchAll(PLACEHOLDER)) {
    if (!includes.has(name!)) includes.set(name!, await readFile(path.join(taskDir, name!), 'utf8'));
  }
  return template.replace(PLACEHOLDER, (_m, name: string) => includes.get(name)!);
}

const firstLine = (s: string, max = 200) => {
  const line = s.split('\n')[0] ?? '';
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
};

/** Where the judge and the AST checks disagree on the six criteria; informational, never a failure of the trial. */
export function disagreementCheck(det: Check[], j: RubricJudgement): Check {
  if (!j.judged) {
    const why = j.checks[0]?.detail ?? 'not run';
    return { name: DISAGREEMENT_CHECK, passed: null, detail: `${why}; the AST checks decide the six criteria` };
  }
  const lines: string[] = [];
  let compared = 0;
  let disagreements = 0;
  let met = 0;
  for (const c of CRITERIA) {
    const a = det.find((x) => x.name === c.ast);
    const jc = j.checks.find((x) => x.name === JUDGE_CHECK_PREFIX + c.judge);
    if (!a || a.passed === null || !jc || jc.passed === null) {
      lines.push(`${c.ast}: not compared (the AST check ${a ? 'did not decide' : 'is missing'})`);
      continue;
    }
    compared++;
    if (jc.passed) met++;
    if (a.passed === jc.passed) continue;
    disagreements++;
    const judgeSide = `judge ${jc.passed ? 'met' : 'not met'} (${firstLine(jc.detail)})`;
    const astSide = `AST ${a.passed ? 'met' : 'not met'} (${firstLine(a.detail)})`;
    lines.push(`${c.ast}: ${judgeSide}; ${astSide}`);
  }
  if (disagreements === 0 && compared === CRITERIA.length) {
    return { name: DISAGREEMENT_CHECK, passed: true, detail: `judge and AST agree on all ${compared} criteria (${met} met by both); the judge decides, the AST is a cross-check` };
  }
  const head =
    disagreements === 0
      ? `judge and AST agree on the ${compared} criteria compared`
      : `judge and AST disagree on ${disagreements} of ${compared} criteria (the judge decides; a disagreement is reported, it does not fail the trial)`;
  return { name: DISAGREEMENT_CHECK, passed: disagreements === 0 ? null : false, detail: `${head}:\n${lines.join('\n')}` };
}

/**
 * The verdict. Judged: the judge's 6/6 AND every check.py check other than the six AST criteria
 * (sandbox_safe, the runtime checks, the harness's run checks). Not judged: check.py's own verdict
 * (the AST six and everything else). `judge_vs_ast` never counts.
 */
export async function gradeNeuralMemory(code: string, ctx: GradeContext): Promise<Grade> {
  // Independent, so they run side by side; both settle before grading returns, so a failure of one never
  // leaves the other (sandboxed processes, an API call) running after the grading's folder is gone.
  const [detR, judgeR] = await Promise.allSettled([
    runPythonCheck(CHECK, code, ctx),
    renderedPrompt(ctx.taskDir, ctx.variantId).then((taskPrompt) =>
      judgeWithRubric({ rubric, taskDir: ctx.taskDir, submission: code, taskPrompt }, ctx),
    ),
  ]);
  if (detR.status === 'rejected') throw detR.reason;
  if (judgeR.status === 'rejected') throw judgeR.reason;
  const det = detR.value;
  const j = judgeR.value;
  const checks = [...det.checks, ...j.checks, disagreementCheck(det.checks, j)];
  if (!j.judged) return { passed: det.passed, score: det.score, checks };

  const gates = det.checks.filter((c) => !AST_CRITERIA.has(c.name) && c.passed !== null);
  const gatesOk = gates.length > 0 && gates.every((c) => c.passed === true);
  const passed = j.passed === true && gatesOk;
  // The judge's six criteria replace the AST's in the score; the verdict and cross-check are not counted.
  const graded = [...gates, ...j.checks.filter((c) => c.name !== VERDICT_CHECK && c.passed !== null)];
  const score = passed ? 1 : graded.filter((c) => c.passed === true).length / graded.length;
  return { passed, score, checks };
}
