import { RunRecordSchema, trialKey, type RunRecord } from './record.js';
import { formatIssues } from '../zod-issues.js';
import { createHash } from 'node:crypto';

export class MergeError extends Error {
  override name = 'MergeError';
}

/**
 * Deterministic: publishing the same shards again (a re-run of the publish job) yields the same id, which the
 * store refuses to write twice, so a result is never duplicated.
 */
function mergedRunId(startedAt: string, memberIds: readonly string[]): string {
  const stamp = startedAt.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const hash = createHash('sha256').update([...memberIds].sort().join('\n')).digest('hex').slice(0, 8);
  return `${stamp}-m${hash}`;
}

/** What must be equal for shard records to be one run: the same code, sandbox, machine kind and plan (models aside). */
function groupKey(r: RunRecord): string {
  return JSON.stringify([r.harness.gitSha, r.sandbox, r.environment, r.plan.tasks, r.plan.variants, r.plan.epochs]);
}

export interface MergeResult {
  records: RunRecord[];
  warnings: string[];
}

/**
 * Merges the records of a sharded run (several machines, one plan) into one record per group of records that
 * share code, sandbox, environment and plan. Records from different machines kinds stay separate runs: a run
 * record has one environment, and merging would misstate where a trial ran. A trial present in two records is
 * an error (shards are disjoint; a repeat means the inputs are wrong), never silently kept twice or dropped.
 * Missing shards are reported as warnings: what finished is still published.
 */
export function mergeShardRecords(inputs: readonly { file: string; record: RunRecord }[]): MergeResult {
  const warnings: string[] = [];
  const groups = new Map<string, { file: string; record: RunRecord }[]>();
  for (const input of inputs) {
    const parsed = RunRecordSchema.safeParse(input.record);
    if (!parsed.success) throw new MergeError(`${input.file}: not a valid run record:\n${formatIssues(parsed.error)}`);
    if (parsed.data.finishedAt === null) throw new MergeError(`${input.file}: the run is unfinished (finishedAt is null); finish it with --resume first`);
    const k = groupKey(parsed.data);
    groups.set(k, [...(groups.get(k) ?? []), { file: input.file, record: parsed.data }]);
  }
  const records: RunRecord[] = [];
  for (const members of groups.values()) {
    if (members.length === 1 && !members[0]!.record.plan.shard) {
      records.push(members[0]!.record);
      continue;
    }
    const seen = new Map<string, string>();
    for (const m of members) {
      for (const t of m.record.trials) {
        const key = trialKey(t);
        const other = seen.get(key);
        if (other) throw new MergeError(`trial ${key} is in both ${other} and ${m.file}: shards must be disjoint (was one shard uploaded twice?)`);
        seen.set(key, m.file);
      }
    }
    const counts = new Set(members.map((m) => m.record.plan.shard?.count ?? 1));
    if (counts.size === 1) {
      const n = [...counts][0]!;
      const present = new Set(members.map((m) => m.record.plan.shard?.index ?? 1));
      const missing = Array.from({ length: n }, (_, i) => i + 1).filter((i) => !present.has(i));
      const models = [...new Set(members.flatMap((m) => m.record.plan.models))];
      if (missing.length) warnings.push(`run of ${models.join(', ')}: shard(s) ${missing.map((i) => `${i}/${n}`).join(', ')} missing; publishing the ${present.size} that finished`);
    }
    const first = members.map((m) => m.record).sort((a, b) => a.startedAt.localeCompare(b.startedAt))[0]!;
    const finishedAt = members.map((m) => m.record.finishedAt!).sort().at(-1)!;
    records.push({
      ...first,
      runId: mergedRunId(first.startedAt, members.map((m) => m.record.runId)),
      finishedAt,
      plan: { ...withoutShard(first.plan), models: [...new Set(members.flatMap((m) => m.record.plan.models))] },
      mergedFrom: members.map((m) => m.record.runId).sort(),
      trials: members.flatMap((m) => m.record.trials),
    });
  }
  return { records, warnings };
}

function withoutShard(plan: RunRecord['plan']): RunRecord['plan'] {
  const { shard: _shard, ...rest } = plan;
  return rest;
}
