/**
 * A local, scripted stand-in for an OpenAI-compatible Chat Completions server (POST /v1/chat/completions), for
 * driving the real openai SDK over real HTTP. No test-framework imports: usable anywhere.
 *
 *   const server = await startChatServer((body, i) => i === 0 ? toolCallReply('echo', { text: 'a' }) : chatText('done'));
 *   const client = new OpenAI({ apiKey: 'test', baseURL: server.url + '/v1' });
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';

export type ChatBody = Record<string, any> & { model: string; messages: any[] };

export interface ToolCallJson {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface ChatReply {
  type: 'message';
  content: string | null;
  tool_calls?: ToolCallJson[];
  /** As vLLM/DeepSeek send a model's reasoning. */
  reasoning_content?: string;
  refusal?: string;
  /** Default: 'tool_calls' with tool calls, else 'stop'. */
  finish_reason?: 'stop' | 'length' | 'tool_calls' | 'content_filter';
  /** completion_tokens above the request's max_completion_tokens is cut like a server: 'length', no tool calls. */
  usage?: { prompt_tokens?: number; completion_tokens?: number; cached_tokens?: number };
  /** The model as served (default: the requested id). */
  model?: string;
  delayMs?: number;
}

export interface ChatErrorReply {
  type: 'error';
  status: number;
  message?: string;
  errorType?: string;
  retryAfter?: number;
  retryAfterMs?: number;
}

export type Reply = ChatReply | ChatErrorReply | { type: 'drop' } | { type: 'hang' };
export type Handler = (body: ChatBody, callIndex: number) => Reply | Promise<Reply>;

export interface RecordedRequest {
  index: number;
  body: ChatBody;
  headers: Record<string, string | string[] | undefined>;
  receivedAt: number;
  finishedAt?: number;
  result?: number | 'drop' | 'client-closed';
}

export interface ChatServer {
  /** Base URL for the SDK, with /v1, e.g. http://127.0.0.1:43817/v1 */
  readonly url: string;
  readonly requests: RecordedRequest[];
  close(): Promise<void>;
}

const rid = (prefix: string) => `${prefix}-${randomBytes(10).toString('hex')}`;

export function toolCall(name: string, args: unknown, id = rid('call')): ToolCallJson {
  return { id, type: 'function', function: { name, arguments: typeof args === 'string' ? args : JSON.stringify(args) } };
}

export function chatText(content: string, opts: Omit<ChatReply, 'type' | 'content'> = {}): ChatReply {
  return { type: 'message', content, ...opts };
}

export function toolCallReply(name: string, args: unknown, opts: Omit<ChatReply, 'type' | 'content' | 'tool_calls'> & { content?: string | null } = {}): ChatReply {
  const { content = null, ...rest } = opts;
  return { type: 'message', content, tool_calls: [toolCall(name, args)], ...rest };
}

export function chatError(status: number, opts: Omit<ChatErrorReply, 'type' | 'status'> = {}): ChatErrorReply {
  return { type: 'error', status, ...opts };
}

/** The checks a real server makes that a translating client could get wrong. Returns the problem, or null. */
export function validateChatRequest(b: any): string | null {
  if (typeof b !== 'object' || b === null) return 'body must be a JSON object';
  if (typeof b.model !== 'string' || !b.model) return "'model' is a required property";
  if (b.stream) return 'this test server does not stream';
  if (b.max_tokens !== undefined && b.max_completion_tokens !== undefined) return 'max_tokens and max_completion_tokens are exclusive';
  const max = b.max_completion_tokens ?? b.max_tokens;
  if (max !== undefined && (!Number.isInteger(max) || max < 1)) return 'max_completion_tokens must be a positive integer';
  if (!Array.isArray(b.messages) || !b.messages.length) return "'messages' must be a non-empty array";
  if (b.tools !== undefined) {
    if (!Array.isArray(b.tools) || !b.tools.length) return "'tools' must be a non-empty array when given";
    for (const [i, t] of b.tools.entries()) {
      if (t?.type !== 'function' || typeof t.function?.name !== 'string' || !/^[a-zA-Z0-9_-]{1,64}$/.test(t.function.name)) return `tools[${i}]: invalid function`;
      if (t.function.parameters?.type !== 'object') return `tools[${i}].function.parameters must be an object schema`;
    }
  }
  if (b.tool_choice !== undefined) {
    const tc = b.tool_choice;
    const named = typeof tc === 'object' && tc?.type === 'function' ? tc.function?.name : undefined;
    if (!(['auto', 'none', 'required'].includes(tc) || (named && b.tools?.some((t: any) => t.function.name === named)))) return 'tool_choice must be auto, none, required or a function among the tools';
  }
  let pending: string[] = [];
  for (const [i, m] of b.messages.entries()) {
    if (!['system', 'developer', 'user', 'assistant', 'tool'].includes(m?.role)) return `messages[${i}].role is invalid`;
    if (m.role === 'tool') {
      if (!pending.includes(m.tool_call_id)) return `messages[${i}]: a 'tool' message must answer a tool_call of the preceding assistant message`;
      pending = pending.filter((id) => id !== m.tool_call_id);
      if (typeof m.content !== 'string') return `messages[${i}].content must be a string`;
      continue;
    }
    if (pending.length) return `messages[${i}]: tool_call_ids without a response: ${pending.join(', ')}`;
    if (m.role === 'assistant') {
      if ((m.content === null || m.content === undefined || m.content === '') && !m.tool_calls?.length) return `messages[${i}]: an assistant message needs content or tool_calls`;
      pending = (m.tool_calls ?? []).map((c: any) => c.id);
      for (const c of m.tool_calls ?? []) {
        try {
          JSON.parse(c.function.arguments);
        } catch {
          return `messages[${i}].tool_calls: arguments must be a JSON string`;
        }
      }
    } else if (typeof m.content !== 'string' || m.content === '') return `messages[${i}].content must be a non-empty string`;
  }
  if (pending.length) return `tool_call_ids without a response: ${pending.join(', ')}`;
  return null;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'x-request-id': rid('req'), ...headers });
  res.end(text);
}

