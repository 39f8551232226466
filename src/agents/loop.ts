import type {
  ContentBlockParam,
  Message,
  MessageCreateParamsNonStreaming,
  MessageParam,
  TextBlockParam,
  Tool,
  ToolResultBlockParam,
  ToolUseBlock,
} from '@anthropic-ai/sdk/resources/messages';
import { z } from 'zod';
import type { Limits } from './limits.js';
import { callPolicyOf, DEFAULT_CALL_POLICY, resolveCallPolicy, type CallPolicy, type MessagesClient, type ResolvedCallPolicy } from './client.js';
import { addUsage, costUsd, ZERO_USAGE, type Usage } from './prices.js';
import { SUBMIT_TOOL_NAME, type ToolContext, type ToolDef, type ToolResult } from './tool.js';
import type { TranscriptSink } from './transcript.js';
import { assistantContent, describeApiError, errorMessage, thinkingFor, usageOf } from './messages.js';
import { deadline, raceAbort } from '../deadline.js';

export interface AgentLoopOptions {
  /** An Anthropic SDK client, or another provider behind the same interface (src/agents/openai-client.ts). */
  client: MessagesClient;
  model: string;
  thinkingBudget: number | null;
  system: string;
  prompt: string;
  tools: ToolDef[];
  /** Input schema of the submit_answer tool; a valid call ends the trial. Must be a zod object. */
  submission: z.ZodType;
  limits: Limits;
  toolContext: Omit<ToolContext, 'signal'>;
  /** e.g. a TranscriptLog's sink for this trial; flushed before runAgentLoop returns unless deferFlush. */
  transcript: TranscriptSink;
  /** Aborting ends the loop with { kind: 'error', error: 'aborted' }. */
  signal?: AbortSignal;
  /** Largest max_tokens of one call (default 16000); the trial's remaining budget may lower it. */
  maxTokensPerCall?: number;
  /** Defaults to the policy the client was created with, else DEFAULT_CALL_POLICY. */
  callPolicy?: CallPolicy;
  /** Return without waiting for the transcript to reach disk; the caller must await transcript.flush(). */
  deferFlush?: boolean;
}

interface LoopStats {
  usage: Usage;
  /** Model calls made. */
  turns: number;
  durationMs: number;
  /** The model id the API reported in its last answer (the snapshot that served the alias); null before any answer. */
  servedModel?: string | null;
}

export type LoopOutcome = LoopStats &
  (
    | { kind: 'submitted'; submission: unknown }
    | { kind: 'limit'; limit: 'turns' | 'tokens' | 'time' | NonNullable<ToolResult['endsTrial']>['limit']; detail: string }
    | { kind: 'no-submission'; detail: string }
    | { kind: 'error'; error: string }
  );

type OutcomeBody = LoopOutcome extends infer O ? (O extends LoopStats ? Omit<O, keyof LoopStats> : never) : never;

const DEFAULT_MAX_TOKENS_PER_CALL = 16_000;

export const NUDGE_TEXT =
  'You did not call a tool. Continue working with the tools, or call submit_answer with your final answer.';

const SUBMIT_DESCRIPTION =
  'Submit your final answer. A valid call ends the task at once: nothing after it runs. An invalid one is answered with the problem.';

const EPHEMERAL = { type: 'ephemeral' } as const;

/** Thrown inside the loop when the trial's signal fires; turned into a time/aborted outcome. */
/** Internal control flow (ends every trial); built without a stack trace, which nobody reads. */
class TrialStopped extends Error {
  constructor(message: string) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
  }
}

/**
 * Runs one agent trial: calls the model with the whole history each turn, runs its tool calls,
 * and ends on a valid submit_answer, a limit, two idle turns in a row, or an API failure.
 * Never throws for API problems and never outlives its time limit.
 */
