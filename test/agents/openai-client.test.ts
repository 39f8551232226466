import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createOpenAIClient } from '../../src/agents/openai-client.js';
import { runAgentLoop, type AgentLoopOptions, type LoopOutcome } from '../../src/agents/loop.js';
import { parseAgentSpec } from '../../src/agents/model-spec.js';
import { costUsd } from '../../src/agents/prices.js';
import { defineTool, SUBMIT_TOOL_NAME, type ToolContext, type ToolDef } from '../../src/agents/tool.js';
import { TranscriptLog, readTrialTranscript } from '../../src/agents/transcript.js';
import { chatError, chatText, startChatServer, toolCall, toolCallReply, type ChatServer, type Handler } from '../support/chat-completions-server.js';

const echo = defineTool({
  name: 'echo',
  description: 'Echo text back.',
  input: z.object({ text: z.string() }),
  run: async ({ text }) => ({ content: `echo: ${text}` }),
});
const stubborn = defineTool({ name: 'stubborn', description: 'Never finishes.', input: z.object({}), run: () => new Promise(() => {}) });
const submission = z.object({ answer: z.number() });
const toolContext = { workspace: '/nonexistent', tmpDir: '/nonexistent', sandbox: {}, python: {}, gpu: false, limits: {} } as unknown as Omit<ToolContext, 'signal'>;

