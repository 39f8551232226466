/**
 * LLM-as-judge grading: a model reads a submission and returns a verdict through one tool call. This file
 * is the judge call (runJudge, JudgeLog, JudgeError); the rubric lives in rubric.ts, judgeWithRubric in
 * rubric-judge.ts, and a run's judge session and log in src/runs/judge-session.ts.
 *
 * Public API (tasks code against this):
 *
 *   RubricSchema / defineRubric(r): Rubric
 *     { id, title, criteria: [{ id (slug), title, points (int > 0), pass, fail }],
 *       passRule: { kind: 'threshold', minPoints } | { kind: 'all' },
 *       reference?: 'file.md' (markdown beside task.ts, or under a subfolder of the task folder),
 *       instructions?: extra guidance for the judge }
 *     defineRubric validates at once and throws RubricError naming the field.
 *
 *   judgeWithRubric({ rubric, taskDir, submission, taskPrompt?, referenceFile? }, ctx)
 *     -> { judged, passed, score, checks, verdict? }
 *     checks: one `judge:<criterion id>` per criterion (passed = full points; detail "P/M points: why"),
 *     then `judge:verdict` (the pass rule; detail "T/M points ..."). score = T/M.
 *     Without ctx.judge: the same checks with passed null and detail "not run: <ctx.judgeUnavailable>",
 *     judged false, passed null, score null, so the task's grader falls back to its deterministic checks.
 *
 *   runJudge({ system, prompt, verdictTool: { name, description, input: zod object }, label?, maxTokens? }, judge, signal?)
 *     -> { verdict, usage, transcript, attempts }
 *     One tool call whose input is validated by the zod schema. Forced with tool_choice; with extended
 *     thinking (which the API does not allow with a forced tool_choice) tool_choice is auto plus an
 *     instruction, and a reply without the call is malformed. A malformed verdict is answered with the
 *     problem and retried, MAX_VERDICT_ATTEMPTS in all; then JudgeError. An API failure (after the SDK's
 *     own retries) is a JudgeError too. JudgeError extends GraderInfraError: the trial ends in `error`.
 *
 *   JudgeAccess (ctx.judge): { client, model, spec, thinkingBudget, callPolicy?, sink, maxVerdictAttempts? }
 *     The run's judge spec sets thinkingBudget; a task that needs thinking whatever the spec passes
 *     { ...ctx.judge, thinkingBudget: 10_000 } to runJudge (usage still goes to the same sink).
 *   JudgeLog: the sink runTrial gives each grading; it adds up the judge's usage and keeps its transcript,
 *     recorded apart from the agent's (TrialResult.judge, a `.judge.jsonl` file beside the agent transcript).
 *   JudgeSetup / openJudgeSession: how a run hands a judge (or the reason there is none) to each grading;
 *     the run keeps one judge log, FILE.judge.jsonl beside FILE.json, lines tagged with the trial key.
 */
import type { ContentBlockParam, Message, MessageCreateParamsNonStreaming, MessageParam, Tool, ToolUseBlock } from '@anthropic-ai/sdk/resources/messages';
import { z } from 'zod';
import { callPolicyOf, DEFAULT_CALL_POLICY, resolveCallPolicy, type CallPolicy, type MessagesClient } from '../agents/client.js';
import { assistantContent, describeApiError, thinkingFor, usageOf } from '../agents/messages.js';
import { deadline, raceAbort } from '../deadline.js';
import { addUsage, ZERO_USAGE, type Usage } from '../agents/prices.js';
import { GraderInfraError } from './types.js';
import type { JudgeAccess, JudgeSink, JudgeTranscriptEntry } from './judge-access.js';
export type { JudgeAccess, JudgeSink, JudgeTranscriptEntry } from './judge-access.js';

/** The judge could not give a valid verdict: the grading failed, not the submission. */
export class JudgeError extends GraderInfraError {
  override name = 'JudgeError';
}

/** Accumulates everything the judge did during one grading. */
export class JudgeLog implements JudgeSink {
  usage: Usage = { ...ZERO_USAGE };
  /** runJudge calls. */
  calls = 0;
  /** API requests (responses and failures). */
  requests = 0;
  readonly entries: JudgeTranscriptEntry[] = [];

