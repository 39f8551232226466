// The smallest TypeScript-graded task: copy this folder to tasks/<your-id>/ and edit it (README "Adding a task").
// The agent must submit the word the prompt names; the grader is a plain function, run in the harness.
import { z } from 'zod';
import { defineTask } from '../../../src/tasks/index.js';

export default defineTask({
  id: 'hello-world',
  title: 'Echo a word',
  description: 'Example task: submit the word from the prompt.',
  prompt: { user: 'prompt.md' },
  samples: [
    { id: 'apple', inputs: { word: 'apple' } },
    { id: 'pear', inputs: { word: 'pear' } },
  ],
  variants: [
    { id: 'default', description: 'as written', default: true },
    { id: 'terse', description: 'fewer turns', limits: { maxTurns: 2 } },
  ],
  submission: z.object({ answer: z.string().max(200).describe('The word') }),
  limits: { maxTurns: 5, outputTokenBudget: 2000, timeLimitSec: 60 },
  grader: async (sub, ctx) => {
    const { answer } = sub;
    const ok = answer === ctx.sampleInputs.word;
    // The detail carries submission text: bounded, as every detail must be.
    return { passed: ok, score: ok ? 1 : 0, checks: [{ name: 'matches', passed: ok, detail: `got ${JSON.stringify(answer.slice(0, 80))}` }] };
  },
  // validate: the reference must pass and the no-op must fail.
  reference: ({ inputs }) => ({ answer: String(inputs.word) }),
  noop: () => ({ answer: '' }),
});
