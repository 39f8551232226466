// `judge-check`: the judge graded K times on each labelled example, against the local Messages server.
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { JudgeCheckReport } from '../../src/runs/judge-agreement.js';
import { RUBRIC_VERDICT_TOOL } from '../../src/grading/rubric-judge.js';
import { startMessagesServer, textReply, toolUseReply, type Handler, type MessagesServer } from '../support/messages-server.js';

const judgeTasks = path.join(import.meta.dirname, '..', 'fixtures', 'judge-tasks');

async function cli(argv: string[], env: NodeJS.ProcessEnv = {}, tasksDir = judgeTasks) {
  const out: string[] = [];
  const err: string[] = [];
  const saved = process.env.ENVBENCH_TASKS_DIR;
  process.env.ENVBENCH_TASKS_DIR = tasksDir;
  try {
    const code = await main(['judge-check', ...argv], { out: (s) => out.push(s), err: (s) => err.push(s) }, { ...process.env, ...env });
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    if (saved === undefined) delete process.env.ENVBENCH_TASKS_DIR;
    else process.env.ENVBENCH_TASKS_DIR = saved;
  }
}

const verdict = (mechanism: number, complexity: number, example: number) => ({
  criteria: {
    mechanism: { justification: 'm', points: mechanism },
    complexity: { justification: 'c', points: complexity },
    example: { justification: 'e', points: example },
  },
  summary: 's',
});
const reply = (v: unknown) => toolUseReply(RUBRIC_VERDICT_TOOL, v, { usage: { input_tokens: 1000, output_tokens: 200 } });

/**
 * A judge with known behaviour, counted per example in arrival order (so concurrency does not change the counts):
 * strong: always 5/5 (pass); weak: 0/5 except its 3rd grading, 5/5 (a wrong pass);
 * borderline: alternately 3/5 (fail) and 4/5 (pass), starting with a fail.
 */
function scriptedJudge(): Handler {
  const seen = { STRONG: 0, WEAK: 0, BORDERLINE: 0 };
  return (body) => {
    if (body.tools?.[0]?.name !== RUBRIC_VERDICT_TOOL) return textReply('not a judge request');
    const text = JSON.stringify(body.messages[0]);
    const kind = (['STRONG', 'WEAK', 'BORDERLINE'] as const).find((k) => text.includes(`${k}-ESSAY`))!;
    const n = seen[kind]++;
    if (kind === 'STRONG') return reply(verdict(2, 2, 1));
    if (kind === 'WEAK') return reply(n === 2 ? verdict(2, 2, 1) : verdict(0, 0, 0));
    return reply(n % 2 === 0 ? verdict(2, 1, 0) : verdict(2, 2, 0));
  };
}

let server: MessagesServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

