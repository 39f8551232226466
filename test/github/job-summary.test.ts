import { describe, expect, it } from 'vitest';
import { runSummaryMarkdown } from '../../src/github/job-summary.js';
import { makeRunRecord, makeTrial } from '../support/records.js';

const usage = { inputTokens: 1000, outputTokens: 100, cacheReadInputTokens: 0, cacheCreationInputTokens: 0 };

describe('the job summary', () => {
  it('shows the judge\'s cost apart from the agents\', and unknown prices as unknown, never $0.0000', () => {
    const rec = makeRunRecord('r1', [
      makeTrial({ model: 'openai:qwen2.5:7b', usage, costUsd: null, judge: { model: 'anthropic:claude-haiku-4-5', requests: 2, usage, costUsd: 0.0015, transcript: 'r1.judge.jsonl' } }),
      makeTrial({ model: 'openai:qwen2.5:7b', epoch: 1, usage, costUsd: null, judge: { model: 'openai:local-judge', requests: 1, usage, costUsd: null, transcript: null } }),
    ]);
    const md = runSummaryMarkdown(rec);
    expect(md).toMatch(/- judge anthropic:claude-haiku-4-5: 1 trial\(s\) graded, 2 request\(s\), 1000 input \/ 100 output tokens, \$0\.0015/);
    expect(md).toMatch(/- judge openai:local-judge: .*cost unknown \(model not in the price table\)/);
    expect(md).toMatch(/\| unknown +\|/);
    expect(md).not.toContain('$0.0000');
  });
});
