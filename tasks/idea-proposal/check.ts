/**
 * Standalone check of a proposal, without the harness or a judge:
 *   npx tsx tasks/idea-proposal/check.ts PROPOSAL.json --sample all|memory|rl|robotics
 * PROPOSAL.json holds the submission ({"ideas": [...]}). Prints the verdict of the deterministic checks as
 * JSON on stdout. Exit 0 passed, 1 failed, 2 bad usage or an invalid submission.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { defaultLibrary } from '../../src/task-api.js';
import { ideaChecks, sampleFocus, SubmissionSchema } from './grader.js';

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({ options: { sample: { type: 'string' } }, allowPositionals: true });
  if (positionals.length !== 1 || !values.sample) {
    process.stderr.write('usage: check.ts PROPOSAL.json --sample all|memory|rl|robotics\n');
    return 2;
  }
  const focus = sampleFocus({ focus: values.sample });
  const parsed = SubmissionSchema.safeParse(JSON.parse(await readFile(positionals[0]!, 'utf8')));
  if (!parsed.success) throw new Error(`${positionals[0]}: not a valid submission:\n${z.prettifyError(parsed.error)}`);
  const checks = await ideaChecks(parsed.data, focus, defaultLibrary());
  const passed = checks.every((c) => c.passed !== false);
  process.stdout.write(JSON.stringify({ passed, score: checks.filter((c) => c.passed).length / checks.length, checks }) + '\n');
  return passed ? 0 : 1;
}

main().then((code) => process.exit(code), (e: unknown) => {
  process.stdout.write(JSON.stringify({ error: (e as Error).message }) + '\n');
  process.exit(2);
});
