/**
 * Harness overhead benchmark (not a test: timings on shared machines are noisy, so this prints ratios
 * measured side by side in one run). Each round runs two sides, in a random order, each from a collected
 * heap: N trials of a trivial task through the full harness (plan, scheduler, agent loop, transcript log,
 * grader, journal, run record) against a local Messages server with no latency, and N trials of a bare
 * SDK loop that sends the very same request bodies at the same concurrency. The result is the median of
 * the rounds' own ratios (each round's two sides ran back to back, so slow drift of the machine cancels),
 * with the middle half of the ratios as its spread.
 * Target: the harness adds at most 25% to the bare loop's wall time at concurrency 16.
 *
 *   npm run bench:harness -- [--trials 300] [--concurrency 16] [--rounds 20] [--seed 1]
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import pLimit from 'p-limit';
import Anthropic from '@anthropic-ai/sdk';
import { startMessagesServer, toolUseReply, type RecordedRequest, type RequestBody } from '../test/support/messages-server.js';
import { loadTask } from '../src/tasks/index.js';
import { planTrials } from '../src/runs/plan.js';
import { executeRun } from '../src/runs/execute.js';
import { createSandbox } from '../src/sandbox/index.js';
import { findPython } from '../src/python/discover.js';
import { createAnthropicClient } from '../src/agents/client.js';
import { parseAgentSpec } from '../src/agents/model-spec.js';

const { values } = parseArgs({
  options: { trials: { type: 'string' }, concurrency: { type: 'string' }, rounds: { type: 'string' }, seed: { type: 'string' }, only: { type: 'string' } },
});
const opts = z
  .object({
    trials: z.coerce.number().int().positive().default(300),
    concurrency: z.coerce.number().int().positive().default(16),
    rounds: z.coerce.number().int().positive().default(20),
    /** Seed of the order of the two sides in each round. */
    seed: z.coerce.number().int().default(1),
    /** For profiling (node --cpu-prof): run only one side, so a profile shows that side's cost alone. */
    only: z.enum(['harness', 'bare']).optional(),
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
const python = await findPython({ modules: [] });
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

/**
 * The bare loop sends the same request bodies the harness sent (recorded by the server in the warm-up
 * round: the same tools, cache_control marks and error text), so the comparison measures the harness's
 * own work, not a difference in request size. Only the tool_use id of turn 2 is the live one.
 */
interface Templates {
  first: Record<string, unknown>;
  second: RequestBody;
}
function templatesFrom(requests: RecordedRequest[]): Templates[] {
  const bySample = new Map<string, Partial<Templates>>();
  for (const r of requests) {
    const key = String(r.body.messages[0].content[0]?.text ?? r.body.messages[0].content); // the prompt
    const t = bySample.get(key) ?? {};
    if (r.body.messages.length === 1) t.first ??= r.body;
    if (r.body.messages.length === 3) t.second ??= r.body;
    bySample.set(key, t);
  }
  const out = [...bySample.values()].filter((t): t is Templates => !!t.first && !!t.second);
  if (out.length !== task.def.samples.length) throw new Error(`expected one request template pair per sample, found ${out.length}`);
  return out;
}

/** The bare side: the same request bodies as the harness sent, with no transcript, grading or bookkeeping. */
async function bareRound(templates: Templates[]): Promise<number> {
  const client = new Anthropic({ baseURL: server.url, apiKey: 'bench-key', maxRetries: 5 });
  const limit = pLimit(opts.concurrency);
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: opts.trials }, (_, i) =>
      limit(async () => {
        const { first: body1, second: body2 } = templates[i % templates.length]!;
        const first = await client.messages.create(body1 as unknown as Anthropic.MessageCreateParamsNonStreaming);
        const use = first.content.find((b) => b.type === 'tool_use')!;
        const [prompt, , result] = body2.messages;
        const messages = [
          prompt,
          { role: 'assistant', content: first.content },
          { ...result, content: [{ ...result.content[0], tool_use_id: use.id }] },
        ] as Anthropic.MessageParam[];
        await client.messages.create({ ...(body2 as unknown as Anthropic.MessageCreateParamsNonStreaming), messages });
      }),
    ),
  );
  return performance.now() - t0;
}

const harness: number[] = [];
const bare: number[] = [];
/** CPU time (user + system, all threads) of each side, beside its wall time. */
const cpu = { harness: [] as number[], bare: [] as number[] };
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) console.warn('run with node --expose-gc (npm run bench:harness does) so that each side starts from a collected heap');

/** Runs one side from a collected heap and settled timers, so garbage left by the other side is not billed to it. */
async function measured(side: () => Promise<number>, cpuOut: number[]): Promise<number> {
  gc?.();
  await new Promise((r) => setTimeout(r, 20));
  const c0 = process.cpuUsage();
  const ms = await side();
  const c = process.cpuUsage(c0);
  cpuOut.push((c.user + c.system) / 1000);
  return ms;
}

/** mulberry32: a small seeded generator, so a run's order of sides can be repeated. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

await harnessRound(-1); // warm-up: JIT, sockets; its requests are the bare loop's templates
const templates = templatesFrom(server.requests);
await bareRound(templates); // warm-up of the bare side
const coin = rng(opts.seed);
for (let r = 0; r < opts.rounds; r++) {
  server.requests.length = 0; // the server keeps every request; don't let that grow across rounds
  const sides = [
    async () => opts.only !== 'harness' && bare.push(await measured(() => bareRound(templates), cpu.bare)),
    async () => opts.only !== 'bare' && harness.push(await measured(() => harnessRound(r), cpu.harness)),
  ];
  for (const side of coin() < 0.5 ? sides : sides.reverse()) await side();
}
await server.close();
await fs.rm(dir, { recursive: true, force: true });

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const quantile = (xs: number[], q: number) => sorted(xs)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;
const median = (xs: number[]) => quantile(xs, 0.5);
const fmt = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(', ');
console.log(`trials per side and round: ${opts.trials} (2 requests each), concurrency: ${opts.concurrency}, rounds: ${opts.rounds}, seed ${opts.seed}, zero-latency local server`);
if (bare.length) console.log(`bare SDK loop:      median ${median(bare).toFixed(0)} ms  (${fmt(bare)})`);
if (harness.length) console.log(`envbench harness:   median ${median(harness).toFixed(0)} ms  (${fmt(harness)})`);
if (bare.length && harness.length) {
  const ratios = harness.map((x, i) => x / bare[i]!);
  const cpuRatios = cpu.harness.map((x, i) => x / cpu.bare[i]!);
  console.log(`added wall time per trial: ${((median(harness) - median(bare)) / opts.trials).toFixed(2)} ms at concurrency ${opts.concurrency}`);
  console.log(`CPU time per trial (all threads): harness ${(median(cpu.harness) / opts.trials).toFixed(2)} ms, bare ${(median(cpu.bare) / opts.trials).toFixed(2)} ms; ratio ${median(cpuRatios).toFixed(2)}x`);
  console.log(
    `wall-time ratio harness/bare: ${median(ratios).toFixed(2)}x (middle half of rounds ${quantile(ratios, 0.25).toFixed(2)}-${quantile(ratios, 0.75).toFixed(2)}); target <= 1.25x`,
  );
}
