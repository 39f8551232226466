import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { readRunRecord } from '../../src/runs/journal.js';
import { trialKey } from '../../src/runs/record.js';
import { readTrialTranscript } from '../../src/agents/transcript.js';
import { startMessagesServer, toolUseReply, textReply, errorReply, type Handler, type MessagesServer } from '../support/messages-server.js';
import { gradingHarness, skipUnlessRunnable } from '../support/grading.js';

/**
 * The whole harness on the real paged-attention task, through the CLI, the real SDK and real HTTP:
 * a scripted "model" behind a local Messages API server; tools and grading in the real sandbox.
 */
const root = path.resolve(import.meta.dirname, '..', '..');
const reference = await fs.readFile(path.join(root, 'tasks/paged-attention/solution/reference.py'), 'utf8');
let server: MessagesServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function runWith(handler: Handler, extraArgs: string[] = []) {
  server = await startMessagesServer(handler);
  const out = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'envbench-e2e-')), 'run.json');
  const err: string[] = [];
  const code = await main(
    ['run', '--tasks', 'paged-attention', '--models', 'anthropic:claude-haiku-4-5', '--out', out, ...extraArgs],
    { out: () => {}, err: (s) => err.push(s) },
    { ...process.env, ANTHROPIC_API_KEY: 'sk-e2e-secret', ANTHROPIC_BASE_URL: server.url },
  );
  return { code, record: await readRunRecord(out), out, stderr: err.join('\n') };
}

describe('end to end: paged-attention through the CLI', () => {
  it('a model that probes with run_python and then submits a correct kernel passes', async (ctx) => {
    skipUnlessRunnable(await gradingHarness('paged-attention'), (r) => ctx.skip(r));
    const toolResults: string[] = [];
    const { code, record, out } = await runWith((body) => {
      const last = body.messages.at(-1);
      const results = Array.isArray(last.content) ? last.content.filter((b: { type: string }) => b.type === 'tool_result') : [];
      if (results.length === 0) {
        return toolUseReply('run_python', { code: 'import os, torch\nprint("torch", torch.__version__)\nprint("key" in str(os.environ).lower(), sorted(os.listdir(".")))' }, { usage: { input_tokens: 900, output_tokens: 60 } });
      }
      toolResults.push(JSON.stringify(results[0].content));
      return toolUseReply('submit_answer', { code: reference }, { usage: { input_tokens: 1200, output_tokens: 700, cache_read_input_tokens: 800 } });
    });
    expect(code).toBe(0);
    const [t] = record.trials;
    expect(t!.status, JSON.stringify(t!.checks)).toBe('passed');
    expect(t!.turns).toBe(2);
    expect(t!.usage).toMatchObject({ outputTokens: 760, cacheReadInputTokens: 800 });
    expect(t!.costUsd).toBeGreaterThan(0);
    // The tool really ran in the workspace: torch imported, the starter was there, no API key in its env.
    expect(toolResults[0]).toMatch(/torch 1\.|torch 2\./);
    expect(toolResults[0]).toContain('paged_attention.py');
    expect(toolResults[0]).toMatch(/False/);
    expect(toolResults[0]).not.toContain('sk-e2e-secret');
    // The transcript is kept beside the record, in the run's log, tagged with the trial's key.
    const events = await readTrialTranscript(path.join(path.dirname(out), t!.transcript!), trialKey(t!));
    expect(events.map((e) => e.type)).toEqual(['meta', 'request', 'assistant', 'tool_result', 'request', 'assistant', 'end']);
    // The budget was respected: every request asked for at most what was left of 2,900.
    expect(server!.requests.map((r) => r.body.max_tokens)).toEqual([2900, 2840]);
  });

  it('a model that rambles past the 2,900-token budget fails with limit "tokens", not error', async (ctx) => {
    skipUnlessRunnable(await gradingHarness('paged-attention'), (r) => ctx.skip(r));
    const { code, record } = await runWith(() => textReply('Let me think about the indexing... '.repeat(50), { usage: { input_tokens: 900, output_tokens: 5000 } }));
    expect(code).toBe(0);
    expect(record.trials[0]).toMatchObject({ status: 'failed', limit: 'tokens' });
    expect(record.trials[0]!.usage.outputTokens).toBeLessThanOrEqual(2900);
  });

  it('the no-budget variant gives the same model room to finish', async (ctx) => {
    skipUnlessRunnable(await gradingHarness('paged-attention'), (r) => ctx.skip(r));
    let calls = 0;
    const { record } = await runWith(() => (++calls === 1
      ? textReply('thinking out loud', { usage: { input_tokens: 900, output_tokens: 5000 } })
      : toolUseReply('submit_answer', { code: reference }, { usage: { input_tokens: 900, output_tokens: 600 } })), ['--variants', 'no-budget']);
    expect(record.trials[0]).toMatchObject({ variant: 'no-budget', status: 'passed', limit: null });
  });

  it('an API that keeps failing ends the trial as error (exit 1), never as a model failure', async (ctx) => {
    skipUnlessRunnable(await gradingHarness('paged-attention'), (r) => ctx.skip(r));
    const { code, record, stderr } = await runWith(() => errorReply(529, { retryAfterMs: 5 }));
    expect(code).toBe(1);
    expect(record.trials[0]!.status).toBe('error');
    expect(record.trials[0]!.error).toMatch(/529|overloaded/i);
    expect(server!.requests).toHaveLength(6);
    expect(stderr).toMatch(/error/);
  });
});
