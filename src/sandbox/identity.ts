/**
 * Who sandboxed code is on the host. A sandbox entered by root maps its uid 0 to host uid 0: sysctls,
 * setuid bits and root-owned host files then answer to it, whatever capabilities it dropped. So a root
 * harness enters every sandbox as a dedicated unprivileged uid/gid (ENVBENCH_SANDBOX_UID/GID, default
 * 65534 = nobody), which also creates the user namespace; the folders the command may write are handed
 * to that uid first. A harness that is not root already is an unprivileged user and keeps its own uid.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { walkTree } from './disk.js';

export interface SandboxIdentity {
  uid: number;
  gid: number;
}

export const DEFAULT_SANDBOX_ID = 65534;

const IdSchema = z.coerce
  .number()
  .int()
  .min(1, 'must not be 0 (root): the point is that sandboxed code is never host root')
  .max(2 ** 32 - 2);

/** The identity a root harness drops to, or null when the harness is not root (its own uid is used). */
export function sandboxIdentity(env: NodeJS.ProcessEnv = process.env, euid = process.geteuid?.() ?? -1): SandboxIdentity | null {
  if (euid !== 0) return null;
  const parse = (name: string, fallback: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const r = IdSchema.safeParse(raw.trim());
    if (!r.success) {
      throw new Error(`${name}=${JSON.stringify(raw)}: ${r.error.issues[0]?.message ?? 'invalid'}; set it to an unprivileged numeric id, or unset it for ${DEFAULT_SANDBOX_ID}`);
    }
    return r.data;
  };
  const uid = parse('ENVBENCH_SANDBOX_UID', DEFAULT_SANDBOX_ID);
  return { uid, gid: parse('ENVBENCH_SANDBOX_GID', uid) };
}

/** Drops every privilege before exec: ids, supplementary groups, inheritable and bounding capabilities. */
export function setprivWrap(setpriv: string, id: SandboxIdentity, argv: string[]): string[] {
  return [
    setpriv, `--reuid=${id.uid}`, `--regid=${id.gid}`, '--clear-groups', '--inh-caps=-all', '--bounding-set=-all', '--', ...argv,
  ];
}

/**
 * Hands a writable folder to the sandbox uid: the folder and everything in it that the harness wrote
 * (owned by root). Links are changed themselves, never followed, and a file with several names is left
 * alone (it could be a name for a host file). Entries the sandbox uid already owns are not touched.
 */
export function handOver(dir: string, id: SandboxIdentity): void {
  const top = fs.lstatSync(dir);
  // A folder the sandbox uid owns is already its own, whatever mode the code inside gave it: refusing it then
  // would let a submission turn its own failure into an infrastructure error (chmod 777 on its workspace).
  if (top.uid !== id.uid) refuseShared(dir, top);
  const own = (p: string, st: fs.Stats) => {
    if (st.uid === id.uid && st.gid === id.gid) return;
    if (st.uid !== 0 && st.uid !== id.uid) return; // someone else's: not the harness's to give away
    if (!st.isDirectory() && st.nlink > 1) return;
    fs.lchownSync(p, id.uid, id.gid);
  };
  own(dir, fs.lstatSync(dir));
  walkTree([dir], own);
}

/**
 * A writable folder must be the command's own. Handed a shared one (/tmp, /var/tmp, a home folder, `/`), a
 * root harness would give the sandbox uid everything root owns in it: seen in a session that passed /tmp as a
 * workspace, after which root's own folders in /tmp belonged to nobody. World-writable or sticky folders are
 * shared by definition; the file system root and the harness's home are named.
 */
export function refuseShared(dir: string, st: fs.Stats, home = os.homedir()): void {
  const p = path.resolve(dir);
  const shared = (st.mode & 0o1000) !== 0 || (st.mode & 0o002) !== 0 || p === '/' || p === path.resolve(home);
  if (shared) {
    throw new Error(
      `sandbox: refusing ${p} as a writable folder: it is shared (mode ${(st.mode & 0o7777).toString(8)}), and a root harness ` +
        'hands the folder and what it wrote there to the sandbox uid. Give the command a folder of its own (fs.mkdtemp).',
    );
  }
}

/** Search permission on a directory for `id`, from its mode bits (root's override does not apply to it). */
function searchable(st: fs.Stats, id: SandboxIdentity): boolean {
  if (st.uid === id.uid) return (st.mode & 0o100) !== 0;
  if (st.gid === id.gid) return (st.mode & 0o010) !== 0;
  return (st.mode & 0o001) !== 0;
}

/**
 * Makes sure bwrap, started as the sandbox uid, can reach `p` (it resolves every bound path itself). A
 * folder the harness made in the temp dir (mkdtemp's 0700 envbench-*) gets search permission for others —
 * search only, never listing; any other folder in the way is the operator's, so it is named in the error.
 */
export function ensureReachable(p: string, id: SandboxIdentity, harnessTmp: string): void {
  const parts = path.resolve(p).split('/').filter(Boolean);
  let cur = '/';
  for (let i = 0; i < parts.length; i++) {
    const st = fs.statSync(cur);
    if (!searchable(st, id)) {
      // Only the harness's own temp folders (mkdtemp's envbench-* under the temp dir, 0700) are opened up.
      const ours =
        harnessTmp !== '/' && path.dirname(cur) === harnessTmp && path.basename(cur).startsWith('envbench-') &&
        st.uid === (process.geteuid?.() ?? -1);
      if (!ours) {
        throw new Error(
          `the sandbox runs as uid ${id.uid}, which cannot reach ${p}: ${cur} (mode ${(st.mode & 0o777).toString(8)}, owner uid ${st.uid}) ` +
            'is not searchable by it. Keep the repository and ENVBENCH_PYTHON where other users may traverse ' +
            '(chmod o+x on that folder), or set ENVBENCH_SANDBOX_UID to a uid that may.',
        );
      }
      fs.chmodSync(cur, (st.mode & 0o7777) | 0o001);
    }
    cur = path.join(cur, parts[i]!);
  }
}