export async function runAgentLoop(opts: AgentLoopOptions): Promise<LoopOutcome> {
  const started = Date.now();
  const { limits, transcript } = opts;
  // Resolved inside drive() so a bad policy becomes an error outcome rather than a throw.
  let policy: ResolvedCallPolicy = DEFAULT_CALL_POLICY;
  const maxTokensPerCall = opts.maxTokensPerCall ?? DEFAULT_MAX_TOKENS_PER_CALL;
  let usage: Usage = { ...ZERO_USAGE };
  let turns = 0;
  let servedModel: string | null = null;

  // One controller for the trial: the time limit and the caller's signal both abort it,
  // which aborts the in-flight API call (through the SDK's signal) and running tools.
  // A model call that outlives its bound (policy.maxCallMs) also aborts it: that ends the trial as an error.
  const trial = new AbortController();
  let stopCause: 'time' | 'aborted' | 'bound' | null = null;
  const stop = (cause: 'time' | 'aborted' | 'bound') => {
    stopCause ??= cause;
    trial.abort(new TrialStopped(cause));
  };
  // The trial's time limit and the caller's signal, through the deadline every bound in the harness uses.
  const due = deadline(limits.timeLimitSec * 1000, opts.signal);
  const onDue = () => stop(due.timedOut() ? 'time' : 'aborted');
  if (due.signal.aborted) onDue();
  else due.signal.addEventListener('abort', onDue, { once: true });

  const stoppedOutcome = (): OutcomeBody =>
    stopCause === 'time'
      ? { kind: 'limit', limit: 'time', detail: `time limit of ${limits.timeLimitSec}s reached` }
      : stopCause === 'bound'
        ? { kind: 'error', error: boundMessage() }
        : { kind: 'error', error: 'aborted' };
  const boundMessage = () => `API call exceeded its ${policy.maxCallMs} ms bound (retries included) and was abandoned`;
  // Whether a tool other than submit_answer was started: only those can still be running at the end.
  let toolsStarted = false;

  let body: OutcomeBody;
  try {
    body = await drive();
  } catch (e) {
    // Only bugs and setup errors (e.g. a non-object schema) land here; API errors are handled in callModel.
    body = trial.signal.aborted ? stoppedOutcome() : { kind: 'error', error: errorMessage(e) };
  } finally {
    due.dispose();
    due.signal.removeEventListener('abort', onDue);
    // Tools still running (ones that ignore their signal) are told to stop.
    if (toolsStarted && !trial.signal.aborted) trial.abort(new TrialStopped('done'));
  }

  const outcome = { ...body, usage, turns, durationMs: Date.now() - started, servedModel } as LoopOutcome;
  transcript.write({
    type: 'end',
    outcome: body,
    usage,
    turns,
    durationMs: outcome.durationMs,
    costUsd: costUsd(opts.model, usage),
  });
  // deferFlush: the caller awaits the flush itself (the scheduler does, after freeing the trial's slot).
  if (!opts.deferFlush) await transcript.flush();
  return outcome;

  async function drive(): Promise<OutcomeBody> {
    policy = opts.callPolicy ? resolveCallPolicy(opts.callPolicy) : (callPolicyOf(opts.client) ?? DEFAULT_CALL_POLICY);
    const { toolsByName, toolParams, transcriptTools, validNames } = toolSetOf(opts.tools, opts.submission);
    const system: TextBlockParam[] | undefined = opts.system
      ? [{ type: 'text', text: opts.system, cache_control: EPHEMERAL }]
      : undefined; // the API rejects empty text blocks

    transcript.write({
      type: 'meta',
      model: opts.model,
      thinkingBudget: opts.thinkingBudget,
      system: opts.system,
      prompt: opts.prompt,
      tools: transcriptTools,
      limits,
      maxTokensPerCall,
      callPolicy: policy,
    });

    const toolContext: ToolContext = { ...opts.toolContext, signal: trial.signal };
    const history: MessageParam[] = [{ role: 'user', content: [{ type: 'text', text: opts.prompt }] }];
    const budget = limits.outputTokenBudget;
    let idleTurns = 0;

    for (;;) {
      if (trial.signal.aborted) return stoppedOutcome();
      if (turns >= limits.maxTurns) {
        return { kind: 'limit', limit: 'turns', detail: `${limits.maxTurns} model calls made without a valid submission` };
      }
      const remaining = budget - usage.outputTokens;
      if (remaining <= 0) return tokensOutcome();

      const maxTokens = Math.min(maxTokensPerCall, remaining);
      const thinking = thinkingFor(opts.thinkingBudget, maxTokens);
      const params: MessageCreateParamsNonStreaming = {
        model: opts.model,
        max_tokens: maxTokens,
        ...(system ? { system } : {}),
        tools: toolParams,
        messages: withNewestBreakpoint(history),
        ...(thinking ? { thinking } : {}),
      };
      turns++;
      const turn = turns;
      transcript.write({
        type: 'request',
        turn,
        max_tokens: maxTokens,
        thinking: thinking ?? null,
        messageCount: history.length,
        outputTokensUsed: usage.outputTokens,
      });

      const callStart = Date.now();
      const res = await callModel(params);
      if ('error' in res) {
        transcript.write({ type: 'api_error', turn, error: res.error });
        return { kind: 'error', error: res.error };
      }
      const msg = res.message;
      if (typeof msg.model === 'string' && msg.model) servedModel = msg.model;
      usage = addUsage(usage, usageOf(msg));
      transcript.write({
        type: 'assistant',
        turn,
        id: msg.id,
        stop_reason: msg.stop_reason,
        content: msg.content,
        usage: msg.usage,
        durationMs: Date.now() - callStart,
      });
      history.push({ role: 'assistant', content: assistantContent(msg.content) });

      if (msg.stop_reason === 'refusal') return { kind: 'no-submission', detail: 'the model refused (stop_reason "refusal")' };
      if (msg.stop_reason === 'model_context_window_exceeded') {
        return { kind: 'error', error: 'the conversation exceeded the model context window' };
      }

      const toolUses = msg.content.filter((b): b is ToolUseBlock => b.type === 'tool_use');
      // A max_tokens stop that ends on a tool_use cut that call off mid-input: answer it, don't run it.
      const cutOff =
        msg.stop_reason === 'max_tokens' && msg.content[msg.content.length - 1]?.type === 'tool_use'
          ? toolUses[toolUses.length - 1]
          : undefined;
      const results: ContentBlockParam[] = [];
      let calls = 0;
      for (const use of toolUses) {
        const t0 = Date.now();
        let result: ToolResult;
        if (use === cutOff) {
          result = {
            content: `Your call to "${use.name}" was cut off by the max_tokens limit before its input was complete, so it did not run. Call it again with shorter input.`,
            isError: true,
          };
        } else {
          calls++;
          if (use.name === SUBMIT_TOOL_NAME) {
            const parsed = await opts.submission.safeParseAsync(use.input);
            if (parsed.success) return { kind: 'submitted', submission: parsed.data }; // later calls are ignored
            result = { content: invalidInput(SUBMIT_TOOL_NAME, parsed.error), isError: true };
          } else {
            result = await runTool(use, toolsByName.get(use.name), validNames, toolContext);
            // A limit of the whole trial (the workspace's disk bound) ends it as the model's failure.
            if (result.endsTrial) return { kind: 'limit', limit: result.endsTrial.limit, detail: result.endsTrial.detail };
          }
        }
        const block: ToolResultBlockParam = {
          type: 'tool_result',
          tool_use_id: use.id,
          content: result.content === '' ? '(no output)' : result.content, // empty content blocks are rejected
          ...(result.isError ? { is_error: true } : {}),
        };
        results.push(block);
        transcript.write({
          type: 'tool_result',
          turn,
          tool_use_id: use.id,
          name: use.name,
          is_error: !!result.isError,
          content: result.content,
          durationMs: Date.now() - t0,
        });
      }

      // Priority when several apply: spent budget, then giving up, then turns (checked at the top).
      if (usage.outputTokens >= budget) return tokensOutcome();
      if (calls === 0) {
        idleTurns++;
        if (idleTurns >= 2) {
          return { kind: 'no-submission', detail: 'two consecutive turns without a tool call' };
        }
        results.push({ type: 'text', text: NUDGE_TEXT });
        transcript.write({ type: 'user', turn, text: NUDGE_TEXT });
      } else {
        idleTurns = 0;
      }
      history.push({ role: 'user', content: results });
    }
  }

  function tokensOutcome(): OutcomeBody {
    return {
      kind: 'limit',
      limit: 'tokens',
      detail: `output-token budget of ${limits.outputTokenBudget} spent (${usage.outputTokens} used) without a valid submission`,
    };
  }

  /**
   * One Messages API call with the SDK's retries, bounded in total by policy.maxCallMs. The call gets the
   * trial's own signal (the SDK removes its listener when the request settles) and the bound is a plain
   * timer that stops the trial: a derived signal per call (AbortSignal.any + timeout) was a measurable
   * share of the harness's own time per trial, and a call past its bound ends the trial anyway.
   */
  async function callModel(params: MessageCreateParamsNonStreaming): Promise<{ message: Message } | { error: string }> {
    const bound = setTimeout(() => stop('bound'), Math.min(policy.maxCallMs, 2 ** 31 - 1));
    try {
      const pending = opts.client.messages.create(params, {
        signal: trial.signal,
        maxRetries: policy.maxAttempts - 1,
        timeout: policy.requestTimeoutMs,
      });
      // The race guarantees we return when the signal fires, whatever stage the SDK is in.
      return { message: await raceAbort(Promise.resolve(pending), trial.signal) };
    } catch (e) {
      if (stopCause === 'bound') return { error: boundMessage() };
      if (trial.signal.aborted) throw new TrialStopped(stopCause ?? 'aborted');
      return { error: describeApiError(e, policy) };
    } finally {
      clearTimeout(bound);
    }
  }

  async function runTool(
    use: ToolUseBlock,
    tool: ToolDef | undefined,
    validNames: string,
    ctx: ToolContext,
  ): Promise<ToolResult> {
    if (!tool) return { content: `Unknown tool "${use.name}". Valid tools: ${validNames}.`, isError: true };
    const parsed = await tool.input.safeParseAsync(use.input);
    if (!parsed.success) return { content: invalidInput(tool.name, parsed.error), isError: true };
    try {
      toolsStarted = true;
      const run = tool.run(parsed.data, ctx);
      run.catch(() => {}); // it may settle after we stopped waiting for it
      return await raceAbort(run, trial.signal);
    } catch (e) {
      if (trial.signal.aborted) throw new TrialStopped(stopCause ?? 'aborted');
      // Message only: stacks are harness internals, not the model's business.
      return { content: `Tool "${tool.name}" failed: ${errorMessage(e)}`, isError: true };
    }
  }
}

