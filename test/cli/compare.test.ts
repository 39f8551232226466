import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { addRunToStore } from '../../src/runs/store.js';
import { writeRunRecord } from '../../src/runs/journal.js';
import type { RunRecord } from '../../src/runs/record.js';
import { makeRunRecord, makeTrial } from '../support/records.js';

/** A run of `n` epochs of one cell, the first `passes` of which pass. */
function run(runId: string, n: number, passes: number): RunRecord {
  const trials = Array.from({ length: n }, (_, epoch) =>
    makeTrial({
      task: 'paged-attention', variant: 'budget-2900', sample: 'default', model: 'anthropic:claude-haiku-4-5', epoch,
      status: epoch < passes ? 'passed' : 'failed',
      usage: { inputTokens: 1000, outputTokens: 2000, cacheReadInputTokens: 0, cacheCreationInputTokens: 0 },
      costUsd: 0.011, durationMs: 1000, turns: 3,
    }));
  return makeRunRecord(runId, trials, { plan: { tasks: ['paged-attention'], models: ['anthropic:claude-haiku-4-5'], variants: null, epochs: n } });
}

async function cli(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (s) => out.push(s), err: (s) => err.push(s) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('compare command', () => {
  it('exits 1 and says regression when the candidate clearly dropped (40% -> 10%)', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'envbench-cmp-'));
    await writeRunRecord(path.join(dir, 'base.json'), run('base', 50, 20));
    await writeRunRecord(path.join(dir, 'cand.json'), run('cand', 40, 4));
    const r = await cli(['compare', '--baseline', path.join(dir, 'base.json'), '--candidate', path.join(dir, 'cand.json')]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/regression/i);
    expect(r.out).toMatch(/paged-attention/);
    const j = await cli(['compare', '--baseline', path.join(dir, 'base.json'), '--candidate', path.join(dir, 'cand.json'), '--format', 'json']);
    const parsed = JSON.parse(j.out);
    expect(parsed.hasRegression).toBe(true);
    expect(parsed.cells[0].verdict).toBe('regression');
  });

  it('exits 0 when nothing changed, reading the baseline from a results folder that has a bad file', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'envbench-cmp-'));
    const store = path.join(dir, 'results');
    await addRunToStore(run('20261121T000000Z-base0001', 50, 20), store);
    await fs.writeFile(path.join(store, 'junk.json'), '{');
    await writeRunRecord(path.join(dir, 'cand.json'), run('cand', 40, 16));
    const r = await cli(['compare', '--baseline', store, '--candidate', path.join(dir, 'cand.json')]);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/warning: skipped .*junk\.json: not valid JSON/);
    expect(r.out).not.toMatch(/\| regression \|/);
  });

  it.each([
    [['compare', '--candidate', 'x.json'], /--baseline: required/],
    [['compare', '--baseline', '/nope/a.json', '--candidate', '/nope/b.json'], /--baseline: \/nope\/a\.json does not exist/],
    [['compare', '--baseline', 'a', '--candidate', 'b', '--format', 'xml'], /--format: use markdown or json/],
    [['compare', '--baseline', 'a', '--candidate', 'b', '--alpha', '2'], /--alpha/],
  ])('%j exits 2 with a readable message', async (argv, pattern) => {
    const r = await cli(argv);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(pattern);
  });
});
