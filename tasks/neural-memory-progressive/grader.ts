import { readFileSync } from 'node:fs';
import path from 'node:path';
import { defineRubric, type Grade, type GradeContext, GraderInfraError, judgeWithRubric, type PythonCheckSpec, type Rubric, runPythonCheck } from '../../src/task-api.js';

/**
 * Grading of one step: check.py's deterministic checks (sandboxed; they decide alone without a judge),
 * then the step's rubric judged by an LLM when a judge is available. Passing needs both.
 */

export const STEP_IDS = ['memory-structure', 'surprise', 'update-decay', 'fusion', 'full'] as const;
export type StepId = (typeof STEP_IDS)[number];

export function isStep(id: string): id is StepId {
  return (STEP_IDS as readonly string[]).includes(id);
}

/** What every judge is told, whatever the step: code counts, words do not. */
const JUDGE_INSTRUCTIONS = [
  'The submission is a Python file. Grade the code as it would run when the file is imported and its classes are used.',
  'Comments, docstrings, pseudocode, names and claims count for nothing by themselves: a criterion is met only when the executed code does it. Code under `if __name__ == "__main__":` never runs when the file is imported.',
  'Starter code from the assignment that the submission keeps counts as part of the submission.',
  'Do not grade style, efficiency or extra features, and do not penalise equivalent formulations (einsum vs. bmm, v k^T vs. k v^T with the matching read, lerp vs. an explicit blend).',
].join('\n');

