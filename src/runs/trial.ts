import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { LoadedTask, Variant } from '../tasks/load.js';
import type { Sandbox } from '../sandbox/types.js';
import type { PythonEnv } from '../python/env.js';
import { usesGpu, type RequirementCheck } from '../python/requirements.js';
import { isModelAgent, type AgentSpec } from '../agents/model-spec.js';
import { runAgentLoop, type LoopOutcome } from '../agents/loop.js';
import { deadline, formatLimit, raceAbort } from '../deadline.js';
import { gradeSubmission } from '../grading/grade.js';
import type { TranscriptLog } from '../agents/transcript.js';
import { costUsd } from '../agents/prices.js';
import type { CallPolicy, MessagesClient } from '../agents/client.js';
import type { Check } from '../grading/types.js';
import { openJudgeSession, type JudgeSetup } from './judge-session.js';
import { ZERO_USAGE, trialKey, type TrialResult, type Usage } from './record.js';
import { taskVersion } from '../tasks/version.js';
import { environmentGaps, gradingProfileOf } from '../tasks/grading-profile.js';


export interface TrialSpec {
  task: LoadedTask;
  variant: Variant;
  sampleId: string;
  agent: AgentSpec;
  /** The agent spec as written (e.g. "anthropic:claude-haiku-4-5"); recorded as the trial's model. */
  agentName: string;
  epoch: number;
}

export interface TrialEnv {
  sandbox: Sandbox;
  python: PythonEnv;
  /** Result of the task's requirement check, done once per run before any model call. */
  requirements: RequirementCheck;
  /** Needed for anthropic agents only (and the judge). */
  client?: MessagesClient;
  /** Needed for openai agents only. */
  openaiClient?: MessagesClient;
  callPolicy?: CallPolicy;
  /** Scratch folder for workspaces (removed after each trial unless keepWorkspaces). */
  workRoot: string;
  /** The run's transcript log (one JSONL file, lines tagged with the trial key); its path is recorded relative to recordDir. */
  transcripts: TranscriptLog;
  recordDir: string;
  keepWorkspaces?: boolean;
  signal?: AbortSignal;
  /**
   * When given, work that must finish before the trial is journaled (the transcript reaching disk) is
   * handed here instead of awaited, so the scheduler can start the next trial meanwhile.
   */
  defer?: (work: Promise<void>) => void;
  /** The LLM judge for judge-graded tasks, or why there is none; its usage is recorded apart (TrialResult.judge). */
  judge?: JudgeSetup;
  /** Bound on grading one submission; default GRADING_TIME_LIMIT_MS. */
  gradingTimeLimitMs?: number;
  /** The harness version recorded in each trial's provenance ("<package version>+<git commit>"). */
  harness?: string;
  /** Grade model trials here even when checks their task declares decisive cannot run (run --partial-grading). */
  allowPartialGrading?: boolean;
}

function safeName(s: string): string {
  return s.replace(/[^\w.-]+/g, '_');
}

function failedWithout(detail: string): Check[] {
  return [{ name: 'submitted', passed: false, detail }];
}

/**
 * Runs one trial to a result; never throws. The status says whose outcome it is:
 * `failed` is the model's (including hitting a limit), `error` is the harness's or the API's,
 * `skipped` means it could not be attempted here.
 */
