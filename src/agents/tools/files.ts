import { constants as fsc, promises as fsp } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { defineTool, type ToolContext, type ToolResult } from '../tool.js';
import { DEFAULT_SANDBOX_LIMITS } from '../../sandbox/limits.js';
import { SANDBOX_WORKSPACE } from '../../sandbox/bwrap.js';

/** Most bytes read_file returns; the model can page through bigger files with run_python. */
export const READ_FILE_MAX_BYTES = 100_000;

/** A path the model gave that may not be used; the message is written for the model. */
export class WorkspacePathError extends Error {
  override name = 'WorkspacePathError';
}

function inside(base: string, p: string): boolean {
  return p === base || p.startsWith(base + path.sep);
}

/**
 * These tools run in the harness, on the host, outside the sandbox, in a folder the model's code can
 * write to: every path is checked after resolving symlinks (realpath), so a planted link cannot lead
 * out. No sandboxed process runs between tool calls (the pid namespace dies with each command), so the
 * check cannot be raced.
 */
export async function resolveWorkspacePath(workspace: string, given: string, mode: 'read' | 'write'): Promise<string> {
  if (given.includes('\0')) throw new WorkspacePathError('the path contains a NUL byte');
  let rel = given;
  // The model's commands see the workspace as /workspace, so that spelling is accepted too.
  if (rel === SANDBOX_WORKSPACE || rel.startsWith(SANDBOX_WORKSPACE + '/')) rel = rel.slice(SANDBOX_WORKSPACE.length + 1);
  else if (path.isAbsolute(rel)) {
    throw new WorkspacePathError(`absolute paths are not allowed (${given}); give a path relative to the workspace (/workspace)`);
  }
  if (rel === '' || rel === '.') throw new WorkspacePathError('give the path of a file inside the workspace');
  const ws = await fsp.realpath(workspace);
  const lexical = path.resolve(ws, rel);
  if (!inside(ws, lexical) || lexical === ws) throw new WorkspacePathError(`${given} is outside the workspace`);

  if (mode === 'read') {
    let real: string;
    try {
      real = await fsp.realpath(lexical);
    } catch {
      throw new WorkspacePathError(`${given}: no such file`);
    }
    if (!inside(ws, real)) throw new WorkspacePathError(`${given} leads outside the workspace (through a symlink)`);
    return real;
  }

  // write: the nearest existing ancestor decides where a new file would land.
  let cur = lexical;
  for (;;) {
    const st = await fsp.lstat(cur).catch(() => null);
    if (st) break;
    cur = path.dirname(cur);
  }
  const real = await fsp.realpath(cur);
  if (!inside(ws, real)) throw new WorkspacePathError(`${given} leads outside the workspace (through a symlink)`);
  if (cur === lexical) {
    const st = await fsp.stat(real);
    if (!st.isFile()) throw new WorkspacePathError(`${given} exists and is not a regular file`);
    return real;
  }
  // Everything below `cur` is new, so creating it follows no link.
  const parent = path.dirname(lexical);
  try {
    await fsp.mkdir(parent, { recursive: true });
  } catch (e) {
    throw new WorkspacePathError(`cannot create the folder for ${given}: ${(e as Error).message}`);
  }
  if (!inside(ws, await fsp.realpath(parent))) throw new WorkspacePathError(`${given} leads outside the workspace`);
  return path.join(await fsp.realpath(parent), path.basename(lexical));
}

function failure(e: unknown): ToolResult {
  if (e instanceof WorkspacePathError) return { content: e.message, isError: true };
  const err = e as NodeJS.ErrnoException;
  return { content: `${err.code ? `${err.code}: ` : ''}${err.message}`, isError: true };
}

export const readFileTool = defineTool({
  name: 'read_file',
  description:
    `Read a text file from the workspace (/workspace). Paths are relative to the workspace; at most ${READ_FILE_MAX_BYTES} bytes are returned.`,
  input: z.object({
    path: z.string().min(1).describe('File path relative to the workspace, e.g. "src/model.py".'),
  }),
  async run({ path: given }, ctx: ToolContext): Promise<ToolResult> {
    try {
      const real = await resolveWorkspacePath(ctx.workspace, given, 'read');
      // O_NONBLOCK: opening a FIFO planted by the model must not hang the harness; O_NOFOLLOW: no last-moment link.
      const fh = await fsp.open(real, fsc.O_RDONLY | fsc.O_NOFOLLOW | fsc.O_NONBLOCK);
      try {
        const st = await fh.stat();
        if (st.isDirectory()) return { content: `${given} is a directory; use run_python to list it`, isError: true };
        if (!st.isFile()) return { content: `${given} is not a regular file`, isError: true };
        const buf = Buffer.alloc(Math.min(st.size, READ_FILE_MAX_BYTES));
        const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
        const data = buf.subarray(0, bytesRead);
        if (data.includes(0)) return { content: `${given} is a binary file (${st.size} bytes); not shown.`, isError: true };
        let text = data.toString('utf8');
        if (st.size > bytesRead) text += `\n[... ${given} is ${st.size} bytes; only the first ${bytesRead} are shown ...]`;
        return { content: text };
      } finally {
        await fh.close();
      }
    } catch (e) {
      return failure(e);
    }
  },
});

export const writeFileTool = defineTool({
  name: 'write_file',
  description:
    'Create or overwrite a text file in the workspace (/workspace), creating parent folders. Paths are relative to the workspace.',
  input: z.object({
    path: z.string().min(1).describe('File path relative to the workspace, e.g. "solution.py".'),
    content: z.string().describe('The complete new content of the file (UTF-8 text).'),
  }),
  async run({ path: given, content }, ctx: ToolContext): Promise<ToolResult> {
    try {
      const bytes = Buffer.from(content, 'utf8');
      const maxMb = ctx.limits.fileSizeMb ?? DEFAULT_SANDBOX_LIMITS.fileSizeMb;
      if (bytes.length > maxMb * 1024 * 1024) return { content: `the content exceeds the ${maxMb} MiB file size limit`, isError: true };
      const target = await resolveWorkspacePath(ctx.workspace, given, 'write');
      const fh = await fsp.open(target, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_TRUNC | fsc.O_NOFOLLOW | fsc.O_NONBLOCK, 0o644);
      try {
        if (!(await fh.stat()).isFile()) return { content: `${given} is not a regular file`, isError: true };
        await fh.writeFile(bytes);
      } finally {
        await fh.close();
      }
      return { content: `Wrote ${bytes.length} bytes to ${given}.` };
    } catch (e) {
      return failure(e);
    }
  },
});
