import { afterEach, describe, expect, it, vi } from 'vitest';
import { main, parseGradeAllArgs } from '../../scripts/grade-all-submissions.js';

// The full-set grader's argument handling: every bad call exits 2 with a message naming the flag, before any
// grading starts. (Its grading path is the one tasks/ml-training-optimization/test/grader.test.ts runs on the
// quick cases, through the same expectations file.)
describe('scripts/grade-all-submissions.ts', () => {
  afterEach(() => vi.restoreAllMocks());

  async function run(argv: string[]): Promise<{ code: number; err: string }> {
    const lines: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
    vi.spyOn(console, 'log').mockImplementation(() => {});
    const code = await main(argv);
    return { code, err: lines.join('\n') };
  }

  it.for([
    [[], /--task <id>/],
    [['--bogus'], /Unknown option '--bogus'/],
    [['--task', 'ml-training-optimization', '--concurrency', '0'], /--concurrency/],
    [['--task', 'Not A Task'], /lower-case letters/],
    [['--task', 'no-such-task'], /no task "no-such-task"/],
    [['--task', 'fsdp-training'], /test\/expectations\.ts does not exist/],
    [['--task', 'ml-training-optimization', '--only', 'no_such_case'], /--only: ml-training-optimization has no case\(s\) no_such_case/],
  ] as const)('%j exits 2 with the reason', async ([argv, why]) => {
    const r = await run([...argv]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(why);
    expect(r.err).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('parses the flags it documents', () => {
    expect(parseGradeAllArgs(['--task', 'a', '--task', 'b', '--only', 'x,y', '--quick', '--concurrency', '3'])).toEqual({
      task: ['a', 'b'], all: false, only: ['x', 'y'], quick: true, concurrency: 3,
    });
    expect(parseGradeAllArgs(['--all']).all).toBe(true);
  });
});
