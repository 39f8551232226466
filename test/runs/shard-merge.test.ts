import { describe, expect, it } from 'vitest';
import { ShardSchema, shardTrials } from '../../src/runs/shard.js';
import { mergeShardRecords, MergeError } from '../../src/runs/merge.js';
import { RunRecordSchema, trialKey } from '../../src/runs/record.js';
import { parseCommandArgs, RunArgsSchema, UsageError } from '../../src/cli/args.js';
import { makeRunRecord, makeTrial } from '../support/records.js';

describe('shards: one plan spread over machines', () => {
  it('parses i/n and rejects what is not a shard, naming the fix', () => {
    expect(ShardSchema.parse('2/4')).toEqual({ index: 2, count: 4 });
    for (const bad of ['0/4', '5/4', '1/0', 'a/b', '1-4', '']) expect(ShardSchema.safeParse(bad).success, bad).toBe(false);
    expect(() => parseCommandArgs('run', ['--models', 'oracle', '--shard', '3/2'], RunArgsSchema)).toThrow(/--shard: the shard index i must be between 1 and n/);
    expect(() => parseCommandArgs('run', ['--resume', 'x.json', '--shard', '1/2'], RunArgsSchema)).toThrow(UsageError);
  });

  it('splits any plan into disjoint shards that cover it exactly, each with a share of every task', () => {
    const plan = Array.from({ length: 23 }, (_, i) => `${['a', 'b', 'c'][i % 3]}${i}`);
    for (const n of [1, 2, 3, 5, 23, 30]) {
      const parts = Array.from({ length: n }, (_, i) => shardTrials(plan, { index: i + 1, count: n }));
      expect(parts.flat().sort()).toEqual([...plan].sort());
      expect(new Set(parts.flat()).size).toBe(plan.length);
      const sizes = parts.map((p) => p.length);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    }
    expect(new Set(shardTrials(plan, { index: 1, count: 2 }).map((t) => t[0])).size).toBe(3);
  });
});

describe('mergeShardRecords', () => {
  const shardRecord = (id: string, index: number, count: number, epochs: number[], over: Parameters<typeof makeRunRecord>[2] = {}) =>
    makeRunRecord(
      id,
      epochs.map((epoch) => makeTrial({ model: 'anthropic:m', epoch, status: epoch % 2 ? 'failed' : 'passed' })),
      { startedAt: `2026-11-21T0${index}:00:00.000Z`, finishedAt: `2026-11-21T0${index}:30:00.000Z`, ...over, plan: { tasks: ['t'], models: ['anthropic:m'], variants: null, epochs: 4, shard: { index, count } } },
    );

  it('merges the shards of one run into one valid record with every trial once and a deterministic id', () => {
    const inputs = [
      { file: 'a.json', record: shardRecord('r1', 1, 2, [0, 2]) },
      { file: 'b.json', record: shardRecord('r2', 2, 2, [1, 3]) },
    ];
    const { records, warnings } = mergeShardRecords(inputs);
    expect(warnings).toEqual([]);
    expect(records).toHaveLength(1);
    const m = records[0]!;
    expect(RunRecordSchema.parse(m)).toBeTruthy();
    expect(m.trials.map(trialKey).sort()).toEqual([0, 1, 2, 3].map((e) => `t/v/s/anthropic:m/${e}`));
    expect(m.plan.shard).toBeUndefined();
    expect(m.mergedFrom).toEqual(['r1', 'r2']);
    expect(m.startedAt).toBe('2026-11-21T01:00:00.000Z');
    expect(m.finishedAt).toBe('2026-11-21T02:30:00.000Z');
    // Publishing the same shards again (in any order) gives the same id, which the store will not write twice.
    expect(mergeShardRecords([...inputs].reverse()).records[0]!.runId).toBe(m.runId);
  });

  it('warns about a missing shard and publishes the rest', () => {
    const { records, warnings } = mergeShardRecords([{ file: 'a.json', record: shardRecord('r1', 1, 3, [0]) }, { file: 'c.json', record: shardRecord('r3', 3, 3, [2]) }]);
    expect(records[0]!.trials).toHaveLength(2);
    expect(warnings).toEqual([expect.stringMatching(/shard\(s\) 2\/3 missing/)]);
  });

  it('refuses a trial present in two shards (one shard uploaded twice) instead of counting it twice', () => {
    expect(() => mergeShardRecords([{ file: 'a.json', record: shardRecord('r1', 1, 2, [0, 2]) }, { file: 'a-copy.json', record: shardRecord('r9', 2, 2, [2]) }])).toThrow(
      new MergeError('trial t/v/s/anthropic:m/2 is in both a.json and a-copy.json: shards must be disjoint (was one shard uploaded twice?)'),
    );
  });

  it('keeps records from different machines kinds as separate runs: a record has one environment', () => {
    const gpu = { node: 'v20', platform: 'linux-x64', python: '3.11', torch: '2.4.0', gpu: 'NVIDIA H100' };
    const { records } = mergeShardRecords([
      { file: 'a.json', record: shardRecord('r1', 1, 2, [0]) },
      { file: 'b.json', record: shardRecord('r2', 2, 2, [1], { environment: gpu }) },
    ]);
    expect(records).toHaveLength(2);
    expect(records.map((r) => r.environment.gpu).sort()).toEqual(['NVIDIA H100', null].sort());
  });

  it('rejects an unfinished or invalid record by file name', () => {
    expect(() => mergeShardRecords([{ file: 'x.json', record: shardRecord('r1', 1, 1, [0], { finishedAt: null }) }])).toThrow(/x\.json: the run is unfinished/);
    const bad = { ...shardRecord('r1', 1, 1, [0]), schemaVersion: 7 } as never;
    expect(() => mergeShardRecords([{ file: 'y.json', record: bad }])).toThrow(/y\.json: not a valid run record/);
  });

  it('passes an unsharded record through unchanged', () => {
    const r = makeRunRecord('solo', [makeTrial()]);
    expect(mergeShardRecords([{ file: 's.json', record: r }]).records).toEqual([r]);
  });
});
