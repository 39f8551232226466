import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createAnthropicClient, type CreateClientOptions } from '../../src/agents/client.js';
import { runAgentLoop, NUDGE_TEXT, type AgentLoopOptions, type LoopOutcome } from '../../src/agents/loop.js';
import { parseAgentSpec } from '../../src/agents/model-spec.js';
import { costUsd, priceFor } from '../../src/agents/prices.js';
import { defineTool, SUBMIT_TOOL_NAME, type ToolContext, type ToolDef } from '../../src/agents/tool.js';
import { MemoryTranscript, TranscriptLog, readTrialTranscript } from '../../src/agents/transcript.js';
import {
  errorReply,
  messageReply,
  startMessagesServer,
  textBlock,
  textReply,
  toolUseBlock,
  toolUseReply,
  type Handler,
  type MessagesServer,
} from '../support/messages-server.js';

// ---------- fixtures ----------

const echo = defineTool({
  name: 'echo',
  description: 'Echo text back.',
  input: z.object({ text: z.string() }),
  run: async ({ text }) => ({ content: `echo: ${text}` }),
});

const boom = defineTool({
  name: 'boom',
  description: 'Always fails.',
  input: z.object({}),
  run: async () => {
    throw new Error('disk on fire');
  },
});

let sawAbort = false;
const waitForSignal = defineTool({
  name: 'wait',
  description: 'Waits until the trial is stopped.',
  input: z.object({}),
  run: (_input, ctx) =>
    new Promise((resolve) => {
      ctx.signal.addEventListener('abort', () => {
        sawAbort = true;
        resolve({ content: 'stopped' });
      });
    }),
});

const stubborn = defineTool({
  name: 'stubborn',
  description: 'Ignores its signal and never finishes.',
  input: z.object({}),
  run: () => new Promise(() => {}),
});

const submission = z.object({ answer: z.number() });

// Tools here never touch the sandbox or Python.
const toolContext = {
  workspace: '/nonexistent',
  tmpDir: '/nonexistent',
  sandbox: {},
  python: {},
  gpu: false,
  limits: {},
} as unknown as Omit<ToolContext, 'signal'>;

