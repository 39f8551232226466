import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root and its tasks folder: every path the harness builds starts here. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const TASKS_DIR = path.join(REPO_ROOT, 'tasks');

/** Defaults for the main job, in one place. ENVBENCH_MODELS (comma-separated agent specs) overrides the models. */
export const DEFAULT_MODELS = ['anthropic:claude-haiku-4-5'];
export const DEFAULT_EPOCHS = 5;
/**
 * The LLM judge of judge-graded tasks when a run has model agents and no --judge (ENVBENCH_JUDGE for the
 * main job). Any anthropic:… spec, e.g. "anthropic:claude-sonnet-4-6+thinking=4000".
 * Sonnet 4.6: Sonnet 4.5 reaches end-of-life on 2026-11-30, and the Sonnet 5 line refuses the forced tool
 * call (tool_choice: tool) and manual thinking budgets that the judge's verdict relies on.
 */
export const DEFAULT_JUDGE_MODEL = 'anthropic:claude-sonnet-4-6';
export const DEFAULT_CONCURRENCY = 4;
/** The committed results store (see src/runs/store.ts): the main job adds its finished run records here. */
export const RESULTS_RUNS_DIR = 'results/runs';
/** Where validate and ad-hoc runs go when no --out is given (git-ignored). */
export const SCRATCH_RUNS_DIR = '.runs';
