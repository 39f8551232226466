import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { handOver, refuseShared } from '../../src/sandbox/identity.js';

const made: string[] = [];
afterEach(() => {
  for (const d of made.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
const folder = (mode: number) => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'envbench-shared-'));
  made.push(d);
  fs.writeFileSync(path.join(d, 'someone-elses'), 'x');
  fs.chmodSync(d, mode);
  return d;
};

describe('a root harness never hands a shared folder to the sandbox uid', () => {
  it('refuses a sticky or world-writable folder (what /tmp and /var/tmp are), and touches nothing in it', () => {
    for (const mode of [0o1777, 0o777, 0o1755]) {
      const d = folder(mode);
      const before = fs.lstatSync(path.join(d, 'someone-elses'));
      expect(() => handOver(d, { uid: 65534, gid: 65534 }), mode.toString(8)).toThrow(/refusing .* shared .*fs\.mkdtemp/);
      const after = fs.lstatSync(path.join(d, 'someone-elses'));
      expect([after.uid, after.gid]).toEqual([before.uid, before.gid]);
    }
  });

  it('a folder the sandbox uid already owns passes whatever mode the code inside set (no error a submission can cause)', (ctx) => {
    // Only a root harness hands folders over (a non-root one keeps its own uid); CI runs as root, so there it must run.
    if (process.getuid?.() !== 0) {
      if (process.env.CI) throw new Error('CI: this test needs root (.ci/run runs as root)');
      return ctx.skip('needs root to give a folder to uid 65534');
    }
    const d = folder(0o700);
    fs.chownSync(d, 65534, 65534);
    fs.chmodSync(d, 0o1777);
    expect(() => handOver(d, { uid: 65534, gid: 65534 })).not.toThrow();
    expect(fs.lstatSync(path.join(d, 'someone-elses')).uid).toBe(65534);
  });

  it('refuses the file system root and the harness\'s home; a private folder of its own passes', () => {
    expect(() => refuseShared('/', fs.lstatSync('/'))).toThrow(/refusing \/ /);
    const home = folder(0o700);
    expect(() => refuseShared(home, fs.lstatSync(home), home)).toThrow(/refusing/);
    const own = folder(0o700);
    expect(() => refuseShared(own, fs.lstatSync(own), '/nonexistent-home')).not.toThrow();
  });
});
