import { isModelAgent, parseAgentSpec } from '../agents/model-spec.js';
import { missingCredentials, type ModelClients, type Provider } from '../agents/providers.js';
import { DEFAULT_JUDGE_MODEL } from '../config.js';
import type { JudgeSetup } from '../runs/judge-session.js';
import { UsageError } from './args.js';

/*
 * Which judge a run gets (`--judge`): a model spec checked against the credentials there are, or none, with the
 * reason. The run's trials get it as a JudgeSetup.
 */

/** A run's judge before a client exists: a parsed spec, or the reason there is none. */
export type JudgeChoice = { kind: 'model'; provider: Provider; spec: string; model: string; thinkingBudget: number | null } | { kind: 'off'; reason: string };

/** Parses a judge spec; throws UsageError naming the flag. */
export function parseJudgeSpec(raw: string, flag = '--judge'): Extract<JudgeChoice, { kind: 'model' }> {
  let a;
  try {
    a = parseAgentSpec(raw);
  } catch (e) {
    throw new UsageError(`${flag}: ${(e as Error).message}`);
  }
  if (!isModelAgent(a)) throw new UsageError(`${flag}: the judge must be a model (anthropic:<model-id>[+thinking=N] or openai:<model-id>), not "${raw}"`);
  return { kind: 'model', provider: a.kind, spec: a.spec, model: a.model, thinkingBudget: a.thinkingBudget };
}

/**
 * The judge of a run. `requested`: the --judge flag (undefined: not given), or for a resumed run the
 * plan's judge (null: the run was started without one). Without a flag, runs with model agents get
 * DEFAULT_JUDGE_MODEL and runs of oracle/nop only get none, so validate never needs an API key.
 */
export function chooseJudge(requested: string | null | undefined, hasModelAgents: boolean, env: NodeJS.ProcessEnv): JudgeChoice {
  if (requested === null) return { kind: 'off', reason: 'the run was started without a judge' };
  if (requested === 'none') return { kind: 'off', reason: 'the judge is turned off (--judge none)' };
  if (requested === undefined && !hasModelAgents) {
    return { kind: 'off', reason: 'oracle and nop run without a model; pass --judge <spec> to judge them' };
  }
  const choice = parseJudgeSpec(requested ?? DEFAULT_JUDGE_MODEL);
  const missing = missingCredentials(choice.provider, env);
  if (missing) throw new UsageError(`--judge ${choice.spec} calls a model but ${missing} (or pass --judge none)`);
  return choice;
}

/** What the plan records: the judge spec, or null. */
export function planJudge(choice: JudgeChoice): string | null {
  return choice.kind === 'model' ? choice.spec : null;
}

/** The setup handed to every trial; the client is the run's for the judge's provider (one rate gate for agent and judge). */
export function judgeSetupFor(choice: JudgeChoice, clients: ModelClients, transcriptFile?: string): JudgeSetup {
  if (choice.kind === 'off') return choice;
  const client = clients[choice.provider];
  if (!client) throw new Error(`judgeSetupFor: a ${choice.provider} judge needs a ${choice.provider} client`);
  return { kind: 'model', client, model: choice.model, spec: choice.spec, thinkingBudget: choice.thinkingBudget, ...(transcriptFile ? { transcriptFile } : {}) };
}

