import { describe, expect, it } from 'vitest';
import { treeCpuSeconds } from '../grader.js';

describe('treeCpuSeconds', () => {
  it('uses the timer\'s reaped-tree figure when the sandbox has no cgroup accounting', () => {
    expect(treeCpuSeconds({ child_cpu_s: 1.5, timer_cpu_s: 0.7 }, null)).toBe(1.5);
  });

  it('takes the cgroup figure less the timer\'s own share when that is larger: work a process hid from the timer still counts', () => {
    // 9 s of CPU in the cgroup, 0.5 s of it the timer's: a tree that reported 1 s used 8.5 s.
    expect(treeCpuSeconds({ child_cpu_s: 1, timer_cpu_s: 0.5 }, 9000)).toBeCloseTo(8.5, 9);
  });

  it('never lets the cgroup figure lower what the reaped tree is known to have used', () => {
    expect(treeCpuSeconds({ child_cpu_s: 2, timer_cpu_s: 0.5 }, 1000)).toBe(2);
  });
});
