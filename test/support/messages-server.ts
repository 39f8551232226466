/**
 * A local, scripted stand-in for the Anthropic Messages API (POST /v1/messages), for driving the
 * real SDK over real HTTP in tests and benchmarks. No test-framework imports: usable anywhere.
 *
 *   const server = await startMessagesServer((body, i) => i === 0 ? toolUseReply('bash', { cmd: 'ls' }) : textReply('done'));
 *   const client = new Anthropic({ apiKey: 'test', baseURL: server.url });
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';

// ---------- wire shapes (as the real API sends them) ----------

export type ContentBlockJson =
  | { type: 'text'; text: string; citations?: null }
  | { type: 'tool_use'; id: string; name: string; input: unknown }
  | { type: 'thinking'; thinking: string; signature: string }
  | { type: 'redacted_thinking'; data: string };

export type StopReason = 'end_turn' | 'max_tokens' | 'stop_sequence' | 'tool_use' | 'pause_turn' | 'refusal';

export interface UsageJson {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
}

export interface MessageJson {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: ContentBlockJson[];
  stop_reason: StopReason | null;
  stop_sequence: string | null;
  usage: UsageJson & {
    cache_creation: { ephemeral_5m_input_tokens: number; ephemeral_1h_input_tokens: number };
    service_tier: 'standard';
  };
}

/** The request body, loosely typed: tests read whatever they need from it. */
export type RequestBody = Record<string, any> & { model: string; max_tokens: number; messages: any[] };

// ---------- scripting ----------

export interface MessageReply {
  type: 'message';
  content: ContentBlockJson[];
  /** Default: 'tool_use' if content has a tool_use block, else 'end_turn'. */
  stop_reason?: StopReason;
  /**
   * Token counts (defaults: rough length-based estimates, zero cache tokens). A scripted
   * output_tokens is what the model "wants" to generate: above the request's
   * max_tokens the server truncates like the API (output_tokens = max_tokens, stop_reason
   * 'max_tokens', tool_use blocks dropped as never completed).
   */
  usage?: Partial<UsageJson>;
  /** Wait before answering. */
  delayMs?: number;
}

export interface ErrorReply {
  type: 'error';
  status: number;
  /** Default from the status: 429 rate_limit_error, 529 overloaded_error, 500 api_error... */
  errorType?: string;
  message?: string;
  /** retry-after header, seconds. */
  retryAfter?: number;
  /** retry-after-ms header. */
  retryAfterMs?: number;
  headers?: Record<string, string>;
  delayMs?: number;
}

/** Destroy the socket without answering (after delayMs). */
export interface DropReply {
  type: 'drop';
  delayMs?: number;
}

/** Never answer; the connection stays open until the client gives up. */
export interface HangReply {
  type: 'hang';
}

export type Reply = MessageReply | ErrorReply | DropReply | HangReply;

/** Called for each valid request with its body and 0-based index among all requests. */
export type Handler = (body: RequestBody, callIndex: number) => Reply | Promise<Reply>;

export interface RecordedRequest {
  index: number;
  body: RequestBody;
  headers: Record<string, string | string[] | undefined>;
  /** performance.now() when the body was read. */
  receivedAt: number;
  /** performance.now() when the reply was sent / socket dropped; undefined if never. */
  finishedAt?: number;
  /** What happened: HTTP status sent, 'drop', or 'client-closed' (client went away first). */
  result?: number | 'drop' | 'client-closed';
}

export interface MessagesServer {
  /** Base URL for the SDK, e.g. http://127.0.0.1:43817 */
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** Replace the script (the call index keeps counting). */
  setHandler(handler: Handler): void;
  close(): Promise<void>;
}

// ---------- reply helpers ----------

const rid = (prefix: string) => `${prefix}_${randomBytes(12).toString('hex')}`;

export function textBlock(text: string): ContentBlockJson {
  return { type: 'text', text, citations: null };
}

export function thinkingBlock(thinking: string): ContentBlockJson {
  // The real signature is opaque; the server checks it comes back unchanged.
  return { type: 'thinking', thinking, signature: signatureOf(thinking) };
}

