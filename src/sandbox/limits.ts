import type { SandboxLimits } from './types.js';

/** Default limits for one sandboxed command. Tasks and tools override per call. */
export const DEFAULT_SANDBOX_LIMITS: SandboxLimits = {
  wallSec: 120,
  memoryMb: 4096,
  maxProcs: 256,
  outputBytes: 16 * 1024,
  fileSizeMb: 1024,
  diskMb: 4096,
};

/** Fills in defaults and rejects nonsense (a NaN or negative limit would silently mean "no limit"). */
export function resolveLimits(partial: Partial<SandboxLimits> | undefined): SandboxLimits {
  const l: SandboxLimits = { ...DEFAULT_SANDBOX_LIMITS };
  for (const [k, v] of Object.entries(partial ?? {}) as [keyof SandboxLimits, number | undefined][]) {
    if (v !== undefined) l[k] = v;
  }
  for (const k of ['wallSec', 'memoryMb', 'maxProcs', 'fileSizeMb', 'diskMb'] as const) {
    if (!Number.isFinite(l[k]) || l[k] <= 0) throw new RangeError(`sandbox limit ${k} must be a positive number, got ${l[k]}`);
  }
  if (!Number.isInteger(l.outputBytes) || l.outputBytes < 0) {
    throw new RangeError(`sandbox limit outputBytes must be a non-negative integer, got ${l.outputBytes}`);
  }
  return l;
}

/**
 * Keeps at most `cap` bytes of a stream: the first half and the last half, counting what falls between.
 * Memory stays O(cap + one chunk) however much is written, so `yes` cannot exhaust the harness.
 */
export class CappedOutput {
  private readonly headCap: number;
  private readonly tailCap: number;
  private head: Buffer[] = [];
  private headLen = 0;
  private tail: Buffer[] = [];
  private tailLen = 0;
  private total = 0;

  constructor(readonly cap: number) {
    this.headCap = Math.ceil(cap / 2);
    this.tailCap = cap - this.headCap;
  }

  push(chunk: Buffer): void {
    this.total += chunk.length;
    if (this.headLen < this.headCap) {
      const take = Math.min(chunk.length, this.headCap - this.headLen);
      this.head.push(chunk.subarray(0, take));
      this.headLen += take;
      chunk = chunk.subarray(take);
    }
    if (chunk.length === 0 || this.tailCap === 0) return;
    // Copy: a subarray would pin Node's whole read buffer in memory.
    this.tail.push(Buffer.from(chunk));
    this.tailLen += chunk.length;
    while (this.tail.length > 1 && this.tailLen - this.tail[0]!.length >= this.tailCap) {
      this.tailLen -= this.tail.shift()!.length;
    }
  }

  get bytesSeen(): number {
    return this.total;
  }

  get truncated(): boolean {
    return this.total > this.cap;
  }

  /** The kept text; when truncated, a marker line stands where the middle was. */
  text(): string {
    const head = Buffer.concat(this.head);
    let tail = Buffer.concat(this.tail);
    if (!this.truncated) return Buffer.concat([head, tail]).toString('utf8');
    tail = tail.subarray(Math.max(0, tail.length - this.tailCap));
    const cut = this.total - head.length - tail.length;
    return `${head.toString('utf8')}\n[... ${cut} bytes cut ...]\n${tail.toString('utf8')}`;
  }
}
