import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { moduleMapFor } from '../../src/grading/module-map.js';
import { LIBRARY_DIR, LIBRARY_MOUNT } from '../../src/grading/python-check.js';
import type { GradeContext } from '../../src/grading/types.js';
import { probePython } from '../../src/python/probe.js';
import { createSandbox } from '../../src/sandbox/index.js';

const library = { src: LIBRARY_DIR, dest: LIBRARY_MOUNT };

async function ctxWith(modules: string[], executable?: string): Promise<GradeContext> {
  const probed = await probePython(process.env.ENVBENCH_PYTHON ?? '/usr/bin/python3', modules);
  // The probe's cache keeps every module asked of it before; the task sees only its own.
  const python = { ...probed, modules: Object.fromEntries(modules.map((m) => [m, probed.modules[m] ?? null])) };
  const sandbox = await createSandbox({ extraReadOnlyPaths: python.prefixes });
  return {
    taskId: 't', taskDir: path.resolve('.'), sampleId: 's', sampleInputs: {}, variantId: 'v',
    sandbox, python: executable ? { ...python, executable } : python, gpu: false,
    workDir: async () => '/nonexistent', signal: AbortSignal.timeout(300_000),
  };
}
type ModuleMap = { roots: Record<string, string>; modules: Record<string, { attrs: Record<string, string>; subs: string[] }> };

describe('the module map the compare phases get', () => {
  it('is made once per interpreter and module set, in the sandbox, with torch only when the task has it', async (ctx) => {
    const withTorch = await ctxWith(['torch', 'numpy']);
    if (withTorch.python.modules.torch == null) {
      if (process.env.CI) throw new Error('CI: torch is missing for the module map test');
      return ctx.skip('torch is not installed for this interpreter');
    }
    const a = moduleMapFor(withTorch, library);
    expect(moduleMapFor(withTorch, library)).toBe(a);
    const m = JSON.parse((await a)!) as ModuleMap;
    expect(m.roots.torch).toBe('torch');
    expect(m.roots['torch.nn.functional']).toBe('torch.nn.functional');
    expect(m.modules.torch!.attrs.sys).toBe('sys');
    expect(m.modules['torch.utils']!.subs).toContain('benchmark');
    const numpyOnly = JSON.parse((await moduleMapFor(await ctxWith(['numpy']), library))!) as ModuleMap;
    expect(numpyOnly.roots.numpy).toBe('numpy');
    expect(numpyOnly.roots.torch).toBeUndefined();
    expect(numpyOnly.roots.math).toBe('math');
  }, 300_000);

  it('is null, never an error, when it cannot be made: the compare phase then imports for real', async () => {
    expect(await moduleMapFor(await ctxWith(['numpy'], '/nonexistent/python3'), library)).toBeNull();
  }, 300_000);
});
