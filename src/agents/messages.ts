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

export function describeApiError(e: unknown, policy: ResolvedCallPolicy): string {
  const attempts = `${policy.maxAttempts} attempt${policy.maxAttempts === 1 ? '' : 's'}`;
  if (e instanceof APIConnectionTimeoutError) {
    return `API request timed out (${policy.requestTimeoutMs} ms per attempt) after ${attempts}`;
  }
  if (e instanceof APIConnectionError) {
    const cause = e.cause instanceof Error && e.cause.message !== e.message ? ` (${e.cause.message})` : '';
    return `API connection error after ${attempts}: ${e.message}${cause}`;
  }
  if (e instanceof APIError && typeof e.status === 'number') {
    const s = e.status;
    const retryable = s === 408 || s === 409 || s === 429 || s >= 500;
    const what = e.apiMessage ?? e.message;
    return (
      `API error ${s}${e.type ? ` ${e.type}` : ''}: ${what}` +
      (e.requestID ? ` (request-id ${e.requestID})` : '') +
      (retryable ? `; gave up after ${attempts}` : '')
    );
  }
  return errorMessage(e);
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
