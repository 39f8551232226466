import { promises as fs, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { TaskDefinitionSchema, type Limits, type TaskDefinition } from './define.js';
import { formatIssues } from '../zod-issues.js';

import { REPO_ROOT, TASKS_DIR } from '../config.js';

// Re-exported for the callers that load tasks; the paths themselves live in src/config.ts.
export { REPO_ROOT, TASKS_DIR };

export class TaskDefinitionError extends Error {
  override name = 'TaskDefinitionError';
}

export interface Variant {
  id: string;
  description: string;
  limits: Limits;
  isDefault: boolean;
}

export interface LoadedTask {
  def: TaskDefinition;
  dir: string;
  file: string;
  variants: Variant[];
  defaultVariant: Variant;
  /** The prompt for a variant and sample, placeholders filled in. */
  renderPrompt(variantId: string, sampleId: string): { system: string; user: string };
}

const PLACEHOLDER = /\{\{\s*(file:)?([\w./-]+)\s*\}\}/g;

function rel(p: string): string {
  return path.relative(process.cwd(), p) || p;
}

/**
 * Imports tasks/<id>/task.ts and validates it. Every error names the file, the field and what to do.
 * Prompts and starter files are read and every (variant, sample) prompt is rendered once here, so a
 * missing file or an unknown {{placeholder}} fails at load time, not in the middle of a run.
 */
export async function loadTask(dir: string): Promise<LoadedTask> {
  const file = path.join(dir, 'task.ts');
  const where = rel(file);
  if (!existsSync(file)) throw new TaskDefinitionError(`${where}: missing. A task folder needs a task.ts that default-exports defineTask({...}).`);
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
  } catch (e) {
    throw new TaskDefinitionError(`${where}: failed to import: ${(e as Error).message}`);
  }
  if (mod.default === undefined) throw new TaskDefinitionError(`${where}: no default export. Write \`export default defineTask({...})\`.`);
  const parsed = TaskDefinitionSchema.safeParse(mod.default);
  if (!parsed.success) throw new TaskDefinitionError(`${where}: invalid task definition:\n${formatIssues(parsed.error)}`);
  const def = parsed.data;
  if (def.id !== path.basename(dir)) {
    throw new TaskDefinitionError(`${where}: id: "${def.id}" must equal the folder name "${path.basename(dir)}"`);
  }

  const readMd = async (name: string, field: string): Promise<string> => {
    const p = path.join(dir, name);
    try {
      return await fs.readFile(p, 'utf8');
    } catch {
      throw new TaskDefinitionError(`${where}: ${field}: file "${name}" not found beside task.ts (${rel(p)})`);
    }
  };
  const system = def.prompt.system ? await readMd(def.prompt.system, 'prompt.system') : '';
  const userPrompts = new Map<string, string>();
  for (const [i, v] of def.variants.entries()) {
    userPrompts.set(v.id, await readMd(v.prompt ?? def.prompt.user, v.prompt ? `variants.${i}.prompt` : 'prompt.user'));
  }
  for (const [dest, src] of Object.entries(def.starterFiles)) {
    if (!existsSync(path.join(dir, src))) throw new TaskDefinitionError(`${where}: starterFiles.${dest}: "${src}" not found in the task folder`);
  }

  const variants: Variant[] = def.variants.map((v) => ({
    id: v.id,
    description: v.description,
    limits: { ...def.limits, ...(v.limits ?? {}) },
    isDefault: v.default === true,
  }));
  const fileCache = new Map<string, string>();
  const fill = (template: string, inputs: Record<string, unknown>, field: string): string =>
    template.replace(PLACEHOLDER, (_m, isFile: string | undefined, name: string) => {
      if (isFile) {
        const p = path.join(dir, name);
        if (!p.startsWith(dir + path.sep)) throw new TaskDefinitionError(`${where}: ${field}: {{file:${name}}} must stay inside the task folder`);
        if (!fileCache.has(p)) {
          if (!existsSync(p)) throw new TaskDefinitionError(`${where}: ${field}: {{file:${name}}}: no such file in the task folder`);
          fileCache.set(p, readFileSyncUtf8(p));
        }
        return fileCache.get(p)!;
      }
      if (!(name in inputs)) {
        throw new TaskDefinitionError(`${where}: ${field}: placeholder {{${name}}} has no value; add it to the sample's inputs or use {{file:NAME}}`);
      }
      const v = inputs[name];
      return typeof v === 'string' ? v : JSON.stringify(v);
    });

  const renderPrompt = (variantId: string, sampleId: string) => {
    const sample = def.samples.find((s) => s.id === sampleId);
    if (!sample) throw new TaskDefinitionError(`${where}: no sample "${sampleId}" (have: ${def.samples.map((s) => s.id).join(', ')})`);
    const user = userPrompts.get(variantId);
    if (user === undefined) throw new TaskDefinitionError(`${where}: no variant "${variantId}" (have: ${def.variants.map((v) => v.id).join(', ')})`);
    return { system: fill(system, sample.inputs, 'prompt.system'), user: fill(user, sample.inputs, `prompt of variant ${variantId}`) };
  };
  for (const v of def.variants) for (const s of def.samples) renderPrompt(v.id, s.id);

  return { def, dir, file, variants, defaultVariant: variants.find((v) => v.isDefault)!, renderPrompt };
}


function readFileSyncUtf8(p: string): string {
  return readFileSync(p, 'utf8');
}

/** Loads every task folder (or the named ones), in id order. ENVBENCH_TASKS_DIR points elsewhere (test fixtures). */
export async function loadTasks(ids?: string[], root = process.env.ENVBENCH_TASKS_DIR ?? TASKS_DIR): Promise<LoadedTask[]> {
  const entries = (await fs.readdir(root, { withFileTypes: true }))
    .filter((e) => e.isDirectory() && existsSync(path.join(root, e.name, 'task.ts')))
    .map((e) => e.name)
    .sort();
  if (ids) {
    const unknown = ids.filter((id) => !entries.includes(id));
    if (unknown.length) throw new TaskDefinitionError(`unknown task(s): ${unknown.join(', ')}. Available: ${entries.join(', ') || '(none)'}`);
  }
  const chosen = ids ?? entries;
  return Promise.all(chosen.map((id) => loadTask(path.join(root, id))));
}
