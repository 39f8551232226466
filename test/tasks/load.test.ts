import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTask, loadTasks, TaskDefinitionError } from '../../src/tasks/index.js';

const fixtures = path.join(import.meta.dirname, '..', 'fixtures');
const bad = (name: string) => loadTask(path.join(fixtures, 'bad-tasks', name));

describe('task loading', () => {
  it('loads a valid task, merges variant limits and renders prompts', async () => {
    const [task] = await loadTasks(['echo'], path.join(fixtures, 'tasks'));
    expect(task!.def.id).toBe('echo');
    expect(task!.defaultVariant.id).toBe('default');
    expect(task!.variants.find((v) => v.id === 'terse')!.limits).toEqual({ maxTurns: 2, outputTokenBudget: 2000, timeLimitSec: 60 });
    expect(task!.renderPrompt('default', 'pear').user).toContain('the word pear');
  });

  it.each([
    ['bad-limits', /bad-limits[/\\]task\.ts: invalid task definition:[\s\S]*limits\.maxTurns/],
    ['no-default', /no-default[/\\]task\.ts: invalid task definition:[\s\S]*variants: exactly one variant must have default: true/],
    ['missing-prompt', /missing-prompt[/\\]task\.ts: prompt\.user: file "nothere\.md" not found/],
    ['unknown-placeholder', /unknown-placeholder[/\\]task\.ts: .*placeholder \{\{word\}\} has no value/],
    ['wrong-id', /wrong-id[/\\]task\.ts: id: "something-else" must equal the folder name "wrong-id"/],
    ['not-a-task', /not-a-task[/\\]task\.ts: no default export/],
  ])('rejects %s with an error naming the file and the field', async (name, pattern) => {
    const err = await bad(name).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TaskDefinitionError);
    expect((err as Error).message).toMatch(pattern);
  });

  it('names unknown tasks and lists the available ones', async () => {
    await expect(loadTasks(['nope'], path.join(fixtures, 'tasks'))).rejects.toThrow(/unknown task\(s\): nope\. Available: echo/);
  });

  it('loads every real task in tasks/', async () => {
    const tasks = await loadTasks();
    expect(tasks.map((t) => t.def.id)).toContain('paged-attention');
  });
});
