import { promises as fs } from 'node:fs';
import path from 'node:path';

/**
 * Writes through a temporary file and a rename, so a reader never sees half a file
 * (run records, the README, charts). Creates the parent folder.
 */
export async function writeFileAtomic(file: string, text: string): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  await fs.writeFile(tmp, text);
  await fs.rename(tmp, file);
}
