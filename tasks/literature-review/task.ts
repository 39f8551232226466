import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { defineTask, paperTools } from '../../src/task-api.js';
import { gradeReview } from './grader.js';

/** What each sample's review must cover; the approaches match the corpus topics in src/research/corpus. */
const SCOPES = {
  memory: {
    topic_title: 'long-term memory for large language models',
    scope: [
      '1. Extended context windows and efficient long-sequence architectures (e.g. Transformer-XL, Longformer, the Recurrent Memory Transformer, million-token models such as Gemini 1.5).',
      '2. Retrieval-augmented generation (e.g. RAG, RETRO).',
      '3. Summarisation and context compression.',
      '4. Specialised memory architectures and memory-managing agents (e.g. MemGPT, LongMem, test-time memory modules).',
      '5. Parametric memory: editing knowledge in the weights (e.g. ROME, MEMIT) and continual learning.',
    ].join('\n'),
  },
  rl: {
    topic_title: 'reinforcement learning and alignment',
    scope: [
      '1. Deep RL foundations (value-based and policy-gradient methods).',
      '2. Learning from human and AI feedback: RLHF and preference optimisation.',
      '3. Offline RL and RL as sequence modelling (e.g. Decision Transformer).',
      '4. World models and model-based RL.',
      '5. Continual and lifelong RL.',
    ].join('\n'),
  },
  robotics: {
    topic_title: 'data-efficient robot learning',
    scope: [
      '1. Robot foundation models and vision-language-action policies (e.g. RT-1, RT-2).',
      '2. Imitation learning from demonstrations.',
      '3. Sim-to-real transfer.',
      '4. Reinforcement learning on real robots.',
      '5. Language grounding and pretrained visual representations for robots.',
    ].join('\n'),
  },
} as const;

const reviewFile = (file: string) => ({ taskDir }: { taskDir: string }) => readFile(path.join(taskDir, file), 'utf8').then((review) => ({ review }));

export default defineTask({
  id: 'literature-review',
  title: 'Literature review of a research area, with papers and quantitative results',
  description:
    'Survey a research area (LLM memory, RL and alignment, or robot learning) with paper-search tools, covering every major ' +
    'approach with specific papers and the numbers they report, then synthesise. Graded by deterministic citation checks ' +
    'and, with a judge, the seed\'s 10-point rubric (pass at 7).',
  prompt: { user: 'prompt.md' },
  samples: (Object.keys(SCOPES) as Array<keyof typeof SCOPES>).map((topic) => ({ id: topic, inputs: { topic, ...SCOPES[topic] } })),
  variants: [{ id: 'default', description: "the seed's task: every approach with papers and numbers, judged against a reference review", default: true }],
  tools: paperTools(),
  submission: z.object({
    review: z.string().max(150_000).describe('The complete literature review as markdown.'),
  }),
  limits: { maxTurns: 40, outputTokenBudget: 64_000, timeLimitSec: 1800 },
  grader: (submission, ctx) => gradeReview(submission.review, ctx),
  reference: ({ sampleId, taskDir }) => reviewFile(`reference/${sampleId}.md`)({ taskDir }),
  noop: () => ({ review: '# Literature review\n\nTODO: write the review.\n' }),
  calibration: {
    model: 'anthropic:claude-haiku-4-5',
    // The seed reports 100% without a trial count; the band is a judgement (a task most models should pass).
    low: 0.7,
    high: 1,
    source: 'seed 001: "Pass Rate: 100%" for a Haiku agent judged by Sonnet (trial count not stated)',
  },
  judgeExamples: {
    toSubmission: (text) => ({ review: text }),
    examples: [
      { file: 'judge-examples/pass-memory.md', label: 'pass', sample: 'memory', note: 'all five approaches, seminal works with their numbers, explicit comparison' },
      { file: 'judge-examples/fail-paper-list.md', label: 'fail', sample: 'memory', note: 'only a list of papers: no numbers, no synthesis' },
      { file: 'judge-examples/fail-vague-robotics.md', label: 'fail', sample: 'robotics', note: 'generalities without papers or results' },
      { file: 'judge-examples/borderline-rl.md', label: 'borderline', sample: 'rl', note: 'three of five approaches with numbers; thin synthesis' },
    ],
  },
});
