/**
 * Messages-API helpers the agent loop and the judge share: thinking budgets, assistant turns as request
 * params, usage in the record's shape, and API errors as the record states them.
 */
import { APIConnectionError, APIConnectionTimeoutError, APIError } from '@anthropic-ai/sdk';
import type { ContentBlock, ContentBlockParam, Message, ThinkingConfigParam } from '@anthropic-ai/sdk/resources/messages';
import type { ResolvedCallPolicy } from './client.js';
import { MIN_THINKING_BUDGET } from './model-spec.js';
import type { Usage } from './prices.js';

/** Extended thinking must be >= 1024 and < max_tokens: shrink to fit, or leave it off for this call. */
export function thinkingFor(budget: number | null, maxTokens: number): ThinkingConfigParam | undefined {
  if (budget === null) return undefined;
  const fitted = Math.min(budget, maxTokens - 1);
  return fitted >= MIN_THINKING_BUDGET ? { type: 'enabled', budget_tokens: fitted } : undefined;
}

/** The assistant's blocks as request params; thinking blocks are kept verbatim (their signatures are checked). */
export function assistantContent(content: ContentBlock[]): ContentBlockParam[] {
  const out: ContentBlockParam[] = [];
  for (const b of content) {
    switch (b.type) {
      case 'text':
        if (b.text !== '') out.push({ type: 'text', text: b.text }); // the API rejects empty text blocks
        break;
      case 'thinking':
        out.push({ type: 'thinking', thinking: b.thinking, signature: b.signature });
        break;
      case 'redacted_thinking':
        out.push({ type: 'redacted_thinking', data: b.data });
        break;
      case 'tool_use':
        out.push({ type: 'tool_use', id: b.id, name: b.name, input: b.input });
        break;
      default:
        out.push(b as unknown as ContentBlockParam); // server-tool blocks; not used by this harness
    }
  }
  // An empty assistant message would be rejected on the next call.
  if (out.length === 0) out.push({ type: 'text', text: '(no output)' });
  return out;
}

/** A response's usage in the record's camelCase shape. */
export function usageOf(msg: Message): Usage {
  const u = msg.usage;
  return {
    inputTokens: u?.input_tokens ?? 0,
    outputTokens: u?.output_tokens ?? 0,
    cacheReadInputTokens: u?.cache_read_input_tokens ?? 0,
    cacheCreationInputTokens: u?.cache_creation_input_tokens ?? 0,
  };
}

/** What an SDK error says, whichever provider's SDK threw it (each maps its own error classes onto this). */
export type ApiFailure =
  | { kind: 'timeout' }
  | { kind: 'connection'; message: string; cause?: unknown }
  | { kind: 'status'; status: number; type?: string | null; message: string; requestID?: string | null };

/** The one wording of an API failure in trial records, for every provider. */
export function describeApiFailure(f: ApiFailure, policy: ResolvedCallPolicy): string {
  const attempts = `${policy.maxAttempts} attempt${policy.maxAttempts === 1 ? '' : 's'}`;
  if (f.kind === 'timeout') return `API request timed out (${policy.requestTimeoutMs} ms per attempt) after ${attempts}`;
  if (f.kind === 'connection') {
    const cause = f.cause instanceof Error && f.cause.message !== f.message ? ` (${f.cause.message})` : '';
    return `API connection error after ${attempts}: ${f.message}${cause}`;
  }
  const s = f.status;
  const retryable = s === 408 || s === 409 || s === 429 || s >= 500;
  return (
    `API error ${s}${f.type ? ` ${f.type}` : ''}: ${f.message}` +
    (f.requestID ? ` (request-id ${f.requestID})` : '') +
    (retryable ? `; gave up after ${attempts}` : '')
  );
}

/** An Anthropic SDK error as the record states it. */
export function describeApiError(e: unknown, policy: ResolvedCallPolicy): string {
  if (e instanceof APIConnectionTimeoutError) return describeApiFailure({ kind: 'timeout' }, policy);
  if (e instanceof APIConnectionError) return describeApiFailure({ kind: 'connection', message: e.message, cause: e.cause }, policy);
  if (e instanceof APIError && typeof e.status === 'number') {
    return describeApiFailure({ kind: 'status', status: e.status, type: e.type, message: e.apiMessage ?? e.message, requestID: e.requestID }, policy);
  }
  return errorMessage(e);
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
