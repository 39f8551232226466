import { z } from 'zod';

/** Which agent runs a trial, as parsed from a spec string such as `anthropic:claude-sonnet-4-5+thinking=4000`. */
export type AgentSpec =
  | { kind: 'oracle' }
  | { kind: 'nop' }
  | {
      kind: 'anthropic';
      /** Model id as sent to the Messages API, e.g. "claude-sonnet-4-5" or "claude-haiku-4-5-20251001". */
      model: string;
      /** Extended-thinking budget in tokens, or null for no thinking. */
      thinkingBudget: number | null;
      /** The canonical spec string (stable; used to name result rows). */
      spec: string;
    }
  | {
      /** Any Chat Completions endpoint (OPENAI_BASE_URL): OpenAI, vLLM, SGLang, Ollama, OpenRouter, LiteLLM. */
      kind: 'openai';
      /** Model id as the server names it, e.g. "gpt-4.1-mini", "meta-llama/Llama-3.1-8B-Instruct", "qwen2.5:7b". */
      model: string;
      /** Always null: Chat Completions has no thinking budget (a server's reasoning output is still recorded). */
      thinkingBudget: null;
      spec: string;
    };

/** A model agent (either provider): what runs the agent loop, as opposed to oracle and nop. */
export type ModelAgentSpec = Extract<AgentSpec, { kind: 'anthropic' | 'openai' }>;

export function isModelAgent(a: AgentSpec): a is ModelAgentSpec {
  return a.kind === 'anthropic' || a.kind === 'openai';
}

const AGENT_SPEC_EXAMPLES = [
  'oracle',
  'nop',
  'anthropic:claude-sonnet-4-5',
  'anthropic:claude-haiku-4-5-20251001',
  'anthropic:claude-sonnet-4-5+thinking=4000',
  'openai:gpt-4.1-mini',
  'openai:meta-llama/Llama-3.1-8B-Instruct',
] as const;

/** The API rejects thinking budgets below this. */
export const MIN_THINKING_BUDGET = 1024;

const examples = `valid examples: ${AGENT_SPEC_EXAMPLES.join(', ')}`;

const modelId = z
  .string()
  .min(1, 'the model id after "anthropic:" is empty')
  .regex(/^[A-Za-z0-9][A-Za-z0-9._@-]*$/, 'a model id uses letters, digits, ".", "-", "_" and "@" only (e.g. "claude-sonnet-4-5")');

const thinkingBudget = z.coerce
  .number({ error: 'thinking=<budget> needs a whole number of tokens, e.g. thinking=4000' })
  .int('thinking=<budget> needs a whole number of tokens, e.g. thinking=4000')
  .min(MIN_THINKING_BUDGET, `thinking budget must be at least ${MIN_THINKING_BUDGET} tokens (the API minimum)`);

function parseAnthropic(rest: string, ctx: z.RefinementCtx): AgentSpec | typeof z.NEVER {
  const [model = '', ...options] = rest.split('+');
  const m = modelId.safeParse(model);
  if (!m.success) {
    ctx.addIssue({ code: 'custom', message: m.error.issues[0]?.message ?? 'invalid model id' });
    return z.NEVER;
  }
  let budget: number | null = null;
  for (const opt of options) {
    const eq = opt.indexOf('=');
    const key = eq < 0 ? opt : opt.slice(0, eq);
    const value = eq < 0 ? '' : opt.slice(eq + 1);
    if (key !== 'thinking') {
      ctx.addIssue({ code: 'custom', message: `unknown option "+${opt}" (the only option is +thinking=<budget tokens>)` });
      return z.NEVER;
    }
    if (budget !== null) {
      ctx.addIssue({ code: 'custom', message: 'thinking is given twice' });
      return z.NEVER;
    }
    // z.coerce turns "" into 0; catch the missing value with its own message.
    const b = value === '' ? null : thinkingBudget.safeParse(value);
    if (!b || !b.success) {
      ctx.addIssue({
        code: 'custom',
        message: b ? (b.error.issues[0]?.message ?? 'bad thinking budget') : 'thinking needs a budget, e.g. +thinking=4000',
      });
      return z.NEVER;
    }
    budget = b.data;
  }
  const spec = `anthropic:${m.data}${budget === null ? '' : `+thinking=${budget}`}`;
  return { kind: 'anthropic', model: m.data, thinkingBudget: budget, spec };
}

/** Server-side ids also use "/" (vLLM, OpenRouter) and ":" (Ollama tags). */
const openaiModelId = z
  .string()
  .min(1, 'the model id after "openai:" is empty')
  .regex(/^[A-Za-z0-9][A-Za-z0-9._@/:-]*$/, 'a model id uses letters, digits, ".", "-", "_", "@", "/" and ":" only (e.g. "gpt-4.1-mini")');

function parseOpenAI(rest: string, ctx: z.RefinementCtx): AgentSpec | typeof z.NEVER {
  if (rest.includes('+')) {
    ctx.addIssue({ code: 'custom', message: 'openai:<model> takes no options (+thinking is for anthropic: models)' });
    return z.NEVER;
  }
  const m = openaiModelId.safeParse(rest);
  if (!m.success) {
    ctx.addIssue({ code: 'custom', message: m.error.issues[0]?.message ?? 'invalid model id' });
    return z.NEVER;
  }
  return { kind: 'openai', model: m.data, thinkingBudget: null, spec: `openai:${m.data}` };
}

/** Parses an agent spec string; use in config/CLI schemas. */
const AgentSpecSchema = z.string().transform((raw, ctx): AgentSpec => {
  const s = raw.trim();
  if (s === 'oracle') return { kind: 'oracle' };
  if (s === 'nop') return { kind: 'nop' };
  if (s.startsWith('anthropic:')) return parseAnthropic(s.slice('anthropic:'.length), ctx);
  if (s.startsWith('openai:')) return parseOpenAI(s.slice('openai:'.length), ctx);
  const hint = /^claude/i.test(s) ? ` (did you mean "anthropic:${s}"?)` : /^gpt|^o\d/i.test(s) ? ` (did you mean "openai:${s}"?)` : '';
  ctx.addIssue({ code: 'custom', message: `unknown agent "${s}"${hint}; use oracle, nop, anthropic:<model-id> or openai:<model-id>` });
  return z.NEVER;
});

/** Parses a spec or throws an Error saying what was wrong, with valid examples. */
export function parseAgentSpec(raw: string): AgentSpec {
  const r = AgentSpecSchema.safeParse(raw);
  if (r.success) return r.data;
  const why = r.error.issues.map((i) => i.message).join('; ');
  throw new Error(`invalid agent spec "${raw}": ${why}. ${examples}`);
}