export async function runTrial(spec: TrialSpec, env: TrialEnv): Promise<TrialResult> {
  const started = Date.now();
  const { task, variant, sampleId, agent, epoch } = spec;
  const base = {
    task: task.def.id,
    variant: variant.id,
    sample: sampleId,
    model: spec.agentName,
    epoch,
  };
  let taskHash: string | null = null;
  let servedModel: string | null = null;
  const declared = task.def.environmentChecks;
  const finish = (r: Partial<TrialResult> & Pick<TrialResult, 'status'>, usage: Usage = ZERO_USAGE): TrialResult => ({
    ...base,
    ...(taskHash && {
      provenance: {
        taskHash,
        harness: env.harness ?? 'unknown',
        servedModel,
        grading: r.status === 'skipped' ? null : gradingProfileOf(declared, env.python, r.checks ?? []),
      },
    }),
    score: 0,
    checks: [],
    limit: null,
    usage,
    costUsd: isModelAgent(agent) ? costUsd(agent.model, usage) : 0,
    durationMs: Date.now() - started,
    error: null,
    transcript: null,
    turns: 0,
    finishedAt: new Date().toISOString(),
    ...r,
  });

  try {
    taskHash = await taskVersion(task, variant.id);
  } catch (e) {
    return finish({ status: 'error', error: `could not hash the task's files for its version: ${(e as Error).message}` });
  }
  if (!env.requirements.ok) {
    return finish({ status: 'skipped', error: `${env.requirements.reason}. Install: ${env.requirements.hint}` });
  }
  // A pass graded without the checks that decide the task would be a different measurement: not made unless asked for.
  const decisiveGaps = environmentGaps(declared, env.python).filter((g) => g.decisive);
  const isModel = agent.kind !== 'oracle' && agent.kind !== 'nop'; // any model agent, whatever its API
  if (isModel && decisiveGaps.length && !env.allowPartialGrading) {
    return finish({
      status: 'skipped',
      error:
        `the checks that decide this task cannot run here: ${decisiveGaps.map((g) => `${g.check} (${g.why})`).join(', ')}. ` +
        'Run it where they can (a GPU runner), or pass --partial-grading to grade without them (a partial grading profile, reported apart)',
    });
  }

  const key = safeName(`${base.task}__${base.variant}__${base.sample}__${base.model}__${epoch}`);
  // workRoot is fresh for each run, so the trial folder is new: nothing to clear first.
  const trialDir = path.join(env.workRoot, key);
  const workspace = path.join(trialDir, 'workspace');
  const tmpDir = path.join(trialDir, 'tmp');
  const gpu = usesGpu(task.def.requirements, env.python);
  // A workspace exists for the agent's tools and starter files; a task with neither needs none.
  const needsWorkspace = isModelAgent(agent) && (task.def.tools.length > 0 || Object.keys(task.def.starterFiles).length > 0);
  // Whether anything was created under trialDir, so there is something to remove.
  let madeDirs = needsWorkspace;
  try {
    if (needsWorkspace) {
      await fs.mkdir(workspace, { recursive: true });
      await fs.mkdir(tmpDir);
    }
    for (const [dest, src] of needsWorkspace ? Object.entries(task.def.starterFiles) : []) {
      const to = path.join(workspace, dest);
      await fs.mkdir(path.dirname(to), { recursive: true });
      await fs.copyFile(path.join(task.dir, src), to);
    }
  } catch (e) {
    return finish({ status: 'error', error: `could not set up the workspace: ${(e as Error).message}` });
  }

  try {
    const sample = task.def.samples.find((s) => s.id === sampleId)!;
    let outcome: LoopOutcome;
    let transcriptRel: string | null = null;
    if (isModelAgent(agent)) {
      const client = agent.kind === 'openai' ? env.openaiClient : env.client;
      if (!client) return finish({ status: 'error', error: agent.kind === 'openai' ? 'no OpenAI client configured (set OPENAI_API_KEY)' : 'no Anthropic client configured (set ANTHROPIC_API_KEY)' });
      const { system, user } = task.renderPrompt(variant.id, sampleId);
      transcriptRel = path.relative(env.recordDir, env.transcripts.path);
      const transcript = env.transcripts.sink(trialKey(base));
      outcome = await runAgentLoop({
        client,
        model: agent.model,
        thinkingBudget: agent.thinkingBudget,
        system,
        prompt: user,
        tools: task.def.tools,
        submission: task.def.submission,
        limits: variant.limits,
        toolContext: { workspace, tmpDir, sandbox: env.sandbox, python: env.python, gpu, limits: {} },
        transcript,
        signal: env.signal,
        callPolicy: env.callPolicy,
        deferFlush: Boolean(env.defer),
      });
      env.defer?.(transcript.flush());
    } else {
      // oracle and nop go through the same submission validation and grader as a model.
      const factory = agent.kind === 'oracle' ? task.def.reference : task.def.noop;
      // The task's own code, but bounded like a model's attempt: a reference that never returns is a broken task, not a hang.
      const limitMs = variant.limits.timeLimitSec * 1000;
      const due = deadline(limitMs, env.signal);
      let submission: unknown;
      try {
        submission = await raceAbort(
          Promise.resolve().then(() => factory({ taskDir: task.dir, sampleId, variantId: variant.id, inputs: sample.inputs })),
          due.signal,
        );
      } catch (e) {
        if (!due.timedOut()) throw e; // the factory's own failure, or the run was interrupted
        return finish({ status: 'error', error: `${agent.kind}: the task's ${agent.kind === 'oracle' ? 'reference' : 'no-op'} submission was not made within the time limit of ${formatLimit(limitMs)}` });
      } finally {
        due.dispose();
      }
      outcome = { kind: 'submitted', submission, usage: ZERO_USAGE, turns: 0, durationMs: Date.now() - started };
    }

    servedModel = outcome.servedModel ?? null;
    const common = { usage: outcome.usage, turns: outcome.turns, transcript: transcriptRel };
    switch (outcome.kind) {
      case 'error':
        return finish({ ...common, status: 'error', error: outcome.error }, outcome.usage);
      case 'limit':
        return finish({ ...common, status: 'failed', limit: outcome.limit, checks: failedWithout(`no submission: ${outcome.detail}`) }, outcome.usage);
      case 'no-submission':
        return finish({ ...common, status: 'failed', checks: failedWithout(outcome.detail) }, outcome.usage);
      case 'submitted': {
        // The loop already validated a model's submit_answer input; the oracle's and nop's are checked here.
        const valid = isModelAgent(agent) ? { success: true as const, data: outcome.submission } : task.def.submission.safeParse(outcome.submission);
        if (!valid.success) {
          // A model's submission is validated by the loop; reaching here means the task's own reference/no-op is malformed.
          return finish({ ...common, status: 'error', error: `${agent.kind} submission does not match the task's submission schema: ${valid.error.message}` }, outcome.usage);
        }
        const judging = openJudgeSession(env.judge);
        const gradingDir = path.join(trialDir, 'grading');
        let made: Promise<string> | null = null;
        const grade = await gradeSubmission(task, {
          sampleId, variantId: variant.id, submission: valid.data, sandbox: env.sandbox, python: env.python, gpu,
          workDir: () => {
            madeDirs = true;
            return (made ??= fs.mkdir(gradingDir, { recursive: true }).then(() => gradingDir));
          },
          signal: env.signal, timeLimitMs: env.gradingTimeLimitMs, judge: judging.ctx,
        });
        // The judge's usage is kept even when grading failed: it was spent.
        const judge = await judging.save(trialKey(base), env.recordDir);
        const judged = judge ? { judge } : {};
        if ('error' in grade) return finish({ ...common, ...judged, status: 'error', error: grade.error }, outcome.usage);
        return finish(
          { ...common, ...judged, status: grade.passed ? 'passed' : 'failed', score: grade.score, checks: [{ name: 'submitted', passed: true, detail: 'submit_answer called with valid input' }, ...grade.checks] },
          outcome.usage,
        );
      }
      default: {
        const never: never = outcome;
        return finish({ status: 'error', error: `unknown loop outcome ${JSON.stringify(never)}` });
      }
    }
  } catch (e) {
    return finish({ status: 'error', error: `harness error: ${(e as Error).stack ?? String(e)}` });
  } finally {
    if (madeDirs && !env.keepWorkspaces) await fs.rm(trialDir, { recursive: true, force: true }).catch(() => {});
  }
}
