import { randomBytes } from 'node:crypto';
import { constants as fsc, promises as fsp } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { defineTool, type ToolContext, type ToolResult } from '../tool.js';
import { resolveLimits } from '../../sandbox/limits.js';
import { SANDBOX_WORKSPACE } from '../../sandbox/bwrap.js';
import type { ExtraBind, SandboxExecResult, SandboxLimits } from '../../sandbox/types.js';

/** The harness's own folder in the workspace, for the scripts run_python writes. */
export const HIDDEN_DIR = '.envbench';

/**
 * Makes <workspace>/.envbench a real directory. The model's code can write the workspace, so a symlink
 * (or file) of that name is removed rather than followed: the harness writes here from the host.
 */
async function hiddenDir(workspace: string): Promise<string> {
  const dir = path.join(workspace, HIDDEN_DIR);
  const st = await fsp.lstat(dir).catch(() => null);
  if (st && !st.isDirectory()) await fsp.rm(dir, { force: true }); // a symlink itself, never its target
  await fsp.mkdir(dir, { recursive: true });
  const again = await fsp.lstat(dir);
  if (!again.isDirectory() || again.isSymbolicLink()) throw new Error(`${dir} is not a plain directory`);
  return dir;
}

function describeKill(r: SandboxExecResult, l: SandboxLimits): string | null {
  switch (r.killedBy) {
    case 'time':
      return `killed: exceeded the time limit of ${l.wallSec} s`;
    case 'memory':
      return `killed: exceeded the memory limit of ${l.memoryMb} MiB`;
    case 'procs':
      return `killed: exceeded the limit of ${l.maxProcs} processes`;
    case 'disk':
      return `killed: the workspace and /tmp exceeded their disk limit of ${l.diskMb} MiB`;
    case 'abort':
      return 'killed: the trial was stopped';
    default:
      return null;
  }
}

/** The tool result text: exit status, why it was killed, then stdout and stderr (each already capped). */
export function formatRun(r: SandboxExecResult, limits: SandboxLimits): string {
  const status = r.exitCode !== null ? `exit code: ${r.exitCode}` : `exit code: none (signal ${r.signalName ?? 'unknown'})`;
  const parts = [status];
  const kill = describeKill(r, limits);
  if (kill) parts.push(kill);
  parts.push(`--- stdout${r.stdoutTruncated ? ' (middle cut)' : ''} ---\n${r.stdout}`);
  parts.push(`--- stderr${r.stderrTruncated ? ' (middle cut)' : ''} ---\n${r.stderr}`);
  return parts.join('\n');
}

export const runPythonTool = defineTool({
  name: 'run_python',
  description:
    'Run a Python 3 program in an isolated sandbox and get its exit code, stdout and stderr. The working directory is ' +
    '/workspace (your files; writable, persists between calls), /tmp is private scratch space; the rest of the system is ' +
    'read-only and there is no network. Each call is a fresh process; time, memory and output are limited.',
  input: z.object({
    code: z.string().min(1).describe('The complete Python program to run (source code, not a file name).'),
  }),
  async run({ code }, ctx: ToolContext): Promise<ToolResult> {
    const limits = resolveLimits(ctx.limits);
    const dir = await hiddenDir(ctx.workspace);
    const name = `run_${Date.now()}_${randomBytes(4).toString('hex')}.py`;
    const file = path.join(dir, name);
    // O_EXCL|O_NOFOLLOW: never write through a link, never clobber.
    const fh = await fsp.open(file, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, 0o644);
    try {
      await fh.writeFile(code);
    } finally {
      await fh.close();
    }
    // Prefixes the sandbox was not created with (e.g. a different interpreter than at startup).
    const binds: ExtraBind[] = ctx.python.prefixes
      .filter((p) => !ctx.sandbox.extraReadOnlyPaths.includes(p))
      .map((p) => ({ src: p, dest: p }));
    try {
      const r = await ctx.sandbox.exec({
        // Relative: valid both at /workspace under bwrap and in the host workspace in unsafe mode.
        argv: [ctx.python.executable, `${HIDDEN_DIR}/${name}`],
        workspace: ctx.workspace,
        tmpDir: ctx.tmpDir,
        binds,
        gpu: ctx.gpu,
        // The script's folder is sys.path[0]; put the workspace on the path too so `import mymodule` works.
        env: { PYTHONPATH: ctx.sandbox.mode === 'bwrap' ? SANDBOX_WORKSPACE : ctx.workspace },
        limits: ctx.limits,
        signal: ctx.signal,
      });
      const content = formatRun(r, limits);
      if (r.killedBy === 'disk') return { content, isError: true, endsTrial: { limit: 'disk', detail: describeKill(r, limits)! } };
      return { content, isError: r.exitCode !== 0 || r.killedBy !== null };
    } finally {
      // Only if .envbench is still the plain directory we made (the code may have replaced it with a link).
      const st = await fsp.lstat(dir).catch(() => null);
      if (st?.isDirectory() && !st.isSymbolicLink()) await fsp.rm(file, { force: true }).catch(() => {});
    }
  },
});
