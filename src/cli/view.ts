import { promises as fs } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { loadViewerData } from '../reports/viewer/data.js';
import { renderViewerHtml } from '../reports/viewer/html.js';
import { RunRecordError } from '../runs/journal.js';
import { UsageError } from './args.js';

const ViewArgsSchema = z.object({
  record: z.string({ error: 'give the run record: npm run bench -- view FILE.json' }).min(1),
  out: z.string().min(1).optional(),
});

/** The report beside its record: FILE.json -> FILE.html. */
function viewerPath(record: string): string {
  return `${record.replace(/\.json$/, '')}.html`;
}

/** `view FILE.json [--out FILE.html]`: one self-contained HTML report of a run. Returns the path written. */
export async function viewCommand(argv: string[]): Promise<string> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { out: { type: 'string' } }, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(`view: ${(e as Error).message}`);
  }
  if (parsed.positionals.length > 1) throw new UsageError(`view: one run record at a time (got ${parsed.positionals.join(', ')})`);
  const r = ViewArgsSchema.safeParse({ record: parsed.positionals[0], out: parsed.values.out });
  if (!r.success) throw new UsageError(`view: ${r.error.issues.map((i) => i.message).join('; ')}`);
  const out = r.data.out ?? viewerPath(r.data.record);
  if (path.resolve(out) === path.resolve(r.data.record)) throw new UsageError('view: --out would overwrite the run record; name an .html file');
  let data;
  try {
    data = await loadViewerData(r.data.record);
  } catch (e) {
    if (e instanceof RunRecordError) throw new UsageError(`view: ${e.message}`);
    throw e;
  }
  await fs.mkdir(path.dirname(path.resolve(out)), { recursive: true });
  await fs.writeFile(out, renderViewerHtml(data));
  return out;
}
