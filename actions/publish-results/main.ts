/**
 * publish-results: merges the shard records found under `records`, commits them to the results store on
 * `branch`, regenerates the README and charts, and pushes, replaying on the new tip when another publisher
 * got there first. Inputs: actions/publish-results/action.yml.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import * as core from '@actions/core';
import { z } from 'zod';
import { TASKS_DIR } from '../../src/tasks/load.js';
import { readRunRecord } from '../../src/runs/journal.js';
import { mergeShardRecords } from '../../src/runs/merge.js';
import { publishResults } from '../../src/github/publish.js';
import { inputs, readInputs, runAction } from '../../src/github/action-io.js';
import type { RunRecord } from '../../src/runs/record.js';

const Inputs = z.object({
  records: z.string({ error: 'required: the folder holding the run records to publish (e.g. the downloaded artifacts)' }).trim().min(1),
  branch: z.string().trim().regex(/^[\w./-]+$/, 'a branch name such as main').default('main'),
  remote: z.string().trim().default('origin'),
  max_attempts: inputs.int(8, 1, 50),
  readme: z.string().trim().default('README.md'),
});

/** Run records under dir, at any depth (artifact downloads nest one folder per artifact); journals and transcripts are not records. */
async function findRecords(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true }).catch((e: NodeJS.ErrnoException) => {
    throw new Error(`publish-results: input \`records\`: cannot read ${dir} (${e.code ?? e.message})`);
  });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.json') && !e.name.endsWith('.journal.jsonl'))
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

await runAction(async () => {
  const i = readInputs('publish-results', Inputs);
  const files = await findRecords(i.records);
  if (!files.length) throw new Error(`publish-results: no run records (*.json) under ${i.records}; did the eval jobs upload them?`);
  const loaded: { file: string; record: RunRecord }[] = [];
  for (const file of files) loaded.push({ file, record: await readRunRecord(file) });
  const merged = mergeShardRecords(loaded);
  merged.warnings.forEach((w) => core.warning(w, { title: 'envbench publish' }));
  core.info(`merged ${files.length} record(s) into ${merged.records.length} run(s): ${merged.records.map((r) => r.runId).join(', ')}`);

  const result = await publishResults({
    repoDir: process.cwd(),
    records: merged.records,
    remote: i.remote,
    branch: i.branch,
    readme: i.readme,
    tasksDir: process.env.ENVBENCH_TASKS_DIR || TASKS_DIR,
    maxAttempts: i.max_attempts,
    log: (m) => core.info(m),
  });
  core.setOutput('published', result.published.join(','));
  core.setOutput('already_present', result.alreadyPresent.join(','));
  core.setOutput('commit', result.commit ?? '');
  await core.summary
    .addRaw(
      `## envbench publish\n\n${result.published.length} run(s) published${result.commit ? ` in ${result.commit.slice(0, 12)}` : ''} ` +
        `after ${result.attempts} attempt(s)` +
        (result.alreadyPresent.length ? `; ${result.alreadyPresent.length} already on ${i.branch}` : '') +
        `.\n\n${merged.warnings.map((w) => `- ⚠️ ${w}`).join('\n')}\n`,
    )
    .write();
});
