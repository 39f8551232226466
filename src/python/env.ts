/** What the harness knows about the Python interpreter it runs checks and tools with. */
export interface PythonEnv {
  /** As configured: ENVBENCH_PYTHON, else `python3`. */
  command: string;
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
