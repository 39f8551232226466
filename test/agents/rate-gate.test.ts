import { afterEach, describe, expect, it } from 'vitest';
import { createAnthropicClient } from '../../src/agents/client.js';
import { RateGate, retryAfterMs } from '../../src/agents/rate-gate.js';
import { errorReply, startMessagesServer, textReply, type MessagesServer } from '../support/messages-server.js';

let server: MessagesServer | undefined;
afterEach(async () => server?.close());

describe('rate gate', () => {
  it('reads retry-after-ms, retry-after seconds and HTTP dates', () => {
    expect(retryAfterMs(new Headers({ 'retry-after-ms': '250' }))).toBe(250);
    expect(retryAfterMs(new Headers({ 'retry-after': '2' }))).toBe(2000);
    const d = retryAfterMs(new Headers({ 'retry-after': new Date(Date.now() + 5000).toUTCString() }))!;
    expect(d).toBeGreaterThan(3000);
    expect(d).toBeLessThanOrEqual(5000);
    expect(retryAfterMs(new Headers({ 'retry-after': 'soon' }))).toBeNull();
    expect(retryAfterMs(new Headers())).toBeNull();
  });

  it('holds other trials\' requests after a 429 until retry-after has passed, through the real SDK', async () => {
    server = await startMessagesServer((_body, i) => (i === 0 ? errorReply(429, { retryAfterMs: 600 }) : textReply('ok')));
    const gate = new RateGate();
    const client = createAnthropicClient({ baseURL: server.url, apiKey: 'k', rateGate: gate, maxAttempts: 3 });
    const ask = () => client.messages.create({ model: 'claude-haiku-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] });
    const first = ask();
    // A second trial starts after the first got its 429 (waiting for the gate, not a fixed delay: a loaded machine is slow).
    while (gate.pausedUntil === 0) await new Promise((r) => setTimeout(r, 5));
    const second = ask();
    await Promise.all([first, second]);
    const [limited, ...rest] = server.requests;
    expect(limited!.result).toBe(429);
    expect(rest).toHaveLength(2);
    for (const r of rest) expect(r.receivedAt - limited!.finishedAt!).toBeGreaterThanOrEqual(500);
    expect(gate.stats.paused).toBeGreaterThanOrEqual(1);
  });

  it('caps a huge retry-after at the gate maximum pause', async () => {
    server = await startMessagesServer((_body, i) => (i === 0 ? errorReply(429, { retryAfter: 3600 }) : textReply('ok')));
    const gate = new RateGate(300);
    const client = createAnthropicClient({ baseURL: server.url, apiKey: 'k', rateGate: gate, maxAttempts: 1 });
    const ask = () => client.messages.create({ model: 'claude-haiku-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] });
    await expect(ask()).rejects.toThrow(/429/);
    const t0 = Date.now();
    await ask();
    const waited = Date.now() - t0;
    expect(waited).toBeGreaterThanOrEqual(150);
    expect(waited).toBeLessThan(10_000);
  });
});
