import type { Requirements } from './requirements-schema.js';
import type { PythonEnv } from './env.js';

export type RequirementCheck = { ok: true } | { ok: false; reason: string; hint: string };

/** Debian package for each module, for the install hint on this kind of machine. */
/** pip's name for each module where it differs from the import name. */
const PIP_PACKAGES: Record<string, string> = { sklearn: 'scikit-learn' };

const DEBIAN_PACKAGES: Record<string, string> = {
  torch: 'python3-torch',
  numpy: 'python3-numpy',
  sklearn: 'python3-sklearn',
  scipy: 'python3-scipy',
};

/** Compares dotted versions numerically, ignoring local suffixes such as "1.13.0a0+git". */
export function versionAtLeast(version: string, minimum: string): boolean {
  const parse = (v: string) => (v.match(/^\d+(\.\d+)*/)?.[0] ?? '0').split('.').map(Number);
  const a = parse(version);
  const b = parse(minimum);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    if (x !== y) return x > y;
  }
  return true;
}

/** Decides before any model call whether a task can run here; a task that cannot is `skipped`, never run. */
export function checkRequirements(req: Requirements, env: PythonEnv): RequirementCheck {
  const missing = req.pythonModules.filter((m) => env.modules[m] == null);
  const interp = `${env.command} (${env.executable}, Python ${env.version})`;
  if (missing.length > 0) {
    const pkgs = missing.map((m) => DEBIAN_PACKAGES[m] ?? `python3-${m}`);
    return {
      ok: false,
      reason: `python modules missing in ${interp}: ${missing.join(', ')}`,
      hint: `apt-get install ${pkgs.join(' ')} (Debian), or pip install ${missing.map((m) => PIP_PACKAGES[m] ?? m).join(' ')}; or point ENVBENCH_PYTHON at an interpreter that has them`,
    };
  }
  if (req.minTorch) {
    if (!env.torch) {
      return { ok: false, reason: `torch >= ${req.minTorch} required but torch is not importable in ${interp}`, hint: `install torch >= ${req.minTorch} or set ENVBENCH_PYTHON` };
    }
    if (!versionAtLeast(env.torch, req.minTorch)) {
      return { ok: false, reason: `torch ${env.torch} is older than the required ${req.minTorch}`, hint: `pip install 'torch>=${req.minTorch}' or set ENVBENCH_PYTHON to a newer interpreter` };
    }
  }
  if (req.cuda === 'required' && !env.cuda) {
    return { ok: false, reason: 'the task needs CUDA and torch.cuda.is_available() is false here', hint: 'run it on a GPU runner with a CUDA build of torch' };
  }
  return { ok: true };
}

/** Whether a task's sandboxed runs get GPU device nodes: only when it uses CUDA and CUDA is here. */
export function usesGpu(req: Requirements, env: PythonEnv): boolean {
  return req.cuda !== 'none' && env.cuda;
}
