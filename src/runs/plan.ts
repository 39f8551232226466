import type { LoadedTask } from '../tasks/load.js';
import type { AgentSpec } from '../agents/model-spec.js';
import type { TrialSpec } from './trial.js';
import { trialKey } from './record.js';

export class PlanError extends Error {
  override name = 'PlanError';
}

/**
 * Expands tasks x variants x samples x agents x epochs into trials.
 * variants: null = each task's default variant; ['all'] = every variant; otherwise the named ones
 * (each must exist in at least one of the chosen tasks; tasks without it are left out of that variant).
 */
export function planTrials(
  tasks: LoadedTask[],
  agents: { name: string; spec: AgentSpec }[],
  variants: string[] | null,
  epochs: number,
): TrialSpec[] {
  if (variants && !(variants.length === 1 && variants[0] === 'all')) {
    const known = new Set(tasks.flatMap((t) => t.variants.map((v) => v.id)));
    const unknown = variants.filter((v) => !known.has(v));
    if (unknown.length) {
      throw new PlanError(`--variants: unknown variant(s) ${unknown.join(', ')}. Known for these tasks: ${[...known].sort().join(', ')}`);
    }
  }
  const trials: TrialSpec[] = [];
  for (const task of tasks) {
    const chosen =
      variants === null
        ? [task.defaultVariant]
        : variants[0] === 'all'
          ? task.variants
          : task.variants.filter((v) => variants.includes(v.id));
    for (const variant of chosen)
      for (const sample of task.def.samples)
        for (const agent of agents)
          for (let epoch = 0; epoch < epochs; epoch++)
            trials.push({ task, variant, sampleId: sample.id, agent: agent.spec, agentName: agent.name, epoch });
  }
  return trials;
}

export function specKey(t: TrialSpec): string {
  return trialKey({ task: t.task.def.id, variant: t.variant.id, sample: t.sampleId, model: t.agentName, epoch: t.epoch });
}
