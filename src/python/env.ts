/** What the harness knows about the Python interpreter it runs checks and tools with. */
export interface PythonEnv {
  /** The command that was probed: ENVBENCH_PYTHON, else the interpreter findPython chose (src/python/discover.ts). */
  command: string;
  /** Where the command came from: ENVBENCH_PYTHON, `python3` on PATH, a system path, or a caller of probePython. */
  source: 'ENVBENCH_PYTHON' | 'PATH' | 'system' | 'given';
  /** sys.executable resolved on the host (shims such as pyenv's are bypassed). */
  executable: string;
  version: string;
  /** Directories outside /usr the interpreter needs (sys.prefix, site-packages); bound read-only into the sandbox. */
  prefixes: string[];
  /** Module name -> version string ('' if the module has no __version__), or null when it cannot be imported. */
  modules: Record<string, string | null>;
  torch: string | null;
  cuda: boolean;
  gpu: string | null;
}
