import { describe, expect, it } from 'vitest';
import { buildPrReport } from '../../src/github/pr-report.js';
import { makeRunRecord, makeTrial } from '../support/records.js';

const cell = (n: number, passes: number) =>
  Array.from({ length: n }, (_, epoch) => makeTrial({ task: 'echo', model: 'anthropic:claude-haiku-4-5', epoch, status: epoch < passes ? 'passed' : 'failed' }));

describe('the PR comment', () => {
  it('leads with the verdict and the table; the long method paragraph is collapsed in <details>', () => {
    for (const mode of ['sequential', 'fixed'] as const) {
      const { body } = buildPrReport({ candidate: makeRunRecord('c', cell(20, 8)), baseRecords: [makeRunRecord('b', cell(40, 16))], baseVersions: new Map(), baseRef: 'main', headSha: 'a'.repeat(40), gate: { mode } });
      const details = /<details><summary>How the gate decides<\/summary>\n\n([^\n]+)\n\n<\/details>/.exec(body);
      expect(details, body).not.toBeNull();
      expect(details![1]).toMatch(mode === 'sequential' ? /^Sequential gate: one-sided alpha .*; looks at/ : /^Fixed comparison: one-sided alpha .*; exact test/);
      // The verdict heading and the table are outside the collapsed block, before it and after it.
      expect(body.indexOf('## ')).toBeLessThan(body.indexOf('<details>'));
      expect(body.indexOf('| task')).toBeGreaterThan(body.indexOf('</details>'));
    }
  });
});