  startCall(): number {
    return this.calls++;
  }
  addUsage(usage: Usage): void {
    this.usage = addUsage(this.usage, usage);
  }
  write(entry: Omit<JudgeTranscriptEntry, 'ts'>): void {
    if (entry.type === 'request') this.requests++;
    this.entries.push({ ts: new Date().toISOString(), ...entry } as JudgeTranscriptEntry);
  }
}

// ---------------------------------------------------------------- runJudge

export const MAX_VERDICT_ATTEMPTS = 3;
/** Output tokens for the verdict itself; a thinking budget is added on top. */
const DEFAULT_JUDGE_MAX_TOKENS = 8000;

export interface VerdictTool<T> {
  name: string;
  description: string;
  /** A zod object: the tool's input schema and the verdict's validator. */
  input: z.ZodType<T>;
}

export interface JudgeRequest<T> {
  system: string;
  prompt: string;
  verdictTool: VerdictTool<T>;
  /** Names this call in the transcript (e.g. the rubric id). */
  label?: string;
  /** Output tokens for the verdict (default DEFAULT_JUDGE_MAX_TOKENS); the thinking budget is added. */
  maxTokens?: number;
}

export interface JudgeResult<T> {
  verdict: T;
  /** This call's usage (also added to judge.sink). */
  usage: Usage;
  /** This call's transcript entries (also written to judge.sink). */
  transcript: JudgeTranscriptEntry[];
  /** Model replies it took (1 = first try). */
  attempts: number;
}

const EPHEMERAL = { type: 'ephemeral' } as const;

