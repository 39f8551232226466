import { describe, expect, it } from 'vitest';
import { affectedTasks } from '../../src/github/affected.js';

const TASKS = ['paged-attention', 'neural-memory', 'fsdp-training'];

describe('affectedTasks: which tasks a PR can change the outcome of', () => {
  it('a task folder change re-runs that task only', () => {
    const a = affectedTasks(['tasks/neural-memory/prompt.md', 'tasks/neural-memory/check.py', 'README.md'], TASKS);
    expect(a.tasks).toEqual(['neural-memory']);
    expect(a.harnessChanged).toBe(false);
    expect(a.reasons['neural-memory']).toBe('its folder changed (tasks/neural-memory/prompt.md)');
  });

  it('a harness change (src, dependencies, the run-eval action) re-runs every task', () => {
    for (const f of ['src/agents/loop.ts', 'package-lock.json', 'package.json', 'tsconfig.json', 'actions/run-eval/main.ts']) {
      const a = affectedTasks([f], TASKS);
      expect(a.tasks, f).toEqual(TASKS);
      expect(a.harnessChanged).toBe(true);
      expect(a.reasons['paged-attention']).toContain(f);
    }
  });

  it('docs, results, tests of the harness, other actions and deleted tasks re-run nothing', () => {
    expect(affectedTasks(['README.md', 'results/runs/x.json', 'test/stats.test.ts', 'actions/pr-report/main.ts', 'tasks/removed-task/task.ts', 'tasks/README.md'], TASKS).tasks).toEqual([]);
    expect(affectedTasks([], TASKS).tasks).toEqual([]);
  });
});
