import { constants as fsc, promises as fs } from 'node:fs';
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

/**
 * A file a sandboxed command left behind, only if it is a plain file of at most `max` bytes: never through a
 * link (O_NOFOLLOW), never blocking on a FIFO (O_NONBLOCK); null otherwise.
 */
export async function readPlainFile(file: string, max: number): Promise<Buffer | null> {
  let fh: fs.FileHandle;
  try {
    fh = await fs.open(file, fsc.O_RDONLY | fsc.O_NOFOLLOW | fsc.O_NONBLOCK);
  } catch {
    return null;
  }
  try {
    const st = await fh.stat();
    if (!st.isFile() || st.size > max) return null;
    return await fh.readFile();
  } finally {
    await fh.close();
  }
}