/** A tool's JSON schema is the same for every trial of a task: made once per zod schema. */
const jsonSchemaCache = new WeakMap<z.ZodType, Record<string, unknown>>();

interface ToolSet {
  toolsByName: Map<string, ToolDef>;
  /** As sent: the task's tools, then submit_answer, with the cache breakpoint on the last. Never mutated. */
  toolParams: Tool[];
  /** As written to the transcript's meta line; one array per task, so the run's log writes it once. */
  transcriptTools: Array<{ name: string; description: string; input_schema: unknown }>;
  validNames: string;
}

/** Made once per (tools, submission schema): the same for every trial of a task. */
const toolSetCache = new WeakMap<ToolDef[], WeakMap<z.ZodType, ToolSet>>();

function toolSetOf(tools: ToolDef[], submission: z.ZodType): ToolSet {
  let bySubmission = toolSetCache.get(tools);
  const cached = bySubmission?.get(submission);
  if (cached) return cached;
  const toolParams: Tool[] = [
    ...tools.map((t) => toolParam(t.name, t.description, t.input)),
    toolParam(SUBMIT_TOOL_NAME, SUBMIT_DESCRIPTION, submission),
  ];
  // Breakpoint on the last tool caches the whole tool list (tools come before system in the prefix).
  const lastTool = toolParams[toolParams.length - 1]!;
  toolParams[toolParams.length - 1] = { ...lastTool, cache_control: EPHEMERAL };
  const set: ToolSet = {
    toolsByName: new Map(tools.map((t) => [t.name, t])),
    toolParams,
    transcriptTools: toolParams.map((t) => ({ name: t.name, description: t.description ?? '', input_schema: t.input_schema })),
    validNames: toolParams.map((t) => t.name).join(', '),
  };
  if (!bySubmission) toolSetCache.set(tools, (bySubmission = new WeakMap()));
  bySubmission.set(submission, set);
  return set;
}