/** One rubric per step; every criterion must be met (the seed's full task needs 6/6 too). */
export const RUBRICS: Record<StepId, Rubric> = {
  'memory-structure': defineRubric({
    id: 'memory-structure',
    title: 'Step 1: the memory stores associations in a d_mem x d_mem matrix',
    criteria: [
      {
        id: 'associative-matrix',
        title: 'A fixed-size associative matrix holds every association',
        points: 2,
        pass: 'The state is one d_mem x d_mem matrix per sequence (or one per head) whose size does not depend on how many associations were written; all associations are superposed in it.',
        fail: 'The state is a list, queue, cache or table of stored keys and values (growing, or a fixed set of slots that each hold one item), or it is not a matrix at all.',
      },
      {
        id: 'outer-product-write',
        title: 'A write adds the outer product of value and key',
        points: 2,
        pass: 'write adds the outer product value key^T (or key value^T with a matching read) to the matrix, possibly scaled or with a normalised key, in any equivalent form: torch.outer, einsum("bi,bj->bij"), products of unsqueezed vectors, bmm.',
        fail: 'write appends, overwrites a slot, replaces the whole matrix, or adds something that is not a rank-one binding of the value to the key.',
      },
      {
        id: 'matrix-read',
        title: 'A read multiplies the matrix by the query',
        points: 1,
        pass: 'read returns the matrix applied to the query (M q, or M^T q with the transposed convention): recall is linear in the cue and costs the same however much is stored.',
        fail: 'read attends over stored items (a softmax over keys), searches for the nearest key, or ignores the query.',
      },
    ],
    passRule: { kind: 'all' },
    instructions: JUDGE_INSTRUCTIONS,
  }),
  surprise: defineRubric({
    id: 'surprise',
    title: 'Step 2: a learned surprise, from the prediction error, controls how strongly each association is written',
    criteria: [
      {
        id: 'prediction-error',
        title: 'Surprise is computed from the memory\'s prediction error',
        points: 2,
        pass: 'surprise compares what the memory returns for the key (M k, read(key)) with the value actually given: a difference, squared error, norm, or a network applied to that error. A value the memory already recalls scores low.',
        fail: 'The score comes from the key and/or the value alone (e.g. sigmoid(Linear(value)), a generic importance gate), is constant or random, or uses the memory without comparing its prediction with the value.',
      },
      {
        id: 'sigmoid-learnable',
        title: 'Squashed by a sigmoid, with learnable parameters',
        points: 1,
        pass: 'The score goes through a sigmoid into (0, 1) and depends on at least one learnable parameter (a scale, a bias or a small network).',
        fail: 'No sigmoid (a raw or clipped error), or nothing learnable in the score.',
      },
      {
        id: 'gates-write',
        title: 'The write is scaled by the surprise',
        points: 2,
        pass: 'write multiplies what it adds to M by the surprise of that association, per sequence, so surprising associations are stored more strongly.',
        fail: 'The surprise is computed but does not scale the write, or it scales something else (the read, the output, a loss).',
      },
    ],
    passRule: { kind: 'all' },
    instructions: JUDGE_INSTRUCTIONS,
  }),
  'update-decay': defineRubric({
    id: 'update-decay',
    title: 'Step 3: the update rule lets old content fade at a learnable, bounded rate',
    criteria: [
      {
        id: 'learnable-decay',
        title: 'The forgetting rate is learnable',
        points: 2,
        pass: 'The rate is an nn.Parameter, or the output of a learned layer (e.g. computed from the key), that gradient descent can train.',
        fail: 'A Python float, a constant tensor, a buffer, or a parameter with requires_grad=False.',
      },
      {
        id: 'bounded-decay',
        title: 'The kept fraction stays between 0 and 1 by construction',
        points: 1,
        pass: 'The fraction of old memory kept is a sigmoid (or an equivalent squashing) of the learnable quantity, so it stays in (0, 1) whatever value training gives the parameter.',
        fail: 'A raw parameter multiplies the memory with nothing keeping it in range, so training can push it above 1 or below 0.',
      },
      {
        id: 'multiplicative-forgetting',
        title: 'The whole old memory is scaled down at each write, and the new association is still added',
        points: 2,
        pass: 'At every write the existing memory is multiplied by the retention factor (M <- lambda * M + new association, or (1 - alpha) * M + ...), and the new association is still added.',
        fail: 'The factor scales only the new association, the read or the output; the memory is reset or overwritten instead of fading; or forgetting subtracts a constant.',
      },
    ],
    passRule: { kind: 'all' },
    instructions: JUDGE_INSTRUCTIONS,
  }),
  fusion: defineRubric({
    id: 'fusion',
    title: 'Step 4: attention and memory are blended by a learned complementary gate',
    criteria: [
      {
        id: 'complementary-blend',
        title: 'Complementary interpolation g * attn + (1 - g) * mem',
        points: 2,
        pass: 'The output is g * attn_out + (1 - g) * mem_out (either input may take g; torch.lerp(mem_out, attn_out, g) is the same): the two weights sum to one.',
        fail: 'A residual sum (attn + g * mem), a concatenation followed by a projection, a plain sum or a fixed average, or weights that do not sum to one.',
      },
      {
        id: 'sigmoid-gate',
        title: 'The gate lies in (0, 1)',
        points: 1,
        pass: 'g is produced by a sigmoid (or an equivalent two-way softmax), so it lies strictly between 0 and 1.',
        fail: 'g is unbounded, clipped, or a hard 0/1 switch.',
      },
      {
        id: 'learned-gate',
        title: 'The gate is learned',
        points: 2,
        pass: 'g comes from learned parameters: a layer applied to the inputs (per token or per channel), or at least a learnable parameter.',
        fail: 'g is a fixed number or a hand-set schedule.',
      },
    ],
    passRule: { kind: 'all' },
    instructions: JUDGE_INSTRUCTIONS,
  }),
  full: defineRubric({
    id: 'full',
    title: 'Step 5: a Transformer with a Titans-style neural memory (the seed\'s six criteria)',
    criteria: [
      {
        id: 'neural-memory-class',
        title: 'NeuralMemory module',
        points: 1,
        pass: 'A NeuralMemory nn.Module holds the memory logic and is built and called by the model\'s forward.',
        fail: 'No such module, or it is never used by the model.',
      },
      {
        id: 'surprise-gate',
        title: 'Surprise gate from the prediction error',
        points: 1,
        pass: 'Memory writes are scaled by a sigmoid surprise computed from the prediction error (the value compared with what the memory retrieves for the key), with learnable parameters.',
        fail: 'A generic learned gate such as sigmoid(Linear(x)) that never compares the input with the memory\'s prediction, no gate on the write, or a gate with nothing learnable.',
      },
      {
        id: 'learnable-decay',
        title: 'Learnable decay',
        points: 1,
        pass: 'The memory matrix is multiplied at each step by a retention factor in (0, 1) from a learnable quantity (a sigmoid of an nn.Parameter or of a learned layer).',
        fail: 'No decay, a constant or buffer, or a raw parameter with nothing keeping it in range.',
      },
      {
        id: 'outer-product',
        title: 'Outer-product association',
        points: 1,
        pass: 'Writes add an outer product binding a value to a key (v k^T, or the error form (v - M k) k^T) into a d_mem x d_mem matrix.',
        fail: 'A key/value cache, attention over stored items, or a memory that is not a matrix written by outer products.',
      },
      {
        id: 'recurrent-update',
        title: 'Recurrent per-token update',
        points: 1,
        pass: 'The memory is updated token by token in a loop over the sequence (or an equivalent causal scan), and each position reads the memory as it stands after the tokens up to itself.',
        fail: 'The whole sequence is written before any read, or the memory is updated once per call.',
      },
      {
        id: 'gated-fusion',
        title: 'Complementary gated fusion with attention',
        points: 1,
        pass: 'The memory output is combined with the attention output (or the block input) as g * a + (1 - g) * m, with g a learned sigmoid gate.',
        fail: 'A residual add (x + g * mem, x + mem), a concatenation followed by a projection, or a fixed weight.',
      },
    ],
    passRule: { kind: 'all' },
    instructions: JUDGE_INSTRUCTIONS,
  }),
};

