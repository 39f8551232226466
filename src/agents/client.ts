import Anthropic from '@anthropic-ai/sdk';
import type { Message, MessageCreateParamsNonStreaming } from '@anthropic-ai/sdk/resources/messages';
import { RateGate } from './rate-gate.js';

/** Per-call options the agent loop and the judge pass (a subset of both SDKs' request options). */
export interface CallOptions {
  signal?: AbortSignal;
  maxRetries?: number;
  timeout?: number;
}

/**
 * What the agent loop and the judge need from a model provider: one Messages-shaped call. The Anthropic SDK
 * client is one as it is; src/agents/openai-client.ts adapts Chat Completions to it, so both providers run
 * the same loop (tools, submit_answer, budgets, limits, usage) with no provider branches in it.
 */
export interface MessagesClient {
  messages: { create(params: MessageCreateParamsNonStreaming, options?: CallOptions): PromiseLike<Message> };
}

/** How each Messages API call is bounded. The one place these defaults live. */
export interface CallPolicy {
  /** HTTP attempts per call, first included; the SDK retries 408/409/429/5xx/529 and connection errors. */
  maxAttempts: number;
  /** Total bound on one call, retries and their back-off waits included. */
  maxCallMs: number;
  /** Bound on one HTTP attempt (the SDK's `timeout`); a timed-out attempt is retried. Default: maxCallMs. */
  requestTimeoutMs?: number;
}

export type ResolvedCallPolicy = Required<CallPolicy>;

export const DEFAULT_CALL_POLICY: Readonly<ResolvedCallPolicy> = Object.freeze({
  maxAttempts: 6,
  maxCallMs: 600_000,
  requestTimeoutMs: 600_000,
});

export interface CreateClientOptions {
  /** Defaults to ANTHROPIC_API_KEY. */
  apiKey?: string;
  /** Defaults to ANTHROPIC_BASE_URL, else the public API. */
  baseURL?: string;
  maxAttempts?: number;
  maxCallMs?: number;
  /** Defaults to maxCallMs (one attempt cannot usefully outlive the whole call). */
  requestTimeoutMs?: number;
  /** Shared rate-limit gate; a fresh one per client by default. */
  rateGate?: RateGate;
}

// The policy a client was made with, so runAgentLoop applies the same bounds per request
// without every caller threading it through (a WeakMap keeps the SDK object untouched).
const policies = new WeakMap<object, ResolvedCallPolicy>();

/** Fills defaults and validates; throws on nonsense values. */
export function resolveCallPolicy(opts: Partial<CallPolicy> = {}): ResolvedCallPolicy {
  const maxAttempts = opts.maxAttempts ?? DEFAULT_CALL_POLICY.maxAttempts;
  const maxCallMs = opts.maxCallMs ?? DEFAULT_CALL_POLICY.maxCallMs;
  const requestTimeoutMs = opts.requestTimeoutMs ?? Math.min(maxCallMs, DEFAULT_CALL_POLICY.requestTimeoutMs);
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new Error(`maxAttempts must be an integer >= 1 (got ${maxAttempts})`);
  if (!(maxCallMs > 0)) throw new Error(`maxCallMs must be positive (got ${maxCallMs})`);
  if (!(requestTimeoutMs > 0)) throw new Error(`requestTimeoutMs must be positive (got ${requestTimeoutMs})`);
  // The SDK insists on integer millisecond timeouts.
  return { maxAttempts, maxCallMs: Math.ceil(maxCallMs), requestTimeoutMs: Math.ceil(requestTimeoutMs) };
}

/** The policy registered for a client made by createAnthropicClient, if any. */
export function callPolicyOf(client: MessagesClient): ResolvedCallPolicy | undefined {
  return policies.get(client);
}

/** Registers the policy a provider's client was made with (see callPolicyOf). */
export function registerCallPolicy(client: MessagesClient, policy: ResolvedCallPolicy): void {
  policies.set(client, policy);
}

export function createAnthropicClient(opts: CreateClientOptions = {}): Anthropic {
  const policy = resolveCallPolicy(opts);
  const apiKey = opts.apiKey ?? process.env.ANTHROPIC_API_KEY;
  const baseURL = opts.baseURL ?? process.env.ANTHROPIC_BASE_URL;
  if (!apiKey) throw new Error('no Anthropic API key: set ANTHROPIC_API_KEY (or pass apiKey)');
  const client = new Anthropic({
    apiKey,
    ...(baseURL ? { baseURL } : {}),
    // Retries are the SDK's own: it honours retry-after / retry-after-ms and backs off exponentially.
    maxRetries: policy.maxAttempts - 1,
    // An explicit timeout also stops the SDK refusing large non-streaming max_tokens.
    timeout: policy.requestTimeoutMs,
    // One gate per client, so every trial of a run backs off together when the API says so.
    fetch: (opts.rateGate ?? new RateGate()).fetch,
  });
  policies.set(client, policy);
  return client;
}