let server: ChatServer;
let dir: string;
let log: TranscriptLog;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'envbench-openai-'));
  log = new TranscriptLog(join(dir, 'transcript.jsonl'));
});
afterEach(async () => {
  await log.close();
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

function script(...replies: Array<ReturnType<Handler>>): Handler {
  return (_b, i) => replies[i] ?? chatError(400, { message: `script has no reply for call ${i}` });
}
async function serve(h: Handler) {
  server = await startChatServer(h);
}
function run(o: Partial<AgentLoopOptions> & { maxAttempts?: number } = {}) {
  const { maxAttempts = 3, ...rest } = o;
  return runAgentLoop({
    client: createOpenAIClient({ apiKey: 'test-key', baseURL: server.url, maxAttempts, maxCallMs: 20_000 }),
    model: 'gpt-4.1-mini',
    thinkingBudget: null,
    system: 'You are a careful engineer.',
    prompt: 'Compute the answer.',
    tools: [echo, stubborn] as ToolDef[],
    submission,
    limits: { maxTurns: 10, outputTokenBudget: 100_000, timeLimitSec: 60 },
    toolContext,
    transcript: log.sink('t/v/s/m/0'),
    ...rest,
  });
}
const bodies = () => server.requests.map((r) => r.body);
function expectKind<K extends LoopOutcome['kind']>(o: LoopOutcome, kind: K): Extract<LoopOutcome, { kind: K }> {
  expect(o, JSON.stringify(o)).toMatchObject({ kind });
  return o as Extract<LoopOutcome, { kind: K }>;
}

describe('openai: agents through the openai SDK against a Chat Completions server', () => {
  it('tool round trip: functions sent, the call run, its result sent back as a tool message, then submit_answer ends it', async () => {
    await serve(script(toolCallReply('echo', { text: 'hi' }, { content: 'let me check' }), toolCallReply(SUBMIT_TOOL_NAME, { answer: 42 })));
    const o = await run();
    expect(expectKind(o, 'submitted').submission).toEqual({ answer: 42 });
    const [first, second] = bodies();
    expect(first!.messages[0]).toEqual({ role: 'system', content: 'You are a careful engineer.' });
    expect(first!.messages[1]).toEqual({ role: 'user', content: 'Compute the answer.' });
    expect(first!.tools.map((t: any) => t.function.name)).toEqual(['echo', 'stubborn', SUBMIT_TOOL_NAME]);
    expect(first!.tools[0].function.parameters).toMatchObject({ type: 'object', properties: { text: { type: 'string' } } });
    const assistant = second!.messages[2];
    expect(assistant).toMatchObject({ role: 'assistant', content: 'let me check', tool_calls: [{ type: 'function', function: { name: 'echo' } }] });
    expect(second!.messages[3]).toEqual({ role: 'tool', tool_call_id: assistant.tool_calls[0].id, content: 'echo: hi' });
    expect(o.turns).toBe(2);
  });

  it('hostile calls: arguments that are not JSON, an unknown tool, a bad submission are answered as errors and the loop goes on', async () => {
    await serve(
      script(
        { type: 'message', content: null, tool_calls: [toolCall('echo', '{"text": ')] },
        toolCallReply('rm_rf', {}),
        toolCallReply(SUBMIT_TOOL_NAME, { answer: 'forty-two' }),
        toolCallReply(SUBMIT_TOOL_NAME, { answer: 7 }),
      ),
    );
    const o = await run();
    // The server refuses history whose arguments are not JSON: the model's broken arguments go back as a JSON string.
    const results = bodies().slice(1).map((b) => b.messages.at(-1));
    expect(results[0].content).toMatch(/^Error: Invalid input for tool "echo"/);
    expect(results[1].content).toMatch(/Unknown tool "rm_rf"/);
    expect(results[2].content).toMatch(/Invalid input for tool "submit_answer"/);
    expect(expectKind(o, 'submitted').submission).toEqual({ answer: 7 });
  });

  it('output-token budget across turns: max_completion_tokens is what is left; a cut reply ends as limit tokens', async () => {
    await serve(
      script(
        toolCallReply('echo', { text: 'a' }, { usage: { completion_tokens: 400 } }),
        toolCallReply('echo', { text: 'b' }, { usage: { completion_tokens: 300 } }),
        toolCallReply('echo', { text: 'c' }, { usage: { completion_tokens: 500 } }),
      ),
    );
    const o = await run({ maxTokensPerCall: 600, limits: { maxTurns: 10, outputTokenBudget: 1000, timeLimitSec: 60 } });
    expect(expectKind(o, 'limit').limit).toBe('tokens');
    expect(bodies().map((b) => b.max_completion_tokens)).toEqual([600, 600, 300]);
    expect(o.usage.outputTokens).toBe(1000);
  });

  it('turn and time limits are outcomes, not errors', async () => {
    await serve(() => toolCallReply('echo', { text: 'again' }));
    expect(expectKind(await run({ limits: { maxTurns: 3, outputTokenBudget: 100_000, timeLimitSec: 60 } }), 'limit').limit).toBe('turns');
    await server.close();
    await serve(() => toolCallReply('stubborn', {}));
    expect(expectKind(await run({ limits: { maxTurns: 3, outputTokenBudget: 100_000, timeLimitSec: 1 } }), 'limit').limit).toBe('time');
  });

  it('two idle turns end as no-submission (a failure), after one nudge sent as a user message', async () => {
    await serve(script(chatText('thinking about it'), chatText('still thinking')));
    const o = await run();
    expectKind(o, 'no-submission');
    expect(bodies()[1]!.messages.at(-1)).toMatchObject({ role: 'user', content: expect.stringMatching(/did not call a tool/) });
  });

  it('429 with retry-after: 1 waits about a second, then succeeds', async () => {
    await serve(script(chatError(429, { retryAfter: 1 }), toolCallReply(SUBMIT_TOOL_NAME, { answer: 1 })));
    expectKind(await run(), 'submitted');
    const [a, b] = server.requests;
    expect(a!.result).toBe(429);
    expect(b!.receivedAt - a!.finishedAt!).toBeGreaterThanOrEqual(900);
  });

  it('5xx and dropped connections are retried; a persistent 500 gives up after exactly maxAttempts, as error', async () => {
    await serve(script(chatError(500), { type: 'drop' }, toolCallReply(SUBMIT_TOOL_NAME, { answer: 1 })));
    expectKind(await run(), 'submitted');
    expect(server.requests.map((r) => r.result)).toEqual([500, 'drop', 200]);
    await server.close();
    await serve(() => chatError(503, { message: 'kaput', retryAfterMs: 10 }));
    const { error } = expectKind(await run({ maxAttempts: 4 }), 'error');
    expect(server.requests).toHaveLength(4);
    expect(error).toMatch(/API error 503 server_error: kaput \(request-id req-[0-9a-f]+\); gave up after 4 attempts/);
  });

  it('401 is an error at once, never a failure, and not retried', async () => {
    await serve(() => chatError(401, { message: 'bad key' }));
    const { error } = expectKind(await run(), 'error');
    expect(server.requests).toHaveLength(1);
    expect(error).toMatch(/401.*bad key/);
    expect(error).not.toMatch(/gave up/);
  });

  it('usage: cached prompt tokens apart; cost from the price table, and null (not $0) for an unpriced model', async () => {
    await serve(script(toolCallReply(SUBMIT_TOOL_NAME, { answer: 1 }, { usage: { prompt_tokens: 1000, cached_tokens: 200, completion_tokens: 100 }, model: 'gpt-4.1-mini-2025-04-14' })));
    const o = await run();
    expect(o.usage).toEqual({ inputTokens: 800, outputTokens: 100, cacheReadInputTokens: 200, cacheCreationInputTokens: 0 });
    expect(costUsd('gpt-4.1-mini', o.usage)).toBeCloseTo((800 * 0.4 + 200 * 0.1 + 100 * 1.6) / 1e6, 12);
    expect(costUsd('qwen2.5:7b', o.usage)).toBeNull();
    await log.close();
    const t = await readTrialTranscript(join(dir, 'transcript.jsonl'), 't/v/s/m/0');
    const end = t.find((l: any) => l.type === 'end') as any;
    expect(end.costUsd).toBeGreaterThan(0);
  });

  it('a server\'s reasoning output is kept in the transcript as thinking, and not sent back', async () => {
    await serve(script(toolCallReply('echo', { text: 'x' }, { reasoning_content: 'first I will echo' }), toolCallReply(SUBMIT_TOOL_NAME, { answer: 2 })));
    expectKind(await run({ model: 'qwen2.5:7b' }), 'submitted');
    await log.close();
    const t = await readTrialTranscript(join(dir, 'transcript.jsonl'), 't/v/s/m/0');
    const firstTurn = t.find((l: any) => l.type === 'assistant') as any;
    expect(firstTurn.content[0]).toEqual({ type: 'thinking', thinking: 'first I will echo', signature: '' });
    expect(JSON.stringify(bodies()[1]!.messages)).not.toContain('first I will echo');
    expect((t.find((l: any) => l.type === 'end') as any).costUsd).toBeNull();
  });
});

describe('openai agent specs', () => {
  it('parses server-side ids with / and :, and refuses options', () => {
    expect(parseAgentSpec('openai:meta-llama/Llama-3.1-8B-Instruct')).toEqual({ kind: 'openai', model: 'meta-llama/Llama-3.1-8B-Instruct', thinkingBudget: null, spec: 'openai:meta-llama/Llama-3.1-8B-Instruct' });
    expect(parseAgentSpec('openai:qwen2.5:7b')).toMatchObject({ kind: 'openai', model: 'qwen2.5:7b' });
    expect(() => parseAgentSpec('openai:')).toThrow(/empty/);
    expect(() => parseAgentSpec('openai:gpt-4o+thinking=2000')).toThrow(/takes no options/);
    expect(() => parseAgentSpec('gpt-4o')).toThrow(/did you mean "openai:gpt-4o"/);
  });
});

describe('bench run with openai: agents', () => {
  it('runs a task end to end against OPENAI_BASE_URL: passed trials, usage, cost, and an unpriced model costs null', async () => {
    const { main } = await import('../../src/cli/main.js');
    const { readRunRecord } = await import('../../src/runs/journal.js');
    const path = await import('node:path');
    await serve((body) => {
      const word = /the word (\w+)/.exec(JSON.stringify(body.messages))![1];
      return toolCallReply(SUBMIT_TOOL_NAME, { answer: word }, { usage: { prompt_tokens: 100, completion_tokens: 10 } });
    });
    const out = join(dir, 'r.json');
    const err: string[] = [];
    const saved = process.env.ENVBENCH_TASKS_DIR;
    process.env.ENVBENCH_TASKS_DIR = path.join(import.meta.dirname, '..', 'fixtures', 'tasks');
    try {
      const code = await main(['run', '--tasks', 'echo', '--variants', 'default', '--models', 'openai:gpt-4.1-mini,openai:qwen2.5:7b', '--judge', 'none', '--out', out], { out: () => {}, err: (s) => err.push(s) }, {
        ...process.env, OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: server.url, ANTHROPIC_API_KEY: '',
      });
      expect(code, err.join('\n')).toBe(0);
    } finally {
      if (saved === undefined) delete process.env.ENVBENCH_TASKS_DIR;
      else process.env.ENVBENCH_TASKS_DIR = saved;
    }
    const rec = await readRunRecord(out);
    expect(rec.trials).toHaveLength(4);
    expect(rec.trials.every((t) => t.status === 'passed' && t.usage.outputTokens === 10)).toBe(true);
    expect(rec.trials.filter((t) => t.model === 'openai:gpt-4.1-mini').every((t) => t.costUsd! > 0)).toBe(true);
    expect(rec.trials.filter((t) => t.model === 'openai:qwen2.5:7b').every((t) => t.costUsd === null)).toBe(true);
  });

  it('refuses openai: agents without OPENAI_API_KEY, and an openai judge without it, naming the variable', async () => {
    const { main } = await import('../../src/cli/main.js');
    const err: string[] = [];
    const io = { out: () => {}, err: (s: string) => err.push(s) };
    expect(await main(['run', '--models', 'openai:gpt-4.1-mini'], io, { ...process.env, OPENAI_API_KEY: '' })).toBe(2);
    expect(err.join('\n')).toMatch(/openai:… agent but OPENAI_API_KEY is not set \(OPENAI_BASE_URL may point at/);
    err.length = 0;
    expect(await main(['run', '--models', 'oracle', '--judge', 'openai:gpt-4o-mini'], io, { ...process.env, OPENAI_API_KEY: '' })).toBe(2);
    expect(err.join('\n')).toMatch(/--judge openai:gpt-4o-mini calls a model but OPENAI_API_KEY is not set/);
  });
});

describe('an openai: judge', () => {
  it('grades a judge-graded task through Chat Completions: the verdict tool is forced as a function choice, its cost recorded apart', async () => {
    const { main } = await import('../../src/cli/main.js');
    const { readRunRecord } = await import('../../src/runs/journal.js');
    const { RUBRIC_VERDICT_TOOL } = await import('../../src/grading/rubric-judge.js');
    const path = await import('node:path');
    const essay = 'Bubble sort repeatedly swaps adjacent out-of-order pairs in passes until no swap is needed; it takes O(n^2) time. Example: [3,1,2] -> [1,3,2] -> [1,2,3].';
    await serve((body) => {
      if (body.tools?.[0]?.function?.name === RUBRIC_VERDICT_TOOL) {
        expect(body.tool_choice).toEqual({ type: 'function', function: { name: RUBRIC_VERDICT_TOOL } });
        const c = (points: number) => ({ justification: 'ok', points });
        return toolCallReply(RUBRIC_VERDICT_TOOL, { criteria: { mechanism: c(2), complexity: c(2), example: c(1) }, summary: 'solid' }, { usage: { prompt_tokens: 1000, completion_tokens: 100 } });
      }
      return toolCallReply(SUBMIT_TOOL_NAME, { essay }, { usage: { prompt_tokens: 100, completion_tokens: 50 } });
    });
    const out = join(dir, 'j.json');
    const err: string[] = [];
    const saved = process.env.ENVBENCH_TASKS_DIR;
    process.env.ENVBENCH_TASKS_DIR = path.join(import.meta.dirname, '..', 'fixtures', 'judge-tasks');
    try {
      const code = await main(['run', '--models', 'openai:gpt-4.1-mini', '--judge', 'openai:gpt-4o-mini', '--out', out], { out: () => {}, err: (s) => err.push(s) }, {
        ...process.env, OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: server.url, ANTHROPIC_API_KEY: '',
      });
      expect(code, err.join('\n')).toBe(0);
    } finally {
      if (saved === undefined) delete process.env.ENVBENCH_TASKS_DIR;
      else process.env.ENVBENCH_TASKS_DIR = saved;
    }
    const [t] = (await readRunRecord(out)).trials;
    expect(t).toMatchObject({ status: 'passed', judge: { model: 'openai:gpt-4o-mini', requests: 1 } });
    expect(t!.judge!.costUsd).toBeCloseTo((1000 * 0.15 + 100 * 0.6) / 1e6, 12);
    expect(err.join('\n')).toMatch(/judge openai:gpt-4o-mini: 1 trial\(s\) graded/);
  });
});