/** check.py's three phases for one step. The submission never sees the trusted folder (see python-check.ts). */
export function checkSpec(step: StepId): PythonCheckSpec {
  return {
    script: 'check.py',
    publicFiles: ['inputs.npz'],
    extraArgs: { prepare: ['--step', step] },
    limits: {
      prepare: { wallSec: 60 },
      run: { wallSec: 180, memoryMb: 3072 },
      compare: { wallSec: 60, outputBytes: 64 * 1024 },
    },
    maxOutputMb: 8,
  };
}

const PROMPT_FILES: Record<string, string> = { plain: 'prompt.md', pseudocode: 'prompt-pseudocode.md' };
const PLACEHOLDER = /\{\{\s*(file:)?([\w./-]+)\s*\}\}/g;

/** The prompt the agent saw (its variant and step), so the judge knows the assignment and the starter. */
export function assignmentFor(taskDir: string, variantId: string, inputs: Record<string, unknown>): string {
  const file = PROMPT_FILES[variantId] ?? 'prompt.md';
  const read = (name: string) => readFileSync(path.join(taskDir, name), 'utf8');
  return read(file).replace(PLACEHOLDER, (m, isFile: string | undefined, name: string) =>
    isFile ? read(name) : name in inputs ? String(inputs[name]) : m,
  );
}

export async function gradeStep(code: string, ctx: GradeContext): Promise<Grade> {
  const step = ctx.sampleId;
  if (!isStep(step)) throw new GraderInfraError(`neural-memory-progressive: unknown sample "${step}" (steps: ${STEP_IDS.join(', ')})`);
  const det = await runPythonCheck(checkSpec(step), code, ctx);
  const j = await judgeWithRubric(
    { rubric: RUBRICS[step], taskDir: ctx.taskDir, submission: code, taskPrompt: assignmentFor(ctx.taskDir, ctx.variantId, ctx.sampleInputs) },
    ctx,
  );
  // With a judge both must pass; without one (validate, oracle, nop) the deterministic checks decide.
  const passed = det.passed && (j.judged ? j.passed === true : true);
  const score = j.judged ? (det.score + (j.score ?? 0)) / 2 : det.score;
  return { passed, score, checks: [...det.checks, ...j.checks] };
}