export function toolUseBlock(name: string, input: unknown, id: string = rid('toolu')): ContentBlockJson {
  return { type: 'tool_use', id, name, input };
}

export function messageReply(content: ContentBlockJson[], opts: Omit<MessageReply, 'type' | 'content'> = {}): MessageReply {
  return { type: 'message', content, ...opts };
}

export function textReply(text: string, opts: Omit<MessageReply, 'type' | 'content'> = {}): MessageReply {
  return messageReply([textBlock(text)], opts);
}

/** A reply calling one tool, optionally after some text and/or a thinking block. */
export function toolUseReply(
  name: string,
  input: unknown,
  opts: Omit<MessageReply, 'type' | 'content'> & { text?: string; thinking?: string; id?: string } = {},
): MessageReply {
  const { text, thinking, id, ...rest } = opts;
  const content: ContentBlockJson[] = [];
  if (thinking !== undefined) content.push(thinkingBlock(thinking));
  if (text !== undefined) content.push(textBlock(text));
  content.push(toolUseBlock(name, input, id));
  return messageReply(content, rest);
}

export function errorReply(status: number, opts: Omit<ErrorReply, 'type' | 'status'> = {}): ErrorReply {
  return { type: 'error', status, ...opts };
}

// ---------- server ----------

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  504: 'timeout_error',
  529: 'overloaded_error',
};

const DEFAULT_ERROR_MESSAGES: Record<string, string> = {
  rate_limit_error: 'Number of request tokens has exceeded your per-minute rate limit',
  overloaded_error: 'Overloaded',
  api_error: 'Internal server error',
  authentication_error: 'invalid x-api-key',
};

function signatureOf(thinking: string): string {
  return 'sig_' + Buffer.from(thinking).toString('base64');
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'request-id': rid('req'),
    ...headers,
  });
  res.end(text);
}

function sendError(res: ServerResponse, status: number, type: string, message: string, headers?: Record<string, string>) {
  sendJson(res, status, { type: 'error', error: { type, message }, request_id: rid('req') }, headers);
}

