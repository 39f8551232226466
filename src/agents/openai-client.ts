import type OpenAI from 'openai';
import type {
  ChatCompletion,
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionMessageParam,
  ChatCompletionTool,
} from 'openai/resources/chat/completions';
import type {
  ContentBlock,
  ContentBlockParam,
  Message,
  MessageCreateParamsNonStreaming,
  MessageParam,
  StopReason,
} from '@anthropic-ai/sdk/resources/messages';
import { registerCallPolicy, resolveCallPolicy, type CallOptions, type CreateClientOptions, type MessagesClient, type ResolvedCallPolicy } from './client.js';
import { describeApiFailure, errorMessage } from './messages.js';
import { RateGate } from './rate-gate.js';

export interface CreateOpenAIClientOptions extends Omit<CreateClientOptions, 'apiKey' | 'baseURL'> {
  /** Defaults to OPENAI_API_KEY. */
  apiKey?: string;
  /** Defaults to OPENAI_BASE_URL, else the public API (any Chat Completions server: vLLM, SGLang, Ollama, OpenRouter, LiteLLM). */
  baseURL?: string;
}

/** A provider failure, already described for the trial record (status, type, message, request id, attempts). */
export class ProviderError extends Error {
  override name = 'ProviderError';
}

/**
 * The openai SDK, loaded on first use: about 150 modules that every CLI and action start loaded, though
 * only runs with an `openai:` agent or judge call it.
 */
let sdkModule: Promise<typeof import('openai')> | null = null;
const loadSdk = () => (sdkModule ??= import('openai'));

/**
 * A Chat Completions endpoint behind the MessagesClient interface the agent loop and the judge use. Requests
 * and replies are translated here, and only here: tools to functions, tool_use/tool_result blocks to tool_calls
 * and tool messages, finish_reason to stop_reason, usage to the Messages shape (cached prompt tokens apart).
 * Retries are the openai SDK's own (it honours retry-after and retry-after-ms), bounded by the call policy.
 */
export function createOpenAIClient(opts: CreateOpenAIClientOptions = {}): MessagesClient {
  const policy = resolveCallPolicy(opts);
  const apiKey = opts.apiKey ?? process.env.OPENAI_API_KEY;
  const baseURL = opts.baseURL ?? process.env.OPENAI_BASE_URL;
  if (!apiKey) throw new Error('no OpenAI API key: set OPENAI_API_KEY (or pass apiKey)');
  const fetch = (opts.rateGate ?? new RateGate()).fetch;
  // The SDK is loaded on the first call (see loadSdk), and the client made once.
  let sdk: OpenAI | null = null;
  const client: MessagesClient = {
    messages: {
      async create(params: MessageCreateParamsNonStreaming, options: CallOptions = {}): Promise<Message> {
        const mod = await loadSdk();
        sdk ??= new mod.default({ apiKey, ...(baseURL ? { baseURL } : {}), maxRetries: policy.maxAttempts - 1, timeout: policy.requestTimeoutMs, fetch });
        let completion: ChatCompletion;
        try {
          completion = await sdk.chat.completions.create(toChatRequest(params), options);
        } catch (e) {
          if (options.signal?.aborted) throw e;
          throw new ProviderError(describeOpenAIError(mod, e, options.maxRetries === undefined ? policy : { ...policy, maxAttempts: options.maxRetries + 1 }));
        }
        return fromChatCompletion(completion, params.model);
      },
    },
  };
  registerCallPolicy(client, policy);
  return client;
}

const textOf = (blocks: ContentBlockParam[]): string =>
  blocks.flatMap((b) => (b.type === 'text' ? [b.text] : [])).join('\n\n');

/** A Messages request as Chat Completions. Thinking blocks are not sent back: Chat Completions has no place for them. */
function toChatRequest(p: MessageCreateParamsNonStreaming): ChatCompletionCreateParamsNonStreaming {
  const messages: ChatCompletionMessageParam[] = [];
  const system = typeof p.system === 'string' ? p.system : p.system ? p.system.map((b) => b.text).join('\n\n') : '';
  if (system) messages.push({ role: 'system', content: system });
  for (const m of p.messages) messages.push(...toChatMessages(m));
  const tools: ChatCompletionTool[] = (p.tools ?? []).flatMap((t) =>
    'input_schema' in t ? [{ type: 'function' as const, function: { name: t.name, description: t.description ?? '', parameters: t.input_schema as Record<string, unknown> } }] : [],
  );
  const choice = p.tool_choice;
  // The judge forces its verdict tool; Chat Completions names that a function choice ('any' is 'required').
  const tool_choice: ChatCompletionCreateParamsNonStreaming['tool_choice'] | undefined = !choice || !tools.length
    ? undefined
    : choice.type === 'tool'
      ? { type: 'function', function: { name: choice.name } }
      : choice.type === 'any'
        ? 'required'
        : choice.type;
  return { model: p.model, messages, max_completion_tokens: p.max_tokens, ...(tools.length ? { tools } : {}), ...(tool_choice ? { tool_choice } : {}) };
}

