import { spawn } from 'node:child_process';

/** A git command that failed: its exit status and stderr, or the reason it was stopped. */
export class GitCommandError extends Error {
  override name = 'GitCommandError';
  constructor(
    /** The command as run, e.g. "git diff --name-only …". */
    readonly command: string,
    /** What went wrong: git's stderr, or the exit status, or why it was stopped. */
    readonly detail: string,
    /** True when the command was killed at its time limit (a remote that does not answer). */
    readonly timedOut = false,
  ) {
    super(`${command}: ${detail}`);
  }
}

/** Local commands (status, commit, ls-tree) finish in well under this; it only guards against the unforeseen. */
const LOCAL_GIT_TIMEOUT_MS = 2 * 60 * 1000;
/** fetch and push talk to the remote: a generous bound, after which the remote is taken as not answering. */
export const REMOTE_GIT_TIMEOUT_MS = 5 * 60 * 1000;

const MAX_OUTPUT_BYTES = 64 * 1024 * 1024;

/**
 * Runs git and resolves with its stdout. It never prompts (GIT_TERMINAL_PROMPT=0, no terminal) and
 * never outlives `timeoutMs`: git runs in its own process group, and at the limit the whole group is
 * killed, with the transport helpers and hooks it started, so a hung remote cannot hang a workflow.
 */
export function runGit(cwd: string, args: string[], timeoutMs = LOCAL_GIT_TIMEOUT_MS): Promise<string> {
  const what = `git ${args.join(' ')}`;
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, {
      cwd,
      detached: true, // its own session and process group: no terminal to prompt on, and one kill for all
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, GIT_TERMINAL_PROMPT: '0' },
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let size = 0;
    let timedOut = false;
    let overflow = false;
    const killGroup = () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, timeoutMs);
    child.stdout.on('data', (d: Buffer) => {
      size += d.length;
      if (size > MAX_OUTPUT_BYTES) {
        overflow = true;
        killGroup();
      } else out.push(d);
    });
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new GitCommandError(what, e.message));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stderr = Buffer.concat(err).toString().trim();
      if (timedOut) reject(new GitCommandError(what, `no answer within ${Math.round(timeoutMs / 1000)} s; killed it and everything it started`, true));
      else if (overflow) reject(new GitCommandError(what, `more than ${MAX_OUTPUT_BYTES} bytes of output`));
      else if (code === 0) resolve(Buffer.concat(out).toString());
      else reject(new GitCommandError(what, stderr || `exit ${code ?? signal}`));
    });
  });
}
