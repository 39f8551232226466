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
    };

export const AGENT_SPEC_EXAMPLES = [
  'oracle',
  'nop',
  'anthropic:claude-sonnet-4-5',
  'anthropic:claude-haiku-4-5-20251001',
  'anthropic:claude-sonnet-4-5+thinking=4000',
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

/** Parses an agent spec string; use in config/CLI schemas. */
export const AgentSpecSchema = z.string().transform((raw, ctx): AgentSpec => {
  const s = raw.trim();
  if (s === 'oracle') return { kind: 'oracle' };
  if (s === 'nop') return { kind: 'nop' };
  if (s.startsWith('anthropic:')) return parseAnthropic(s.slice('anthropic:'.length), ctx);
  const hint = /^claude/i.test(s) ? ` (did you mean "anthropic:${s}"?)` : '';
  ctx.addIssue({ code: 'custom', message: `unknown agent "${s}"${hint}; use oracle, nop or anthropic:<model-id>` });
  return z.NEVER;
});

/** Parses a spec or throws an Error saying what was wrong, with valid examples. */
export function parseAgentSpec(raw: string): AgentSpec {
  const r = AgentSpecSchema.safeParse(raw);
  if (r.success) return r.data;
  const why = r.error.issues.map((i) => i.message).join('; ');
  throw new Error(`invalid agent spec "${raw}": ${why}. ${examples}`);
}

/** The canonical string for a parsed spec (round-trips through parseAgentSpec). */
export function formatAgentSpec(agent: AgentSpec): string {
  return agent.kind === 'anthropic' ? agent.spec : agent.kind;
}