/** One verdict through one tool call; see the file header. Throws JudgeError, never returns an invalid verdict. */
export async function runJudge<T>(req: JudgeRequest<T>, judge: JudgeAccess, signal?: AbortSignal): Promise<JudgeResult<T>> {
  const { verdictTool } = req;
  const tool = verdictToolParam(verdictTool);
  const policy = judge.callPolicy ? resolveCallPolicy(judge.callPolicy) : (callPolicyOf(judge.client) ?? DEFAULT_CALL_POLICY);
  const maxAttempts = judge.maxVerdictAttempts ?? MAX_VERDICT_ATTEMPTS;
  const call = judge.sink.startCall();
  const transcript: JudgeTranscriptEntry[] = [];
  let usage: Usage = { ...ZERO_USAGE };
  const log = (entry: Omit<JudgeTranscriptEntry, 'ts' | 'call' | 'label'>) => {
    const e = { call, ...(req.label ? { label: req.label } : {}), ...entry } as Omit<JudgeTranscriptEntry, 'ts'>;
    judge.sink.write(e);
    transcript.push({ ts: new Date().toISOString(), ...e } as JudgeTranscriptEntry);
  };

  const verdictTokens = req.maxTokens ?? DEFAULT_JUDGE_MAX_TOKENS;
  const maxTokens = verdictTokens + (judge.thinkingBudget ?? 0);
  const thinking = thinkingFor(judge.thinkingBudget, maxTokens);
  // The API refuses a forced tool_choice with thinking on: ask in words instead and check the reply.
  const system = thinking
    ? `${req.system}\n\nAnswer by calling the \`${verdictTool.name}\` tool exactly once, with the complete verdict. Text outside that call is ignored.`
    : req.system;
  const toolChoice = thinking ? ({ type: 'auto' } as const) : ({ type: 'tool', name: verdictTool.name } as const);
  const history: MessageParam[] = [{ role: 'user', content: [{ type: 'text', text: req.prompt }] }];
  log({ type: 'request', model: judge.model, spec: judge.spec, thinking: thinking ?? null, system, prompt: req.prompt, tool, tool_choice: toolChoice, max_tokens: maxTokens });

  let lastProblem = '';
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const params: MessageCreateParamsNonStreaming = {
      model: judge.model,
      max_tokens: maxTokens,
      // Cached: the rubric and reference are the same for every submission of a task (and every retry).
      system: [{ type: 'text', text: system, cache_control: EPHEMERAL }],
      tools: [tool],
      tool_choice: toolChoice,
      messages: history,
      // Thinking requires the default temperature; without it, 0 keeps grading as repeatable as the API allows.
      ...(thinking ? { thinking } : { temperature: 0 }),
    };
    if (attempt > 1) log({ type: 'request', attempt, messageCount: history.length });
    const t0 = Date.now();
    let msg: Message;
    try {
      msg = await callOnce(judge.client, params, policy, signal);
    } catch (e) {
      const error = e instanceof JudgeError ? e.message : describeApiError(e, policy);
      log({ type: 'api_error', attempt, error });
      throw new JudgeError(`judge ${judge.spec}: ${error}`);
    }
    const u = usageOf(msg);
    usage = addUsage(usage, u);
    judge.sink.addUsage(u);
    log({ type: 'response', attempt, id: msg.id, stop_reason: msg.stop_reason, content: msg.content, usage: msg.usage, durationMs: Date.now() - t0 });

    const uses = msg.content.filter((b): b is ToolUseBlock => b.type === 'tool_use');
    const mine = uses.find((b) => b.name === verdictTool.name);
    let problem: string;
    if (msg.stop_reason === 'max_tokens') {
      problem = `Your reply was cut off at the ${maxTokens}-token limit before the verdict was complete. Call \`${verdictTool.name}\` again with shorter justifications.`;
    } else if (!mine) {
      problem = `You did not call the \`${verdictTool.name}\` tool. Give your verdict by calling it now, with every field filled in.`;
    } else {
      const parsed = await verdictTool.input.safeParseAsync(mine.input);
      if (parsed.success) {
        log({ type: 'verdict', attempt, verdict: parsed.data });
        return { verdict: parsed.data, usage, transcript, attempts: attempt };
      }
      problem = `The verdict is invalid:\n${z.prettifyError(parsed.error)}\nCall \`${verdictTool.name}\` again with the complete, corrected verdict.`;
    }
    lastProblem = problem.split('\n').slice(0, 6).join(' ');
    log({ type: 'malformed', attempt, problem });
    history.push({ role: 'assistant', content: assistantContent(msg.content) });
    // Every tool_use must be answered by a tool_result at the start of the next user message.
    const results: ContentBlockParam[] = uses.map((b) => ({
      type: 'tool_result',
      tool_use_id: b.id,
      content: b === mine || uses.length === 1 ? problem : `Only \`${verdictTool.name}\` is available.`,
      is_error: true,
    }));
    history.push({ role: 'user', content: results.length ? results : [{ type: 'text', text: problem }] });
  }
  throw new JudgeError(
    `judge ${judge.spec}: no valid verdict after ${maxAttempts} attempt${maxAttempts === 1 ? '' : 's'}${req.label ? ` (${req.label})` : ''}; last problem: ${lastProblem}`,
  );
}

/** One Messages API call with the SDK's retries, bounded in total by policy.maxCallMs and by `signal`. */
async function callOnce(
  client: MessagesClient,
  params: MessageCreateParamsNonStreaming,
  policy: Required<CallPolicy>,
  signal: AbortSignal | undefined,
): Promise<Message> {
  const bound = deadline(policy.maxCallMs, signal);
  try {
    const pending = client.messages.create(params, { signal: bound.signal, maxRetries: policy.maxAttempts - 1, timeout: policy.requestTimeoutMs });
    return await raceAbort(Promise.resolve(pending), bound.signal);
  } catch (e) {
    if (signal?.aborted) throw new JudgeError('aborted (the grading was stopped or ran out of time)');
    if (bound.timedOut()) throw new JudgeError(`API call exceeded its ${policy.maxCallMs} ms bound (retries included) and was abandoned`);
    throw e;
  } finally {
    bound.dispose();
  }
}

const toolParamCache = new WeakMap<z.ZodType, Record<string, unknown>>();

function verdictToolParam(t: VerdictTool<unknown>): Tool {
  let js = toolParamCache.get(t.input);
  if (!js) {
    js = z.toJSONSchema(t.input, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
    delete js.$schema;
    toolParamCache.set(t.input, js);
  }
  if (js.type !== 'object') throw new JudgeError(`verdict tool "${t.name}": its input must be a zod object`);
  return { name: t.name, description: t.description, input_schema: js as Tool.InputSchema };
}

