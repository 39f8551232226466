import { z } from 'zod';
import type { Sandbox, SandboxLimits } from '../sandbox/types.js';
import type { PythonEnv } from '../python/env.js';

/** Everything a tool may touch: the trial's own workspace, through the sandbox. */
export interface ToolContext {
  /** Host path of the trial's workspace (mounted at /workspace in the sandbox). */
  workspace: string;
  /** Host path of the trial's private /tmp. */
  tmpDir: string;
  sandbox: Sandbox;
  python: PythonEnv;
  /** Whether GPU device nodes are bound for this task. */
  gpu: boolean;
  /** Limits for each sandboxed command a tool runs. */
  limits: Partial<SandboxLimits>;
  signal: AbortSignal;
}

export interface ToolResult {
  /** Text returned to the model as the tool_result. */
  content: string;
  isError?: boolean;
  /**
   * The tool hit a limit of the whole trial, not just of this call (the workspace filled its disk
   * bound): the trial ends `failed` with that limit, as it is the submission's doing.
   */
  endsTrial?: { limit: 'disk'; detail: string };
}

export interface ToolDef<S extends z.ZodType = z.ZodType> {
  name: string;
  description: string;
  /** Validates the model's input; also rendered as the tool's JSON schema. */
  input: S;
  run(input: z.infer<S>, ctx: ToolContext): Promise<ToolResult>;
}

/** Declares a tool once: its zod schema is both the validator and the schema the model sees. */
export function defineTool<S extends z.ZodType>(tool: ToolDef<S>): ToolDef<S> {
  return tool;
}

/** The name of the tool that ends a trial; its input schema is the task's submission schema. */
export const SUBMIT_TOOL_NAME = 'submit_answer';
