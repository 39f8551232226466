import { execFile } from 'node:child_process';
import path from 'node:path';
import { expect, it } from 'vitest';

// tsx and vitest strip types without checking them; this keeps `strict` honest in CI. tsc over the whole repo
// took 173 s on a 2-core machine at load 15, so the bound is generous, and a kill says so instead of reading as
// a silent exit 1.
const BOUND_MS = 540_000;

it('the whole repo type-checks under strict TypeScript', async () => {
  const root = path.resolve(import.meta.dirname, '..');
  const r = await new Promise<{ code: number; out: string }>((resolve) =>
    execFile(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', root], { cwd: root, timeout: BOUND_MS }, (err, stdout, stderr) => {
      const killed = err && (err as { killed?: boolean }).killed ? `tsc was killed after its ${BOUND_MS / 1000} s bound\n` : '';
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: killed + stdout + stderr });
    }));
  expect(r.out).toBe('');
  expect(r.code).toBe(0);
}, BOUND_MS + 30_000);
