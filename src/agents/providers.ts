import { createAnthropicClient, type MessagesClient } from './client.js';
import { createOpenAIClient } from './openai-client.js';
import type { ModelAgentSpec } from './model-spec.js';
import { RateGate } from './rate-gate.js';

export type Provider = ModelAgentSpec['kind'];

/** The environment each provider reads: the one place these variable names live. */
const PROVIDER_ENV: Readonly<Record<Provider, { key: string; baseURL: string; what: string }>> = Object.freeze({
  anthropic: { key: 'ANTHROPIC_API_KEY', baseURL: 'ANTHROPIC_BASE_URL', what: 'a Messages-compatible endpoint' },
  openai: { key: 'OPENAI_API_KEY', baseURL: 'OPENAI_BASE_URL', what: 'any Chat Completions server (vLLM, SGLang, Ollama, OpenRouter, LiteLLM); a local server that checks no key takes any value' },
});

/** Why `provider` cannot be called with `env`, or null when its key is set. */
export function missingCredentials(provider: Provider, env: NodeJS.ProcessEnv): string | null {
  const e = PROVIDER_ENV[provider];
  return env[e.key] ? null : `${e.key} is not set (${e.baseURL} may point at ${e.what})`;
}

export type ModelClients = Partial<Record<Provider, MessagesClient>>;

/** One client per provider the run needs, each with its own rate gate (their limits are separate). */
export function createClients(providers: Iterable<Provider>, env: NodeJS.ProcessEnv): ModelClients {
  const clients: ModelClients = {};
  for (const p of new Set(providers)) {
    const e = PROVIDER_ENV[p];
    const opts = { apiKey: env[e.key], baseURL: env[e.baseURL] || undefined, rateGate: new RateGate() };
    clients[p] = p === 'openai' ? createOpenAIClient(opts) : createAnthropicClient(opts);
  }
  return clients;
}
