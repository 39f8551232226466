/**
 * Standalone check of a review, without the harness or a judge:
 *   npx tsx tasks/literature-review/check.ts REVIEW.md --sample memory|rl|robotics
 * Prints the verdict of the deterministic checks as JSON on stdout. Exit 0 passed, 1 failed, 2 bad usage.
 * Offline unless ENVBENCH_RESEARCH_NETWORK=1 (then unknown arXiv ids are checked against arXiv).
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { defaultLibrary, TopicSchema } from '../../src/task-api.js';
import { reviewChecks } from './grader.js';

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({ options: { sample: { type: 'string' } }, allowPositionals: true });
  const topic = TopicSchema.safeParse(values.sample);
  if (positionals.length !== 1 || !topic.success) {
    process.stderr.write(`usage: check.ts REVIEW.md --sample ${TopicSchema.options.join('|')}\n`);
    return 2;
  }
  const review = await readFile(positionals[0]!, 'utf8');
  const checks = await reviewChecks(review, topic.data, defaultLibrary());
  const passed = checks.every((c) => c.passed !== false);
  process.stdout.write(JSON.stringify({ passed, score: checks.filter((c) => c.passed).length / checks.length, checks }) + '\n');
  return passed ? 0 : 1;
}

main().then((code) => process.exit(code), (e: unknown) => {
  process.stdout.write(JSON.stringify({ error: (e as Error).message }) + '\n');
  process.exit(2);
});
