import { z } from 'zod';

/** Token counts of one or more Messages API responses (camelCase copy of the API's usage fields). */
export const UsageSchema = z.object({
  inputTokens: z.int().nonnegative(),
  outputTokens: z.int().nonnegative(),
  cacheReadInputTokens: z.int().nonnegative(),
  cacheCreationInputTokens: z.int().nonnegative(),
});
export type Usage = z.infer<typeof UsageSchema>;

export const ZERO_USAGE: Readonly<Usage> = Object.freeze({
  inputTokens: 0,
  outputTokens: 0,
  cacheReadInputTokens: 0,
  cacheCreationInputTokens: 0,
});

export function addUsage(a: Usage, b: Usage): Usage {
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    cacheReadInputTokens: a.cacheReadInputTokens + b.cacheReadInputTokens,
    cacheCreationInputTokens: a.cacheCreationInputTokens + b.cacheCreationInputTokens,
  };
}

/** USD per million tokens. */
export interface Price {
  input: number;
  output: number;
  /** 5-minute cache write: 1.25x input. */
  cacheWrite: number;
  /** Cache read (hit): 0.1x input. */
  cacheRead: number;
}

const price = (input: number, output: number): Price => ({
  input,
  output,
  cacheWrite: input * 1.25,
  cacheRead: input * 0.1,
});

/** OpenAI prices: no cache-write surcharge, a cached-input price of its own. */
const openaiPrice = (input: number, output: number, cachedInput: number): Price => ({ input, output, cacheWrite: input, cacheRead: cachedInput });

/**
 * THE price table (Anthropic and OpenAI list prices, USD per million tokens). Keys are model aliases;
 * dated ids (claude-haiku-4-5-20251001) match their alias. Add new models here only.
 */
const PRICES: Readonly<Record<string, Price>> = Object.freeze({
  'claude-haiku-4-5': price(1, 5),
  'claude-sonnet-5-5': price(2, 10),
  'claude-sonnet-5': price(2, 10),
  'claude-sonnet-4-6': price(3, 15),
  'claude-sonnet-4-5': price(3, 15),
  'claude-sonnet-4': price(3, 15),
  'claude-opus-4-5': price(5, 25),
  'claude-opus-4-1': price(15, 75),
  'claude-opus-4': price(15, 75),
  'claude-3-5-haiku': price(0.8, 4),
  'claude-3-7-sonnet': price(3, 15),
  'claude-3-5-sonnet': price(3, 15),
  // openai: agents. Any other id served over Chat Completions (a local vLLM model, an OpenRouter route) is unpriced: null, never $0.
  'gpt-4.1-mini': openaiPrice(0.4, 1.6, 0.1),
  'gpt-4o-mini': openaiPrice(0.15, 0.6, 0.075),
});

/**
 * The price of a model id, or null when unknown. An alias matches only itself plus a date or
 * "-latest" suffix, so "claude-opus-4-6" does NOT fall back to "claude-opus-4"'s price.
 */
export function priceFor(model: string): Price | null {
  const exact = PRICES[model];
  if (exact) return exact;
  const m = /^(.*?)-(\d{8}|latest)$/.exec(model);
  return (m && PRICES[m[1]!]) || null;
}

/** Cost in USD of the given usage on a model; null for models not in the table. */
export function costUsd(model: string, usage: Usage): number | null {
  const p = priceFor(model);
  if (!p) return null;
  return (
    (usage.inputTokens * p.input +
      usage.outputTokens * p.output +
      usage.cacheCreationInputTokens * p.cacheWrite +
      usage.cacheReadInputTokens * p.cacheRead) /
    1_000_000
  );
}