let server: MessagesServer;
let dir: string;
/** The run's transcript log, as the scheduler gives it; each loop writes through its trial's sink. */
let log: TranscriptLog;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'envbench-loop-'));
  log = new TranscriptLog(join(dir, 'transcript.jsonl'));
  sawAbort = false;
});
afterEach(async () => {
  await log.close();
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

async function serve(handler: Handler) {
  server = await startMessagesServer(handler);
  return server;
}

/** A scripted handler: reply i for call i, and fail loudly past the end of the script. */
function script(...replies: Array<ReturnType<Handler>>): Handler {
  return (_body, i) => replies[i] ?? errorReply(400, { message: `script has no reply for call ${i}` });
}

function run(overrides: Partial<AgentLoopOptions> & { clientOpts?: CreateClientOptions } = {}) {
  const { clientOpts, ...rest } = overrides;
  const client = createAnthropicClient({ apiKey: 'test-key', baseURL: server.url, maxAttempts: 3, maxCallMs: 20_000, ...clientOpts });
  return runAgentLoop({
    client,
    model: 'claude-haiku-4-5', // the SDK warns on every call to a deprecated id such as claude-sonnet-4-5
    thinkingBudget: null,
    system: 'You are a careful engineer.',
    prompt: 'Compute the answer.',
    tools: [echo, boom, waitForSignal, stubborn] as ToolDef[],
    submission,
    limits: { maxTurns: 10, outputTokenBudget: 100_000, timeLimitSec: 60 },
    toolContext,
    transcript: log.sink('t/v/s/m/0'),
    ...rest,
  });
}

const bodies = () => server.requests.map((r) => r.body);
const lastUser = (i: number) => bodies()[i]!.messages.at(-1);
const toolResults = (i: number) => (lastUser(i).content as any[]).filter((c) => c.type === 'tool_result');

async function until(cond: () => boolean, ms = 2000) {
  for (const t0 = performance.now(); !cond() && performance.now() - t0 < ms; ) await new Promise((r) => setTimeout(r, 10));
}

function expectKind<K extends LoopOutcome['kind']>(o: LoopOutcome, kind: K): Extract<LoopOutcome, { kind: K }> {
  expect(o, JSON.stringify(o)).toMatchObject({ kind });
  return o as Extract<LoopOutcome, { kind: K }>;
}

// ---------- the happy path ----------

describe('runAgentLoop: tools, submission, caching, usage, transcript', () => {
  it('runs a tool, sends its result back, and ends on submit_answer', async () => {
    await serve(
      script(
        toolUseReply('echo', { text: 'hi' }, { text: 'Let me check.', usage: { input_tokens: 100, output_tokens: 50, cache_creation_input_tokens: 80 } }),
        toolUseReply(SUBMIT_TOOL_NAME, { answer: 42 }, { usage: { input_tokens: 20, output_tokens: 30, cache_read_input_tokens: 80 } }),
      ),
    );
    const o = await run();
    expect(expectKind(o, 'submitted').submission).toEqual({ answer: 42 });
    expect(o.turns).toBe(2);
    expect(server.requests).toHaveLength(2);

    // The tool result reached the server, paired with the tool_use id.
    const firstUse = bodies()[1]!.messages[1].content.find((c: any) => c.type === 'tool_use');
    expect(toolResults(1)).toEqual([
      expect.objectContaining({ type: 'tool_result', tool_use_id: firstUse.id, content: 'echo: hi' }),
    ]);
    expect(toolResults(1)[0].is_error).toBeUndefined();

    // Tools declared from zod; submit_answer last with the submission schema.
    const tools = bodies()[0]!.tools as any[];
    expect(tools.map((t) => t.name)).toEqual(['echo', 'boom', 'wait', 'stubborn', SUBMIT_TOOL_NAME]);
    expect(tools[0].input_schema).toMatchObject({ type: 'object', properties: { text: { type: 'string' } }, required: ['text'] });
    expect(tools.at(-1).input_schema).toMatchObject({ type: 'object', properties: { answer: { type: 'number' } } });
    expect(tools[0].input_schema.$schema).toBeUndefined();

    // Cache breakpoints: system, last tool, last block of the newest message, and nowhere else.
    for (const body of bodies()) {
      expect(body.system).toEqual([{ type: 'text', text: 'You are a careful engineer.', cache_control: { type: 'ephemeral' } }]);
      expect(body.tools.map((t: any) => !!t.cache_control)).toEqual([false, false, false, false, true]);
      const marks: string[] = [];
      body.messages.forEach((m: any, i: number) =>
        m.content.forEach((c: any, j: number) => c.cache_control && marks.push(`${i}.${j}`)),
      );
      const last = body.messages.length - 1;
      expect(marks).toEqual([`${last}.${body.messages[last].content.length - 1}`]);
    }

    // Usage summed over responses, and priced.
    expect(o.usage).toEqual({ inputTokens: 120, outputTokens: 80, cacheCreationInputTokens: 80, cacheReadInputTokens: 80 });
    expect(costUsd('claude-haiku-4-5', o.usage)).toBeCloseTo((120 * 1 + 80 * 5 + 80 * 1.25 + 80 * 0.1) / 1e6, 12);

    // The transcript is on disk by the time the loop returns.
    const raw = (await readFile(join(dir, 'transcript.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    // The tool schemas go in a def line, once per run; the trial's meta line names them.
    expect(raw.map((l) => l.type)).toEqual(['def', 'meta', 'request', 'assistant', 'tool_result', 'request', 'assistant', 'end']);
    expect(raw[1].toolsRef).toBe(raw[0].ref);
    for (const l of raw.slice(1)) expect(l.trial).toBe('t/v/s/m/0');
    const lines: any[] = await readTrialTranscript(join(dir, 'transcript.jsonl'), 't/v/s/m/0');
    expect(lines.map((l) => l.type)).toEqual(['meta', 'request', 'assistant', 'tool_result', 'request', 'assistant', 'end']);
    expect(lines[0]).toMatchObject({ model: 'claude-haiku-4-5', system: 'You are a careful engineer.', prompt: 'Compute the answer.' });
    expect(lines[0].tools.map((t: any) => t.name)).toContain(SUBMIT_TOOL_NAME);
    expect(lines[0].tools[0].input_schema.type).toBe('object');
    expect(lines[3]).toMatchObject({ name: 'echo', content: 'echo: hi', is_error: false });
    expect(lines.at(-1)).toMatchObject({ outcome: { kind: 'submitted' }, usage: o.usage, turns: 2 });
    expect(lines.at(-1).costUsd).toBeCloseTo(costUsd('claude-haiku-4-5', o.usage)!, 12);
    for (const l of lines) expect(typeof l.ts).toBe('string');
  });

  it('runs calls before submit_answer in the same turn and ignores calls after it', async () => {
    const ran: string[] = [];
    const record = defineTool({
      name: 'record',
      description: 'Records its text.',
      input: z.object({ text: z.string() }),
      run: async ({ text }) => (ran.push(text), { content: 'ok' }),
    });
    await serve(
      script(
        messageReply([
          toolUseBlock('record', { text: 'before' }),
          toolUseBlock(SUBMIT_TOOL_NAME, { answer: 1 }),
          toolUseBlock('record', { text: 'after' }),
        ]),
      ),
    );
    const o = await run({ tools: [record] as ToolDef[] });
    expect(expectKind(o, 'submitted').submission).toEqual({ answer: 1 });
    expect(ran).toEqual(['before']);
  });

  it('a submission schema that is not an object → error outcome, nothing sent', async () => {
    await serve(() => textReply('unused'));
    const transcript = new MemoryTranscript();
    const o = await run({ submission: z.string(), transcript });
    expect(expectKind(o, 'error').error).toContain('must be a zod object');
    expect(server.requests).toHaveLength(0);
    expect(transcript.events.at(-1)).toMatchObject({ type: 'end', outcome: { kind: 'error' } });
  });
});

// ---------- tool errors ----------

describe('runAgentLoop: bad tool calls become is_error results', () => {
  it('invalid tool input → is_error naming the problem, and the loop continues', async () => {
    await serve(script(toolUseReply('echo', { text: 7 }), toolUseReply(SUBMIT_TOOL_NAME, { answer: 1 })));
    const o = await run();
    expectKind(o, 'submitted');
    const [r] = toolResults(1);
    expect(r.is_error).toBe(true);
    expect(r.content).toContain('Invalid input for tool "echo"');
    expect(r.content).toContain('text');
  });

  it('unknown tool → is_error listing the valid tools', async () => {
    await serve(script(toolUseReply('rm_rf', {}), toolUseReply(SUBMIT_TOOL_NAME, { answer: 1 })));
    const o = await run();
    expectKind(o, 'submitted');
    const [r] = toolResults(1);
    expect(r.is_error).toBe(true);
    expect(r.content).toContain('Unknown tool "rm_rf"');
    expect(r.content).toContain(`echo, boom, wait, stubborn, ${SUBMIT_TOOL_NAME}`);
  });

  it('a tool that throws → is_error with the message only', async () => {
    await serve(script(toolUseReply('boom', {}), toolUseReply(SUBMIT_TOOL_NAME, { answer: 1 })));
    expectKind(await run(), 'submitted');
    const [r] = toolResults(1);
    expect(r).toMatchObject({ is_error: true, content: 'Tool "boom" failed: disk on fire' });
    expect(r.content).not.toContain('at ');
  });

  it('invalid submit_answer input → is_error, then a valid one ends the trial', async () => {
    await serve(script(toolUseReply(SUBMIT_TOOL_NAME, { answer: 'forty-two' }), toolUseReply(SUBMIT_TOOL_NAME, { answer: 42 })));
    const o = await run();
    expect(expectKind(o, 'submitted').submission).toEqual({ answer: 42 });
    const [r] = toolResults(1);
    expect(r.is_error).toBe(true);
    expect(r.content).toContain(`Invalid input for tool "${SUBMIT_TOOL_NAME}"`);
    expect(r.content).toContain('answer');
  });

  it('a submission schema with an async refinement is enforced, and each refinement runs once per call', async () => {
    const checked: unknown[] = [];
    const asyncSubmission = z.object({
      answer: z.number().refine(async (n) => (checked.push(n), n === 42), 'the answer must be 42'),
    });
    await serve(script(toolUseReply(SUBMIT_TOOL_NAME, { answer: 41 }), toolUseReply(SUBMIT_TOOL_NAME, { answer: 42 })));
    const o = await run({ submission: asyncSubmission });
    expect(expectKind(o, 'submitted').submission).toEqual({ answer: 42 });
    expect(checked).toEqual([41, 42]);
    const [r] = toolResults(1);
    expect(r).toMatchObject({ is_error: true });
    expect(r.content).toContain('the answer must be 42');
  });
});

// ---------- limits ----------

describe('runAgentLoop: limits', () => {
  it('token budget: max_tokens is the budget left, output never exceeds it, exhaustion → limit tokens', async () => {
    await serve(
      script(
        toolUseReply('echo', { text: 'a' }, { usage: { output_tokens: 400 } }),
        toolUseReply('echo', { text: 'b' }, { usage: { output_tokens: 300 } }),
        // Wants 500 but only 300 are left: the server cuts it at max_tokens.
        toolUseReply('echo', { text: 'c' }, { usage: { output_tokens: 500 } }),
      ),
    );
    const o = await run({ maxTokensPerCall: 600, limits: { maxTurns: 10, outputTokenBudget: 1000, timeLimitSec: 60 } });
    expect(expectKind(o, 'limit').limit).toBe('tokens');
    expect(bodies().map((b) => b.max_tokens)).toEqual([600, 600, 300]);
    expect(o.usage.outputTokens).toBe(1000);
    expect(o.turns).toBe(3);
  });

  it('a max_tokens cut before any complete tool call (budget left) gets the nudge', async () => {
    await serve(
      script(
        textReply('I will now write a very long', { usage: { output_tokens: 900 } }), // cut by the server at 500
        toolUseReply('echo', { text: 'x' }), // resets the idle count
        // A cut that ends inside a tool call: that call is answered with is_error, not run.
        messageReply([textBlock('ok'), toolUseBlock('echo', { te: '' })], { stop_reason: 'max_tokens', usage: { output_tokens: 500 } }),
        toolUseReply(SUBMIT_TOOL_NAME, { answer: 3 }),
      ),
    );
    const o = await run({ maxTokensPerCall: 500 });
    expectKind(o, 'submitted');
    expect(server.requests[0]!.body.max_tokens).toBe(500);
    expect(lastUser(1).content).toEqual([{ type: 'text', text: NUDGE_TEXT, cache_control: { type: 'ephemeral' } }]);
    const second = lastUser(3).content as any[];
    expect(second[0]).toMatchObject({ type: 'tool_result', is_error: true });
    expect(second[0].content).toContain('cut off by the max_tokens limit');
    expect(second[1]).toMatchObject({ type: 'text', text: NUDGE_TEXT });
  });

  it('maxTurns model calls without a submission → limit turns', async () => {
    await serve(() => toolUseReply('echo', { text: 'again' }));
    const o = await run({ limits: { maxTurns: 3, outputTokenBudget: 100_000, timeLimitSec: 60 } });
    expect(expectKind(o, 'limit').limit).toBe('turns');
    expect(server.requests).toHaveLength(3);
    expect(o.turns).toBe(3);
  });

  it('no tool call → one nudge; a second idle turn in a row → no-submission', async () => {
    await serve(
      script(
        textReply('Thinking out loud.'),
        toolUseReply('echo', { text: 'x' }), // a tool call resets the idle count
        textReply('Still thinking.'),
        textReply('I am done.'),
      ),
    );
    const o = await run();
    expectKind(o, 'no-submission');
    expect(server.requests).toHaveLength(4);
    expect(lastUser(1).content.at(-1).text).toBe(NUDGE_TEXT);
    expect(lastUser(3).content.at(-1).text).toBe(NUDGE_TEXT);
    expect(lastUser(2).content.some((c: any) => c.text === NUDGE_TEXT)).toBe(false);
  });

  it('time limit while a tool runs → limit time, and the tool sees its signal abort', async () => {
    await serve(script(toolUseReply('wait', {})));
    const t0 = performance.now();
    const o = await run({ limits: { maxTurns: 10, outputTokenBudget: 100_000, timeLimitSec: 0.3 } });
    expect(expectKind(o, 'limit').limit).toBe('time');
    expect(sawAbort).toBe(true);
    // Not a hang: ended by the 0.3 s limit (bounds stay generous for a loaded machine).
    expect(performance.now() - t0).toBeLessThan(30_000);
  });

  it('time limit with a tool that ignores its signal → still limit time, no hang', async () => {
    await serve(script(toolUseReply('stubborn', {})));
    const o = await run({ limits: { maxTurns: 10, outputTokenBudget: 100_000, timeLimitSec: 0.3 } });
    expect(expectKind(o, 'limit').limit).toBe('time');
    expect(o.durationMs).toBeLessThan(30_000);
  });

  it('time limit during an API call → limit time; the in-flight request is abandoned', async () => {
    await serve(() => ({ type: 'hang' }));
    const o = await run({ limits: { maxTurns: 10, outputTokenBudget: 100_000, timeLimitSec: 0.3 } });
    expect(expectKind(o, 'limit').limit).toBe('time');
    expect(o.durationMs).toBeLessThan(30_000);
    await until(() => server.requests[0]!.result !== undefined);
    expect(server.requests[0]!.result).toBe('client-closed');
  });

  it('an external abort → error "aborted"', async () => {
    await serve(() => ({ type: 'hang' }));
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const o = await run({ signal: ac.signal });
    expect(expectKind(o, 'error').error).toBe('aborted');
  });
});

// ---------- API failures and retries ----------

describe('runAgentLoop: API failures', () => {
  it('429 with retry-after: 1 → waits about a second, then succeeds', async () => {
    await serve(script(errorReply(429, { retryAfter: 1 }), toolUseReply(SUBMIT_TOOL_NAME, { answer: 1 })));
    expectKind(await run(), 'submitted');
    const [a, b] = server.requests;
    expect(a!.result).toBe(429);
    expect(b!.receivedAt - a!.finishedAt!).toBeGreaterThanOrEqual(900);
    expect(b!.receivedAt - a!.finishedAt!).toBeLessThan(15_000);
  });

  it('529 overloaded → retried, then succeeds', async () => {
    await serve(script(errorReply(529), toolUseReply(SUBMIT_TOOL_NAME, { answer: 1 })));
    expectKind(await run(), 'submitted');
    expect(server.requests.map((r) => r.result)).toEqual([529, 200]);
  });

  it('500 → retried, then succeeds', async () => {
    await serve(script(errorReply(500), toolUseReply(SUBMIT_TOOL_NAME, { answer: 1 })));
    expectKind(await run(), 'submitted');
    expect(server.requests.map((r) => r.result)).toEqual([500, 200]);
  });

  it('dropped connection → retried, then succeeds', async () => {
    await serve(script({ type: 'drop' }, toolUseReply(SUBMIT_TOOL_NAME, { answer: 1 })));
    expectKind(await run(), 'submitted');
    expect(server.requests.map((r) => r.result)).toEqual(['drop', 200]);
  });

  it('persistent 500 → error after exactly maxAttempts requests', async () => {
    await serve(() => errorReply(500, { message: 'kaput', retryAfterMs: 10 }));
    const o = await run({ clientOpts: { maxAttempts: 4 } });
    const { error } = expectKind(o, 'error');
    expect(server.requests).toHaveLength(4);
    expect(error).toContain('500');
    expect(error).toContain('api_error');
    expect(error).toContain('kaput');
    expect(error).toMatch(/request-id req_/);
  });

  it('a callPolicy passed to the loop overrides the client\'s', async () => {
    await serve(() => errorReply(503, { retryAfterMs: 10 }));
    const o = await run({ clientOpts: { maxAttempts: 5 }, callPolicy: { maxAttempts: 2, maxCallMs: 10_000 } });
    expect(expectKind(o, 'error').error).toContain('gave up after 2 attempts');
    expect(server.requests).toHaveLength(2);
  });

  it('per-call bound: a server slower than maxCallMs → error, not a hang', async () => {
    await serve(() => ({ ...toolUseReply(SUBMIT_TOOL_NAME, { answer: 1 }), delayMs: 10_000 }));
    const t0 = performance.now();
    const o = await run({ clientOpts: { maxCallMs: 300, requestTimeoutMs: 5_000 } });
    expect(expectKind(o, 'error').error).toContain('300 ms bound');
    expect(performance.now() - t0).toBeLessThan(8000); // the server would answer after 10 s
  });

  it('a timed-out attempt is retried within the per-call bound', async () => {
    await serve(script({ type: 'hang' }, toolUseReply(SUBMIT_TOOL_NAME, { answer: 1 })));
    const o = await run({ clientOpts: { maxCallMs: 10_000, requestTimeoutMs: 200 } });
    expectKind(o, 'submitted');
    expect(server.requests).toHaveLength(2);
  });

  it('401 → error at once, no retries', async () => {
    await serve(() => errorReply(401, { message: 'invalid x-api-key' }));
    const o = await run({ clientOpts: { maxAttempts: 5 } });
    const { error } = expectKind(o, 'error');
    expect(server.requests).toHaveLength(1);
    expect(error).toContain('401 authentication_error: invalid x-api-key');
  });

  it('400 → error at once, no retries', async () => {
    await serve(() => errorReply(400, { message: 'prompt is too long' }));
    const { error } = expectKind(await run({ clientOpts: { maxAttempts: 5 } }), 'error');
    expect(server.requests).toHaveLength(1);
    expect(error).toContain('400 invalid_request_error: prompt is too long');
  });
});

// ---------- thinking ----------

describe('runAgentLoop: extended thinking', () => {
  it('sends budget_tokens < max_tokens, shrinks it with the budget, drops it at <= 1024, and returns thinking blocks', async () => {
    await serve(
      script(
        toolUseReply('echo', { text: '1' }, { thinking: 'plan A', usage: { output_tokens: 10_000 } }),
        toolUseReply('echo', { text: '2' }, { thinking: 'plan B', usage: { output_tokens: 8_500 } }),
        toolUseReply('echo', { text: '3' }, { thinking: 'plan C', usage: { output_tokens: 600 } }),
        toolUseReply(SUBMIT_TOOL_NAME, { answer: 9 }, { usage: { output_tokens: 100 } }),
      ),
    );
    const o = await run({
      thinkingBudget: 4000,
      limits: { maxTurns: 10, outputTokenBudget: 20_000, timeLimitSec: 60 },
    });
    expectKind(o, 'submitted');
    const b = bodies();
    expect(b.map((x) => x.max_tokens)).toEqual([16_000, 10_000, 1_500, 900]);
    expect(b.map((x) => x.thinking)).toEqual([
      { type: 'enabled', budget_tokens: 4000 },
      { type: 'enabled', budget_tokens: 4000 },
      { type: 'enabled', budget_tokens: 1499 },
      undefined,
    ]);
    for (const x of b) if (x.thinking) expect(x.thinking.budget_tokens).toBeLessThan(x.max_tokens);
    // Thinking blocks come back first in their assistant turns, unchanged (the server checks signatures).
    const assistants = b[3]!.messages.filter((m: any) => m.role === 'assistant');
    expect(assistants.map((m: any) => m.content[0].type)).toEqual(['thinking', 'thinking', 'thinking']);
    expect(assistants.map((m: any) => m.content[0].thinking)).toEqual(['plan A', 'plan B', 'plan C']);
    expect(assistants[0].content[0].signature).toMatch(/^sig_/);
  });
});

// ---------- specs and prices ----------

describe('agent specs', () => {
  it('parses oracle, nop and anthropic specs', () => {
    expect(parseAgentSpec('oracle')).toEqual({ kind: 'oracle' });
    expect(parseAgentSpec('nop')).toEqual({ kind: 'nop' });
    expect(parseAgentSpec('anthropic:claude-sonnet-4-5')).toEqual({
      kind: 'anthropic',
      model: 'claude-sonnet-4-5',
      thinkingBudget: null,
      spec: 'anthropic:claude-sonnet-4-5',
    });
    expect(parseAgentSpec('anthropic:claude-sonnet-4-5+thinking=4000')).toMatchObject({ thinkingBudget: 4000 });
  });

  it.each([
    ['claude-sonnet-4-5', /did you mean "anthropic:claude-sonnet-4-5"/],
    ['anthropic:', /model id/],
    ['anthropic:claude-sonnet-4-5+thinking=500', /at least 1024/],
    ['anthropic:claude-sonnet-4-5+thinking=lots', /whole number/],
    ['anthropic:claude-sonnet-4-5+thinking', /needs a budget/],
    ['anthropic:claude-sonnet-4-5+temp=1', /unknown option/],
  ])('rejects %s with the reason and examples', (spec, why) => {
    expect(() => parseAgentSpec(spec)).toThrow(why);
    expect(() => parseAgentSpec(spec)).toThrow(/valid examples: oracle, nop, anthropic:claude-sonnet-4-5/);
  });
});

describe('prices', () => {
  it('matches aliases and dated ids, and nothing else', () => {
    expect(priceFor('claude-haiku-4-5-20251001')).toMatchObject({ input: 1, output: 5, cacheWrite: 1.25, cacheRead: 0.1 });
    expect(priceFor('claude-opus-4-20250514')).toMatchObject({ input: 15, output: 75 });
    expect(priceFor('claude-opus-4-5-20251101')).toMatchObject({ input: 5, output: 25 });
    expect(priceFor('claude-3-5-haiku-latest')).toMatchObject({ input: 0.8, output: 4 });
    expect(priceFor('claude-opus-4-6')).toBeNull(); // not priced as claude-opus-4
    expect(costUsd('gpt-4o', { inputTokens: 1, outputTokens: 1, cacheReadInputTokens: 0, cacheCreationInputTokens: 0 })).toBeNull();
    expect(costUsd('claude-opus-4-1', { inputTokens: 1e6, outputTokens: 1e6, cacheReadInputTokens: 0, cacheCreationInputTokens: 0 })).toBe(90);
  });
});
