import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { defineTask, literatureTools } from '../../src/task-api.js';
import { gradeIdeas, SubmissionSchema, type Submission } from './grader.js';

const FOCUS = {
  all: 'You have literature reviews of three areas: long-term memory for large language models (topic "memory"), reinforcement learning and alignment ("rl"), and data-efficient robot learning ("robotics"). An idea may draw on one area or combine several.',
  memory: 'Your area is long-term memory for large language models (topic "memory"). Every idea must build on or answer at least one paper of that literature.',
  rl: 'Your area is reinforcement learning and alignment (topic "rl"). Every idea must build on or answer at least one paper of that literature.',
  robotics: 'Your area is data-efficient robot learning (topic "robotics"). Every idea must build on or answer at least one paper of that literature.',
} as const;

/** The reference proposals, one per sample, in solution/ideas.json. */
async function referenceIdeas(taskDir: string, sampleId: string): Promise<Submission> {
  const all = JSON.parse(await readFile(path.join(taskDir, 'solution', 'ideas.json'), 'utf8')) as Record<string, unknown>;
  return SubmissionSchema.parse({ ideas: all[sampleId] });
}

export default defineTask({
  id: 'idea-proposal',
  title: 'Research ideas from the literature, judged for business viability, upside, feasibility and novelty',
  description:
    'Read literature reviews (LLM memory, RL and alignment, robot learning) and propose 5-7 grounded research ideas. ' +
    'Deterministic checks (count, completeness, real grounding ids) decide without a judge; with one, an extended-thinking ' +
    'judge scores each idea and the grader computes the weighted average and the verdict (pass at GOOD or better).',
  prompt: { user: 'prompt.md' },
  samples: (Object.keys(FOCUS) as Array<keyof typeof FOCUS>).map((focus) => ({ id: focus, inputs: { focus, focus_text: FOCUS[focus] } })),
  variants: [{ id: 'default', description: "the seed's task: 5-7 ideas, ranked by impact and business value, judged with extended thinking", default: true }],
  tools: literatureTools(),
  submission: SubmissionSchema,
  limits: { maxTurns: 25, outputTokenBudget: 48_000, timeLimitSec: 1800 },
  grader: (submission, ctx) => gradeIdeas(submission, ctx),
  reference: ({ taskDir, sampleId }) => referenceIdeas(taskDir, sampleId),
  noop: () => ({ ideas: [] }),
  calibration: {
    model: 'anthropic:claude-haiku-4-5',
    // The seed reports 0% passing (average 5.6/10) without a trial count; the band is a judgement.
    low: 0,
    high: 0.25,
    source: 'seed 001: Idea Proposal 0% pass, average 5.6/10, Haiku agent judged by Sonnet with ~10k thinking tokens (trial count not stated)',
  },
  judgeExamples: {
    examples: [
      { file: 'judge-examples/pass-all.json', label: 'pass', sample: 'all', note: 'problem-driven ideas with clear users and feasible scope' },
      { file: 'judge-examples/fail-academic.json', label: 'fail', sample: 'all', note: '"combine X and Y" ideas, over-engineered, depending on unsolved problems' },
      { file: 'judge-examples/borderline-memory.json', label: 'borderline', sample: 'memory', note: 'two solid ideas, three generic ones' },
    ],
  },
});