function sendError(res: ServerResponse, status: number, message: string, type: string, headers?: Record<string, string>) {
  sendJson(res, status, { error: { message, type, param: null, code: null } }, headers);
}

function completionOf(body: ChatBody, r: ChatReply) {
  const max: number | undefined = body.max_completion_tokens ?? body.max_tokens;
  let toolCalls = r.tool_calls;
  let finish = r.finish_reason ?? (toolCalls?.length ? 'tool_calls' : 'stop');
  let completion = r.usage?.completion_tokens ?? Math.max(1, Math.ceil(JSON.stringify([r.content, toolCalls]).length / 4));
  if (max !== undefined && completion > max) {
    completion = max;
    finish = 'length';
    toolCalls = undefined; // a call in progress is never completed
  }
  const prompt = r.usage?.prompt_tokens ?? Math.ceil(JSON.stringify(body.messages).length / 4);
  return {
    id: rid('chatcmpl'),
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: r.model ?? body.model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: r.content,
          refusal: r.refusal ?? null,
          ...(toolCalls?.length ? { tool_calls: toolCalls } : {}),
          ...(r.reasoning_content ? { reasoning_content: r.reasoning_content } : {}),
        },
        finish_reason: finish,
        logprobs: null,
      },
    ],
    usage: {
      prompt_tokens: prompt,
      completion_tokens: completion,
      total_tokens: prompt + completion,
      prompt_tokens_details: { cached_tokens: r.usage?.cached_tokens ?? 0 },
    },
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startChatServer(handler: Handler): Promise<ChatServer> {
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    void (async () => {
      const raw = await readBody(req);
      if (req.method !== 'POST' || req.url?.split('?')[0] !== '/v1/chat/completions') return sendError(res, 404, `no route ${req.method} ${req.url}`, 'invalid_request_error');
      if (!String(req.headers.authorization ?? '').startsWith('Bearer ')) return sendError(res, 401, 'missing bearer token', 'invalid_request_error');
      let body: ChatBody;
      try {
        body = JSON.parse(raw);
      } catch {
        return sendError(res, 400, 'body is not JSON', 'invalid_request_error');
      }
      const rec: RecordedRequest = { index: requests.length, body, headers: { ...req.headers }, receivedAt: performance.now() };
      requests.push(rec);
      const finish = (r: RecordedRequest['result']) => {
        rec.result = r;
        rec.finishedAt = performance.now();
      };
      res.once('close', () => rec.result === undefined && finish('client-closed'));
      const problem = validateChatRequest(body);
      if (problem) {
        finish(400);
        return sendError(res, 400, problem, 'invalid_request_error');
      }
      const reply = await handler(body, rec.index);
      if (reply.type === 'hang') return;
      if (reply.type === 'drop') {
        finish('drop');
        req.socket.destroy();
        return;
      }
      if (reply.type === 'error') {
        const headers: Record<string, string> = {};
        if (reply.retryAfter !== undefined) headers['retry-after'] = String(reply.retryAfter);
        if (reply.retryAfterMs !== undefined) headers['retry-after-ms'] = String(reply.retryAfterMs);
        finish(reply.status);
        const type = reply.errorType ?? (reply.status === 429 ? 'rate_limit_exceeded' : reply.status >= 500 ? 'server_error' : 'invalid_request_error');
        return sendError(res, reply.status, reply.message ?? `scripted ${reply.status}`, type, headers);
      }
      if (reply.delayMs) await new Promise((r) => setTimeout(r, reply.delayMs));
      if (res.destroyed) return;
      finish(200);
      sendJson(res, 200, completionOf(body, reply));
    })().catch((e: unknown) => {
      if (!res.headersSent) sendError(res, 500, `test server: ${String(e)}`, 'server_error');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