function toChatMessages(m: MessageParam): ChatCompletionMessageParam[] {
  const blocks: ContentBlockParam[] = typeof m.content === 'string' ? [{ type: 'text', text: m.content }] : m.content;
  if (m.role === 'assistant') {
    // Arguments always go back as JSON: a model's unparseable arguments were kept as a string, sent as a JSON string.
    const calls = blocks.flatMap((b) =>
      b.type === 'tool_use' ? [{ id: b.id, type: 'function' as const, function: { name: b.name, arguments: JSON.stringify(b.input) } }] : [],
    );
    const text = textOf(blocks);
    return [{ role: 'assistant', content: text || null, ...(calls.length ? { tool_calls: calls } : {}) }];
  }
  // A user turn: each tool_result becomes a tool message (they must follow the assistant's tool_calls), then any text.
  const out: ChatCompletionMessageParam[] = [];
  for (const b of blocks) {
    if (b.type !== 'tool_result') continue;
    const content = typeof b.content === 'string' ? b.content : textOf((b.content ?? []) as ContentBlockParam[]);
    out.push({ role: 'tool', tool_call_id: b.tool_use_id, content: b.is_error ? `Error: ${content}` : content });
  }
  const text = textOf(blocks);
  if (text) out.push({ role: 'user', content: text });
  return out;
}

const STOP: Record<string, StopReason> = {
  stop: 'end_turn',
  tool_calls: 'tool_use',
  function_call: 'tool_use',
  length: 'max_tokens',
  content_filter: 'refusal',
};

/** A Chat Completions reply as a Message: reasoning (where the server returns it) as thinking, then text, then tool calls. */
function fromChatCompletion(c: ChatCompletion, requestedModel: string): Message {
  const choice = c.choices?.[0];
  if (!choice) throw new ProviderError(`the Chat Completions reply ${c.id ?? ''} has no choices`);
  const msg = choice.message as ChatCompletion.Choice['message'] & { reasoning_content?: string | null; reasoning?: string | null };
  const content: ContentBlock[] = [];
  const reasoning = msg.reasoning_content ?? msg.reasoning;
  if (typeof reasoning === 'string' && reasoning) content.push({ type: 'thinking', thinking: reasoning, signature: '' });
  if (msg.content) content.push({ type: 'text', text: msg.content, citations: null });
  for (const call of msg.tool_calls ?? []) {
    if (call.type !== 'function') continue;
    let input: unknown;
    try {
      input = JSON.parse(call.function.arguments || '{}');
    } catch {
      input = call.function.arguments; // not JSON: the loop answers it as invalid input
    }
    content.push({ type: 'tool_use', id: call.id, name: call.function.name, input, caller: { type: 'direct' } } as ContentBlock);
  }
  const refused = typeof msg.refusal === 'string' && msg.refusal !== '';
  const u = c.usage;
  const cached = u?.prompt_tokens_details?.cached_tokens ?? 0;
  return {
    id: c.id,
    type: 'message',
    role: 'assistant',
    // The model as served (a router may name a snapshot); the requested id when the server does not say.
    model: c.model || requestedModel,
    content,
    stop_reason: refused ? 'refusal' : (STOP[choice.finish_reason] ?? 'end_turn'),
    stop_sequence: null,
    usage: {
      input_tokens: Math.max(0, (u?.prompt_tokens ?? 0) - cached),
      output_tokens: u?.completion_tokens ?? 0,
      cache_read_input_tokens: cached,
      cache_creation_input_tokens: 0,
    },
  } as Message;
}

function describeOpenAIError(mod: typeof import('openai'), e: unknown, policy: ResolvedCallPolicy): string {
  const { APIConnectionError, APIConnectionTimeoutError, APIError } = mod;
  if (e instanceof APIConnectionTimeoutError) return describeApiFailure({ kind: 'timeout' }, policy);
  if (e instanceof APIConnectionError) return describeApiFailure({ kind: 'connection', message: e.message, cause: e.cause }, policy);
  if (e instanceof APIError && typeof e.status === 'number') {
    const err = e.error as { message?: string } | undefined;
    return describeApiFailure({ kind: 'status', status: e.status, type: e.type, message: err?.message ?? e.message, requestID: e.requestID }, policy);
  }
  return errorMessage(e);
}