/** JSON schema of a zod schema as the API wants it: an object schema, without $schema. */
function toolParam(name: string, description: string, schema: z.ZodType): Tool {
  let js = jsonSchemaCache.get(schema);
  if (!js) {
    js = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
    delete js.$schema;
    jsonSchemaCache.set(schema, js);
  }
  if (js.type !== 'object') {
    throw new Error(`the input schema of tool "${name}" must be a zod object (its JSON schema has type ${JSON.stringify(js.type)})`);
  }
  return { name, description, input_schema: js as Tool.InputSchema };
}

/**
 * History with one cache breakpoint, on the last block of the newest message. History itself is
 * stored without cache_control, so earlier breakpoints never accumulate (the API allows 4 in all).
 */
function withNewestBreakpoint(history: MessageParam[]): MessageParam[] {
  const last = history[history.length - 1]!;
  const blocks: ContentBlockParam[] =
    typeof last.content === 'string' ? [{ type: 'text', text: last.content }] : [...last.content];
  const i = blocks.length - 1;
  blocks[i] = { ...blocks[i], cache_control: EPHEMERAL } as ContentBlockParam;
  return [...history.slice(0, -1), { ...last, content: blocks } as MessageParam];
}

function invalidInput(name: string, error: z.ZodError): string {
  return `Invalid input for tool "${name}":\n${z.prettifyError(error)}`;
}