describe('judge-check', () => {
  it('needs ANTHROPIC_API_KEY: exit 2 with a clear error', async () => {
    const r = await cli([], { ANTHROPIC_API_KEY: '' });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/judge-check calls the judge model anthropic:\S+: ANTHROPIC_API_KEY is not set/);
  });

  it('--help prints the usage and exits 0, without an API key', async () => {
    for (const argv of [['--help'], ['-h']]) {
      const r = await cli(argv, { ANTHROPIC_API_KEY: '' });
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/judge-check \[--tasks a,b\]/);
      expect(r.err).not.toMatch(/ANTHROPIC_API_KEY/);
    }
  });

  it('refuses tasks without labelled examples, and bad options', async () => {
    const r = await cli(['--tasks', 'echo'], { ANTHROPIC_API_KEY: 'k' }, path.join(import.meta.dirname, '..', 'fixtures', 'tasks'));
    expect([r.code, r.err]).toEqual([2, expect.stringMatching(/--tasks: echo declare\(s\) no judgeExamples/)]);
    const k = await cli(['--k', '0'], { ANTHROPIC_API_KEY: 'k' });
    expect([k.code, k.err]).toEqual([2, expect.stringMatching(/--k: --k must be at least 1/)]);
    const m = await cli(['--min-agreement', '2'], { ANTHROPIC_API_KEY: 'k' });
    expect([m.code, m.err]).toEqual([2, expect.stringMatching(/--min-agreement is a fraction/)]);
  });

  it('reports agreement with the labels, self-consistency and per-criterion consistency', async () => {
    server = await startMessagesServer(scriptedJudge());
    const r = await cli(['--k', '3', '--json', '--judge', 'anthropic:claude-sonnet-4-6'], { ANTHROPIC_API_KEY: 'k', ANTHROPIC_BASE_URL: server.url });
    expect(r.code).toBe(0); // 5/6 >= the default 0.8
    expect(server.requests).toHaveLength(9);
    const rep = JSON.parse(r.out) as JudgeCheckReport;
    const ex = Object.fromEntries(rep.examples.map((e) => [e.file, e]));
    expect(ex['examples/strong.md']).toMatchObject({ label: 'pass', passVotes: 3, majority: 'pass', agreement: 1, selfConsistency: 1, errors: 0 });
    expect(ex['examples/strong.md']!.criteria).toEqual({ mechanism: 1, complexity: 1, example: 1 });
    expect(ex['examples/weak.md']).toMatchObject({ label: 'fail', passVotes: 1, majority: 'fail' });
    expect(ex['examples/weak.md']!.agreement).toBeCloseTo(2 / 3, 12);
    expect(ex['examples/weak.md']!.selfConsistency).toBeCloseTo(2 / 3, 12);
    // Borderline: reported, not scored.
    expect(ex['examples/borderline.md']).toMatchObject({ label: 'borderline', passVotes: 1, majority: 'fail', agreement: null });
    expect(ex['examples/borderline.md']!.criteria.mechanism).toBe(1);
    expect(ex['examples/borderline.md']!.criteria.complexity).toBeCloseTo(2 / 3, 12);

    const [task] = rep.tasks;
    expect(task).toMatchObject({ task: 'essay', agreeRuns: 5, scoredRuns: 6, majorityAgreement: 1, errors: 0, ok: true });
    expect(task!.agreement).toBeCloseTo(5 / 6, 12);
    expect(task!.selfConsistency).toBeCloseTo((1 + 2 / 3 + 2 / 3) / 3, 12);
    expect(task!.criteria.mechanism).toBeCloseTo(8 / 9, 12);
    expect(task!.criteria.complexity).toBeCloseTo(7 / 9, 12);
    expect(task!.criterionConsistency).toBeCloseTo(23 / 27, 12);
    expect(task!.usage).toMatchObject({ inputTokens: 9000, outputTokens: 1800 });
    expect(task!.costUsd).toBeCloseTo(9 * (1000 * 3 + 200 * 15) / 1e6, 12);
    expect(rep.ok).toBe(true);
  });

  it('prints a table, and exits 1 when agreement is below --min-agreement', async () => {
    server = await startMessagesServer(scriptedJudge());
    const r = await cli(['--min-agreement', '0.9'], { ANTHROPIC_API_KEY: 'k', ANTHROPIC_BASE_URL: server.url });
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/\| essay +\| examples\/weak\.md +\| fail +\| 1\/3 pass +\| fail +\| 67% +\| 67% +\|/);
    expect(r.out).toMatch(/\| essay +\| examples\/borderline\.md +\| borderline +\| 1\/3 pass +\| fail +\| not scored +\|/);
    expect(r.out).toMatch(/\| essay +\| 83% \(5\/6\) +\| 100% +\| 78% +\| 85% +\| 0 +\| \$0\.0540 +\| FAIL +\|/);
    expect(r.out).toMatch(/\| essay +\| complexity +\| 78% +\|/);
    expect(r.err).toMatch(/judge-check FAILED for essay: agreement 83% is below --min-agreement 90%/);
  });

  it('a judge that keeps failing is counted as errors, reported, and fails the check', async () => {
    server = await startMessagesServer((body) => {
      if (JSON.stringify(body.messages[0]).includes('WEAK-ESSAY')) return reply({ criteria: {}, summary: 's' });
      return reply(verdict(2, 2, 1));
    });
    const r = await cli(['--k', '2', '--json'], { ANTHROPIC_API_KEY: 'k', ANTHROPIC_BASE_URL: server.url });
    expect(r.code).toBe(1);
    const rep = JSON.parse(r.out) as JudgeCheckReport;
    const weak = rep.examples.find((e) => e.file === 'examples/weak.md')!;
    expect(weak).toMatchObject({ errors: 2, runs: 2, majority: null, agreement: null });
    expect(weak.firstError).toMatch(/no valid verdict after 3 attempts/);
    expect(rep.tasks[0]).toMatchObject({ errors: 2, agreement: 1, ok: false });
    expect(r.err).toMatch(/judge-check FAILED for essay: 2 run\(s\) ended in error/);
  });
});