/** Rough request validation mirroring the real API's 400s. Returns the problem, or null. */
export function validateRequest(body: unknown): string | null {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'request body must be a JSON object';
  const b = body as Record<string, any>;
  if (typeof b.model !== 'string' || b.model === '') return 'model: Field required';
  if (!Number.isInteger(b.max_tokens) || b.max_tokens < 1) return 'max_tokens: must be a positive integer';
  if (!Array.isArray(b.messages) || b.messages.length === 0) return 'messages: at least one message is required';
  if (b.stream) return 'stream: this test server does not implement streaming';

  let breakpoints = 0;
  const countCc = (x: any) => {
    if (x && typeof x === 'object' && x.cache_control) breakpoints++;
  };
  if (Array.isArray(b.system)) b.system.forEach(countCc);
  else if (b.system !== undefined && typeof b.system !== 'string') return 'system: must be a string or a list of text blocks';
  if (b.tools !== undefined) {
    if (!Array.isArray(b.tools)) return 'tools: must be a list';
    for (const [i, t] of b.tools.entries()) {
      if (typeof t?.name !== 'string' || !/^[a-zA-Z0-9_-]{1,64}$/.test(t.name)) return `tools.${i}.name: invalid`;
      if (t.input_schema?.type !== 'object') return `tools.${i}.input_schema.type: Input should be 'object'`;
      countCc(t);
    }
  }

  const thinkingOn = b.thinking?.type === 'enabled';
  if (thinkingOn) {
    const bt = b.thinking.budget_tokens;
    if (!Number.isInteger(bt) || bt < 1024) return 'thinking.enabled.budget_tokens: Input should be greater than or equal to 1024';
    if (bt >= b.max_tokens) return '`max_tokens` must be greater than `thinking.budget_tokens`';
    if (b.temperature !== undefined && b.temperature !== 1) return '`temperature` may only be set to 1 when thinking is enabled.';
    if (b.tool_choice?.type === 'tool' || b.tool_choice?.type === 'any') return 'Thinking may not be enabled when tool_choice forces tool use.';
  }
  if (b.tool_choice !== undefined) {
    const tc = b.tool_choice;
    if (!['auto', 'any', 'tool', 'none'].includes(tc?.type)) return "tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none'";
    if (tc.type === 'tool' && !(Array.isArray(b.tools) && b.tools.some((t: any) => t?.name === tc.name))) {
      return `tool_choice.name: no tool named ${JSON.stringify(tc.name)} in tools`;
    }
  }

  for (const [i, m] of b.messages.entries()) {
    if (m?.role !== 'user' && m?.role !== 'assistant') return `messages.${i}.role: Input should be 'user' or 'assistant'`;
    const content = typeof m.content === 'string' ? [{ type: 'text', text: m.content }] : m.content;
    if (!Array.isArray(content) || content.length === 0) {
      return `messages.${i}: all messages must have non-empty content except for the optional final assistant message`;
    }
    for (const [j, c] of content.entries()) {
      countCc(c);
      if (c?.type === 'text' && (typeof c.text !== 'string' || c.text === '')) {
        return `messages.${i}.content.${j}: text content blocks must be non-empty`;
      }
      if (c?.type === 'thinking' && c.signature !== signatureOf(c.thinking)) {
        return `messages.${i}.content.${j}: Invalid \`signature\` in \`thinking\` block`;
      }
    }
    if (i === 0 && m.role !== 'user') return 'messages.0.role: the first message must use the "user" role';
    // Every tool_use must be answered by a tool_result at the start of the next user message.
    if (m.role === 'assistant') {
      const ids = content.filter((c: any) => c?.type === 'tool_use').map((c: any) => c.id as string);
      const next = b.messages[i + 1];
      if (ids.length && next) {
        const nextContent: any[] = Array.isArray(next.content) ? next.content : [];
        const results = nextContent.filter((c) => c?.type === 'tool_result').map((c) => c.tool_use_id);
        const missing = ids.filter((id: string) => !results.includes(id));
        if (next.role !== 'user' || missing.length) {
          return `messages.${i + 1}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${missing.join(', ')}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`;
        }
        const firstNonResult = nextContent.findIndex((c) => c?.type !== 'tool_result');
        if (firstNonResult !== -1 && nextContent.slice(firstNonResult).some((c) => c?.type === 'tool_result')) {
          return `messages.${i + 1}: tool_result blocks must come before any other content`;
        }
      }
    }
  }
  // With thinking on, an assistant turn continued through tool results must start with its thinking block.
  if (thinkingOn) {
    const lastAssistant = [...b.messages].reverse().find((m: any) => m.role === 'assistant');
    const first = Array.isArray(lastAssistant?.content) ? lastAssistant.content[0] : undefined;
    const usedTools = Array.isArray(lastAssistant?.content) && lastAssistant.content.some((c: any) => c?.type === 'tool_use');
    if (usedTools && first?.type !== 'thinking' && first?.type !== 'redacted_thinking') {
      return 'Expected `thinking` or `redacted_thinking`, but found `' + first?.type + '`. When `thinking` is enabled, a final `assistant` message must start with a thinking block.';
    }
  }
  if (breakpoints > 4) return `A maximum of 4 blocks with cache_control may be provided. Found ${breakpoints}.`;
  return null;
}

