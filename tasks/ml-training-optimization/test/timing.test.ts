import { describe, expect, it } from 'vitest';
import { median, medianWallByRole, roundOrder, runInterleaved } from '../../../src/grading/timing.js';
import type { SandboxExecResult } from '../../../src/sandbox/types.js';

/** src/grading/timing.ts, the interleaved outside-clock runner this task's grader is built on. */

const result = (durationMs: number): SandboxExecResult => ({
  exitCode: 0, signalName: null, stdout: '', stderr: '', stdoutTruncated: false, stderrTruncated: false,
  killedBy: null, durationMs, peakMemoryMb: 0, cpuMs: null,
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('runInterleaved', () => {
  it('alternates the order each round and times only exec, from outside', async () => {
    const log: string[] = [];
    const runs = await runInterleaved({
      roles: ['base', 'cand'] as const,
      rounds: 3,
      async setup(role, round) {
        log.push(`setup ${role} ${round}`);
        await sleep(250); // untimed
        return `${role}-${round}`;
      },
      async exec(p, role) {
        log.push(`exec ${p}`);
        await sleep(role === 'base' ? 120 : 10);
        return result(0);
      },
    });
    expect(runs.map((r) => `${r.role}${r.round}`)).toEqual(['base0', 'cand0', 'cand1', 'base1', 'base2', 'cand2']);
    expect(runs.map((r) => r.seq)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(log.slice(0, 4)).toEqual(['setup base 0', 'exec base-0', 'setup cand 0', 'exec cand-0']);
    for (const r of runs) {
      if (r.role === 'base') expect(r.wallSec).toBeGreaterThanOrEqual(0.115);
      // The 250 ms of setup are outside the clock (bounds loose for a loaded machine).
      else expect(r.wallSec).toBeLessThan(0.2);
    }
    const med = medianWallByRole(runs);
    expect(med.base! / med.cand!).toBeGreaterThan(2);
  });

  it('stops after the round where afterRound says stop, and afterRun sees every run', async () => {
    const seen: string[] = [];
    const runs = await runInterleaved({
      roles: ['a', 'b'] as const,
      rounds: 5,
      setup: async () => null,
      exec: async () => result(0),
      afterRun: async (r) => void seen.push(`${r.role}${r.round}`),
      afterRound: async (round) => (round === 1 ? 'stop' : 'continue'),
    });
    expect(runs).toHaveLength(4);
    expect(seen).toEqual(['a0', 'b0', 'b1', 'a1']);
  });

  it('stops at once, mid-round, where afterRun says stop: no later run is set up and afterRound is not called', async () => {
    const setups: string[] = [];
    const rounds: number[] = [];
    const runs = await runInterleaved({
      roles: ['a', 'b'] as const,
      rounds: 5,
      setup: async (role, round) => void setups.push(`${role}${round}`),
      exec: async () => result(0),
      afterRun: async (r) => (r.role === 'b' && r.round === 1 ? 'stop' : undefined),
      afterRound: async (round) => {
        rounds.push(round);
        return 'continue';
      },
    });
    // Round 1 runs b first (the order alternates), so a1 never starts.
    expect(runs.map((r) => `${r.role}${r.round}`)).toEqual(['a0', 'b0', 'b1']);
    expect(setups).toEqual(['a0', 'b0', 'b1']);
    expect(rounds).toEqual([0]);
  });

  it('propagates a failure of afterRun (a trusted run that failed) and refuses bad specs', async () => {
    await expect(
      runInterleaved({
        roles: ['a'] as const,
        rounds: 2,
        setup: async () => null,
        exec: async () => result(0),
        afterRun: async () => {
          throw new Error('baseline broke');
        },
      }),
    ).rejects.toThrow('baseline broke');
    await expect(runInterleaved({ roles: ['a'] as const, rounds: 0, setup: async () => null, exec: async () => result(0) })).rejects.toThrow(RangeError);
    await expect(runInterleaved({ roles: ['a', 'a'] as const, rounds: 1, setup: async () => null, exec: async () => result(0) })).rejects.toThrow(RangeError);
  });

  it('honours an aborted signal before starting a run', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(runInterleaved({ roles: ['a'] as const, rounds: 1, signal: ac.signal, setup: async () => null, exec: async () => result(0) })).rejects.toThrow();
  });
});

describe('median and roundOrder', () => {
  it('median of odd and even lists; an empty list is an error', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow(RangeError);
  });
  it('reverses the order in odd rounds', () => {
    expect(roundOrder(['a', 'b', 'c'], 0)).toEqual(['a', 'b', 'c']);
    expect(roundOrder(['a', 'b', 'c'], 1)).toEqual(['c', 'b', 'a']);
  });
});
