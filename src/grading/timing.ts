import type { SandboxExecResult } from '../sandbox/types.js';

/**
 * Wall-time measurement of sandboxed runs, taken from the harness side: the clock is read in this
 * process around ctx.sandbox.exec, where nothing the sandboxed code does can reach it. It includes
 * the fixed cost of a run (sandbox start, interpreter, imports), which a caller that needs pure work
 * time estimates from runs it trusts (see tasks/ml-training-optimization/check.py).
 *
 * Roles (e.g. baseline and candidate) are interleaved round by round, and the order alternates between
 * rounds (A B, B A, A B ...), so drift in the machine's load falls on both sides alike.
 */

export interface TimedRun<R extends string, P> {
  role: R;
  /** 0-based round. */
  round: number;
  /** Position in the overall sequence of runs, 0-based. */
  seq: number;
  /** Seconds from just before exec to its resolution, read with the harness's monotonic clock. */
  wallSec: number;
  /** What setup() returned for this run. */
  prepared: P;
  result: SandboxExecResult;
}

export interface InterleavedSpec<R extends string, P> {
  roles: readonly R[];
  rounds: number;
  /** Untimed: make this run's fresh folder and inputs. */
  setup(role: R, round: number): Promise<P>;
  /** Timed: only this call is inside the clock. */
  exec(prepared: P, role: R, round: number): Promise<SandboxExecResult>;
  /**
   * Untimed, after every run (collect outputs; throw to abort, e.g. when a trusted run failed). 'stop' ends
   * the measurement at once, before the rest of the round (the outcome is already decided: a run failed).
   */
  afterRun?(run: TimedRun<R, P>): Promise<void | 'stop'>;
  /** Untimed, after every round; 'stop' ends the measurement early (the outcome is already decided). */
  afterRound?(round: number, runs: readonly TimedRun<R, P>[]): Promise<'continue' | 'stop'>;
  signal?: AbortSignal;
}

/** The order of the roles in a round: as given in even rounds, reversed in odd ones. */
export function roundOrder<R>(roles: readonly R[], round: number): R[] {
  return round % 2 === 0 ? [...roles] : [...roles].reverse();
}

/** Runs every role once per round, interleaved, timing each exec from outside. One run at a time. */
export async function runInterleaved<R extends string, P>(spec: InterleavedSpec<R, P>): Promise<TimedRun<R, P>[]> {
  if (!Number.isInteger(spec.rounds) || spec.rounds < 1) throw new RangeError(`rounds must be a positive integer, got ${spec.rounds}`);
  if (spec.roles.length === 0 || new Set(spec.roles).size !== spec.roles.length) throw new RangeError('roles must be distinct and non-empty');
  const runs: TimedRun<R, P>[] = [];
  for (let round = 0; round < spec.rounds; round++) {
    for (const role of roundOrder(spec.roles, round)) {
      spec.signal?.throwIfAborted();
      const prepared = await spec.setup(role, round);
      const start = process.hrtime.bigint();
      const result = await spec.exec(prepared, role, round);
      const wallSec = Number(process.hrtime.bigint() - start) / 1e9;
      const run: TimedRun<R, P> = { role, round, seq: runs.length, wallSec, prepared, result };
      runs.push(run);
      if ((await spec.afterRun?.(run)) === 'stop') return runs;
    }
    if (spec.afterRound && (await spec.afterRound(round, runs)) === 'stop') break;
  }
  return runs;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new RangeError('median of an empty list');
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Median wall seconds per role. */
export function medianWallByRole<R extends string, P>(runs: readonly TimedRun<R, P>[]): Partial<Record<R, number>> {
  const by = new Map<R, number[]>();
  for (const r of runs) by.set(r.role, [...(by.get(r.role) ?? []), r.wallSec]);
  const out: Partial<Record<R, number>> = {};
  for (const [role, xs] of by) out[role] = median(xs);
  return out;
}
