import path from 'node:path';
import { readFile } from 'node:fs/promises';
import { loadResults, buildIndex } from '../runs/store.js';
import { loadTasks } from '../tasks/load.js';
import { taskVersions } from '../tasks/version.js';
import { writeFileAtomic } from '../files.js';
import { renderReport, updateReadme } from './readme.js';
import { renderCharts } from './charts.js';

export interface RegenerateOptions {
  /** The results store (run records). */
  resultsDir: string;
  readmePath: string;
  chartsDir: string;
  tasksDir: string;
  /** Write nothing; report what is stale. */
  check?: boolean;
  warn?: (msg: string) => void;
}

export interface RegenerateResult {
  /** Files that differ from what the results imply (written unless check). */
  stale: string[];
  written: string[];
  /** README sections that had no markers and were appended at the end. */
  appended: string[];
  summary: string;
}

export class ReadmeMissingError extends Error {
  override name = 'ReadmeMissingError';
}

/**
 * Everything derived from the results store: the README's sections between markers, the SVG charts and
 * results/index.json. Writes only what changed (atomically), so running it twice changes nothing, and
 * concurrent publishers that replay their commit on a newer store regenerate from the merged store.
 */
export async function regenerateReport(o: RegenerateOptions): Promise<RegenerateResult> {
  const readme = await readFile(o.readmePath, 'utf8').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') throw new ReadmeMissingError(`${o.readmePath} does not exist`);
    throw e;
  });
  const loaded = await loadResults(o.resultsDir);
  for (const pr of loaded.problems) o.warn?.(`skipped ${pr.file}: ${pr.message}`);
  const records = loaded.records.map((r) => r.record);
  const loadedTasks = await loadTasks(undefined, o.tasksDir);
  // Each task with its current version hashes: the tables count only trials of these versions.
  const versions = await taskVersions(loadedTasks);
  const tasks = loadedTasks.map((t) => ({ ...t, versions: versions.get(t.def.id)! }));

  const chartsLink = path.relative(path.dirname(path.resolve(o.readmePath)), path.resolve(o.chartsDir)).split(path.sep).join('/') || '.';
  // ReadmeMarkerError (bad markers) propagates: the caller names the file.
  const update = updateReadme(readme, renderReport(records, tasks, { chartsPath: chartsLink }));
  const indexFile = path.join(path.dirname(o.resultsDir), 'index.json');
  const files = [
    ...(await renderCharts(records, tasks)).map((c) => ({ file: path.join(o.chartsDir, c.file), text: c.svg })),
    { file: indexFile, text: JSON.stringify(buildIndex(loaded, path.dirname(indexFile)), null, 2) + '\n' },
  ];
  const fileStale = await Promise.all(files.map(async (f) => (await readFile(f.file, 'utf8').catch(() => null)) !== f.text));
  const stale = [...(update.changed ? [o.readmePath] : []), ...files.filter((_, i) => fileStale[i]).map((f) => f.file)];
  const summary = `${records.length} run(s), ${records.reduce((a, r) => a + r.trials.length, 0)} trial(s) from ${o.resultsDir}`;
  const written: string[] = [];
  if (!o.check) {
    if (update.changed) {
      await writeFileAtomic(o.readmePath, update.text);
      written.push(o.readmePath);
    }
    for (const [i, f] of files.entries()) {
      if (!fileStale[i]) continue;
      await writeFileAtomic(f.file, f.text);
      written.push(f.file);
    }
  }
  return { stale, written, appended: update.appended, summary };
}
