/** Defaults for the main job, in one place. ENVBENCH_MODELS (comma-separated agent specs) overrides the models. */
export const DEFAULT_MODELS = ['anthropic:claude-haiku-4-5'];
export const DEFAULT_EPOCHS = 5;
export const DEFAULT_CONCURRENCY = 4;
/** The committed results store (see src/runs/store.ts): the main job adds its finished run records here. */
export const RESULTS_RUNS_DIR = 'results/runs';
/** Where validate and ad-hoc runs go when no --out is given (git-ignored). */
export const SCRATCH_RUNS_DIR = '.runs';