function buildMessage(body: RequestBody, reply: MessageReply): MessageJson {
  let content = reply.content;
  let stop: StopReason =
    reply.stop_reason ?? (content.some((c) => c.type === 'tool_use') ? 'tool_use' : 'end_turn');
  const want = reply.usage?.output_tokens;
  // Without a scripted count, a rough estimate that never by itself causes a cut.
  let output = want ?? Math.min(body.max_tokens, Math.max(1, Math.ceil(JSON.stringify(content).length / 4)));
  if (want !== undefined && want > body.max_tokens) {
    // Like the API: generation stops at max_tokens; a tool call in progress is never completed.
    output = body.max_tokens;
    stop = 'max_tokens';
    content = content.filter((c) => c.type !== 'tool_use');
  }
  const cacheWrite = reply.usage?.cache_creation_input_tokens ?? 0;
  return {
    id: rid('msg'),
    type: 'message',
    role: 'assistant',
    model: body.model,
    content,
    stop_reason: stop,
    stop_sequence: null,
    usage: {
      input_tokens: reply.usage?.input_tokens ?? Math.ceil(JSON.stringify(body.messages).length / 4),
      output_tokens: output,
      cache_creation_input_tokens: cacheWrite,
      cache_read_input_tokens: reply.usage?.cache_read_input_tokens ?? 0,
      cache_creation: { ephemeral_5m_input_tokens: cacheWrite, ephemeral_1h_input_tokens: 0 },
      service_tier: 'standard',
    },
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Waits `ms`, or resolves false early if the client disconnects. */
function wait(ms: number, res: ServerResponse): Promise<boolean> {
  return new Promise((resolve) => {
    if (res.destroyed) return resolve(false);
    const onClose = () => {
      clearTimeout(t);
      resolve(false);
    };
    const t = setTimeout(() => {
      res.off('close', onClose);
      resolve(true);
    }, ms);
    res.once('close', onClose);
  });
}

export async function startMessagesServer(handler: Handler): Promise<MessagesServer> {
  let current = handler;
  const requests: RecordedRequest[] = [];

  const onRequest = async (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'POST' || req.url?.split('?')[0] !== '/v1/messages') {
      await readBody(req).catch(() => '');
      return sendError(res, 404, 'not_found_error', `Not found: ${req.method} ${req.url}`);
    }
    const raw = await readBody(req);
    if (!req.headers['x-api-key'] && !req.headers.authorization) {
      return sendError(res, 401, 'authentication_error', 'x-api-key header is required');
    }
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      return sendError(res, 400, 'invalid_request_error', 'request body is not valid JSON');
    }
    const rec: RecordedRequest = {
      index: requests.length,
      body: body as RequestBody,
      headers: { ...req.headers },
      receivedAt: performance.now(),
    };
    requests.push(rec);
    res.once('close', () => {
      if (rec.result === undefined) {
        rec.result = 'client-closed';
        rec.finishedAt = performance.now();
      }
    });
    const finish = (result: RecordedRequest['result']) => {
      rec.result = result;
      rec.finishedAt = performance.now();
    };

    const problem = validateRequest(body);
    if (problem) {
      finish(400);
      return sendError(res, 400, 'invalid_request_error', problem);
    }

    let reply: Reply;
    try {
      reply = await current(rec.body, rec.index);
    } catch (e) {
      finish(500);
      return sendError(res, 500, 'api_error', `test handler threw: ${e instanceof Error ? e.message : String(e)}`);
    }

    if (reply.type === 'hang') return; // the client's timeout or abort ends it
    if (reply.delayMs && !(await wait(reply.delayMs, res))) return;
    if (reply.type === 'drop') {
      finish('drop');
      req.socket.destroy();
      return;
    }
    if (reply.type === 'error') {
      const type = reply.errorType ?? ERROR_TYPES[reply.status] ?? (reply.status >= 500 ? 'api_error' : 'invalid_request_error');
      const headers: Record<string, string> = { ...reply.headers };
      if (reply.retryAfter !== undefined) headers['retry-after'] = String(reply.retryAfter);
      if (reply.retryAfterMs !== undefined) headers['retry-after-ms'] = String(reply.retryAfterMs);
      finish(reply.status);
      return sendError(res, reply.status, type, reply.message ?? DEFAULT_ERROR_MESSAGES[type] ?? type, headers);
    }
    finish(200);
    sendJson(res, 200, buildMessage(rec.body, reply));
  };

  const server: Server = createServer((req, res) => {
    onRequest(req, res).catch((e: unknown) => {
      if (!res.headersSent) sendError(res, 500, 'api_error', String(e));
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    setHandler(h) {
      current = h;
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections(); // keep-alive and hung sockets would hold close() open
      });
    },
  };
}
