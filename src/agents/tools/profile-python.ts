import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { defineTool, type ToolContext, type ToolResult } from '../tool.js';
import { resolveWorkspacePath, WorkspacePathError } from './files.js';
import { runPythonTool } from './run-python.js';

/** Most rows of the profile table the model may ask for. */
export const PROFILE_TOP_MAX = 100;

/**
 * The Python driver: profiles only the target (a workspace file run as __main__, or a code string) with
 * cProfile, sends the target's own stdout to stderr, and prints the pstats table on stdout, so the table
 * is never cut away by a chatty program. The parameters travel as JSON, never spliced into code.
 */
export function profileDriver(target: { path: string } | { code: string }, top: number, sort: 'cumulative' | 'tottime'): string {
  const params = JSON.stringify({ path: 'path' in target ? target.path : null, code: 'code' in target ? target.code : null, top, sort });
  return `import contextlib, cProfile, io, json, os, pstats, runpy, sys, traceback
_p = json.loads(${JSON.stringify(params)})
_prof = cProfile.Profile()
_status = 0
_out = sys.stdout
with contextlib.redirect_stdout(sys.stderr):
    try:
        if _p["path"] is not None:
            sys.argv = [_p["path"]]
            sys.path.insert(0, os.path.dirname(os.path.abspath(_p["path"])))
            _prof.enable()
            try:
                runpy.run_path(_p["path"], run_name="__main__")
            finally:
                _prof.disable()
        else:
            _code = compile(_p["code"], "<profiled code>", "exec")
            _prof.enable()
            try:
                exec(_code, {"__name__": "__main__"})
            finally:
                _prof.disable()
    except SystemExit as e:
        _status = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except BaseException:
        traceback.print_exc()
        _status = 1
_buf = io.StringIO()
try:
    _stats = pstats.Stats(_prof, stream=_buf)
    _stats.strip_dirs().sort_stats(_p["sort"]).print_stats(_p["top"])
    _what = _p["path"] if _p["path"] is not None else "the given code"
    print(f"cProfile of {_what}: top {_p['top']} functions by {_p['sort']} time"
          + (" (the program failed; see stderr)" if _status else "") + "; the program's own output is under stderr", file=_out)
    print(_buf.getvalue().strip("\\n"), file=_out)
except TypeError:
    print("no profile data: the program ran no Python code under the profiler", file=_out)
_out.flush()
sys.exit(_status)
`;
}

export const profilePythonTool = defineTool({
  name: 'profile_python',
  description:
    'Profile a Python program with cProfile in the same sandbox as run_python (working directory /workspace, no network, ' +
    'time and memory limits). Give either `path` (a .py file in the workspace, run as __main__) or `code` (a Python program). ' +
    'Returns the top functions by cumulative time (or by own time with sort="tottime"): call counts, own and cumulative ' +
    'seconds. The program\'s own prints appear under stderr. Profiling adds overhead to every Python call, so compare ' +
    'relative costs, and time final versions with run_python.',
  input: z
    .object({
      path: z.string().min(1).optional().describe('A Python file in the workspace to run as __main__, e.g. "train.py".'),
      code: z.string().min(1).optional().describe('A Python program to profile instead of a file, e.g. one that imports your module and calls a function.'),
      top: z.int().min(1).max(PROFILE_TOP_MAX).default(25).describe('How many functions to list.'),
      sort: z.enum(['cumulative', 'tottime']).default('cumulative').describe('cumulative: time including callees; tottime: time in the function itself.'),
    })
    .refine((x) => (x.path === undefined) !== (x.code === undefined), { message: 'give exactly one of `path` or `code`' }),
  async run(input, ctx: ToolContext): Promise<ToolResult> {
    let target: { path: string } | { code: string };
    if (input.path !== undefined) {
      try {
        const real = await resolveWorkspacePath(ctx.workspace, input.path, 'read');
        if (!(await fsp.stat(real)).isFile()) return { content: `${input.path} is not a regular file`, isError: true };
        // Relative to the workspace, which is the working directory both under bwrap and in unsafe mode.
        target = { path: path.relative(await fsp.realpath(ctx.workspace), real) };
      } catch (e) {
        if (e instanceof WorkspacePathError) return { content: e.message, isError: true };
        throw e;
      }
    } else {
      target = { code: input.code! };
    }
    // run_python does the rest: the hidden script file, the sandbox, the limits and the result text.
    return runPythonTool.run({ code: profileDriver(target, input.top, input.sort) }, ctx);
  },
});
