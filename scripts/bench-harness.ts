/**
 * Harness overhead benchmark (not a test: timings on shared machines are noisy, so this prints ratios
 * measured side by side in one run). N trials of a trivial task go through the full harness — plan,
 * scheduler, agent loop, transcript, grader, journal, run record — against a local Messages server with
 * no latency; then the same requests are made by a bare SDK loop at the same concurrency. Alternating
 * rounds cancel drift. Target: harness wall time at most 1.25x the bare loop's at concurrency 16.
 *
 *   npm run bench:harness -- [--trials 200] [--concurrency 16] [--rounds 3]
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import pLimit from 'p-limit';
import Anthropic from '@anthropic-ai/sdk';
import { startMessagesServer, toolUseReply } from '../test/support/messages-server.js';
import { loadTask } from '../src/tasks/index.js';
import { planTrials } from '../src/runs/plan.js';
import { executeRun } from '../src/runs/execute.js';
import { createSandbox } from '../src/sandbox/index.js';
import { probePython } from '../src/python/probe.js';
import { createAnthropicClient } from '../src/agents/client.js';
import { parseAgentSpec } from '../src/agents/model-spec.js';

const { values } = parseArgs({ options: { trials: { type: 'string' }, concurrency: { type: 'string' }, rounds: { type: 'string' } } });
const opts = z
  .object({
    trials: z.coerce.number().int().positive().default(200),
    concurrency: z.coerce.number().int().positive().default(16),
    rounds: z.coerce.number().int().positive().default(3),
  })
  .parse(values);

const MODEL = 'claude-haiku-4-5';
// Each trial: a submit with bad input (the harness answers is_error), then a good one: two requests.
const server = await startMessagesServer((body) => {
  const last = body.messages[body.messages.length - 1];
  const retry = Array.isArray(last?.content) && last.content.some((b: { type: string }) => b.type === 'tool_result');
  const word = /word (\w+)/.exec(JSON.stringify(body.messages[0]))?.[1] ?? 'apple';
  return toolUseReply('submit_answer', retry ? { answer: word } : { wrong: 1 }, { usage: { input_tokens: 50, output_tokens: 20 } });
});
process.env.ANTHROPIC_API_KEY = 'bench-key';

const task = await loadTask(path.join(import.meta.dirname, '..', 'test', 'fixtures', 'tasks', 'echo'));
const python = await probePython(process.env.ENVBENCH_PYTHON ?? 'python3', []);
const sandbox = await createSandbox({ extraReadOnlyPaths: python.prefixes });
const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'envbench-bench-'));

async function harnessRound(i: number): Promise<number> {
  // i < 0: warm-up round
  const epochs = Math.ceil(opts.trials / task.def.samples.length);
  const trials = planTrials([task], [{ name: `anthropic:${MODEL}`, spec: parseAgentSpec(`anthropic:${MODEL}`) }], null, epochs).slice(0, opts.trials);
  const client = createAnthropicClient({ baseURL: server.url, apiKey: 'bench-key' });
  const t0 = performance.now();
  const { record } = await executeRun({
    trials,
    plan: { tasks: ['echo'], models: [`anthropic:${MODEL}`], variants: null, epochs },
    out: path.join(dir, `h${i < 0 ? 'warm' : i}.json`),
    concurrency: opts.concurrency,
    sandbox,
    python,
    client,
  });
  const ms = performance.now() - t0;
  const passed = record.trials.filter((t) => t.status === 'passed').length;
  if (passed !== trials.length) throw new Error(`harness round: ${passed}/${trials.length} passed; the benchmark is not measuring what it claims`);
  return ms;
}

/** withBounds: each call also gets the per-call bound (timeout + trial signal) the harness must apply. */
async function bareRound(withBounds = false): Promise<number> {
  const run = new AbortController();
  const opts2 = () => (withBounds ? { signal: AbortSignal.any([run.signal, AbortSignal.timeout(600_000)]), maxRetries: 5, timeout: 600_000 } : undefined);
  const client = new Anthropic({ baseURL: server.url, apiKey: 'bench-key', maxRetries: 5 });
  const limit = pLimit(opts.concurrency);
  const { user } = task.renderPrompt('default', 'apple');
  const tools = [{ name: 'submit_answer', description: 'submit', input_schema: { type: 'object' as const, properties: { answer: { type: 'string' } }, required: ['answer'] } }];
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: opts.trials }, () =>
      limit(async () => {
        const messages: Anthropic.MessageParam[] = [{ role: 'user', content: user }];
        const first = await client.messages.create({ model: MODEL, max_tokens: 2000, messages, tools }, opts2());
        const use = first.content.find((b) => b.type === 'tool_use')!;
        messages.push({ role: 'assistant', content: first.content });
        messages.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: 'invalid input', is_error: true }] });
        await client.messages.create({ model: MODEL, max_tokens: 1980, messages, tools }, opts2());
      }),
    ),
  );
  return performance.now() - t0;
}

const harness: number[] = [];
const bare: number[] = [];
const bounded: number[] = [];
await bareRound(); // warm-up: JIT, sockets
await harnessRound(-1);
for (let r = 0; r < opts.rounds; r++) {
  bare.push(await bareRound());
  bounded.push(await bareRound(true));
  harness.push(await harnessRound(r));
}
await server.close();
await fs.rm(dir, { recursive: true, force: true });

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const h = median(harness);
const b = median(bare);
const bb = median(bounded);
const fmt = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(', ');
console.log(`trials per round: ${opts.trials} (2 requests each), concurrency: ${opts.concurrency}, rounds: ${opts.rounds}, zero-latency local server`);
console.log(`bare SDK loop:                   median ${b.toFixed(0)} ms  (${fmt(bare)})`);
console.log(`bare SDK loop, per-call bounds:  median ${bb.toFixed(0)} ms  (${fmt(bounded)})`);
console.log(`envbench (full trial pipeline):  median ${h.toFixed(0)} ms  (${fmt(harness)})`);
console.log(`added wall time per trial: ${((h - b) / opts.trials).toFixed(2)} ms at concurrency ${opts.concurrency}`);
console.log(`ratio harness/bare: ${(h / b).toFixed(2)}x  (target <= 1.25x); harness/bounded bare: ${(h / bb).toFixed(2)}x`);
