import { execFile } from 'node:child_process';
import path from 'node:path';
import { expect, it } from 'vitest';

// tsx and vitest strip types without checking them; this keeps `strict` honest in CI.
it('the whole repo type-checks under strict TypeScript', async () => {
  const root = path.resolve(import.meta.dirname, '..');
  const r = await new Promise<{ code: number; out: string }>((resolve) =>
    execFile(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', root], { cwd: root, timeout: 170_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr })));
  expect(r.out).toBe('');
  expect(r.code).toBe(0);
}, 180_000);
