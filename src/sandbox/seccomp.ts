/**
 * The seccomp filter every sandboxed command runs under (bwrap --seccomp FD). A deny-list on top of the
 * namespaces, dropped capabilities and the unprivileged uid: these system calls reach other processes'
 * memory and descriptors, the kernel's keyrings, loaders and mount tables, or have a long record of
 * kernel bugs; no task needs them. Denied calls fail with EPERM; a foreign ABI (i386 or x32 on x86_64,
 * which number calls differently and would slip past the list) kills the process.
 *
 * Built here rather than with libseccomp so no native dependency is needed; the numbers are checked
 * against the kernel headers and libseccomp's tables in test/sandbox/attacks.test.ts.
 */
import os from 'node:os';

export interface SyscallNumbers {
  x64: number;
  arm64: number;
}

/** name -> number on x86_64 and on aarch64 (asm-generic). */
export const DENIED_SYSCALLS: Readonly<Record<string, SyscallNumbers>> = {
  // other processes: tracing, memory, descriptors
  ptrace: { x64: 101, arm64: 117 },
  process_vm_readv: { x64: 310, arm64: 270 },
  process_vm_writev: { x64: 311, arm64: 271 },
  pidfd_getfd: { x64: 438, arm64: 438 },
  process_madvise: { x64: 440, arm64: 440 },
  kcmp: { x64: 312, arm64: 272 },
  // the kernel itself
  kexec_load: { x64: 246, arm64: 104 },
  kexec_file_load: { x64: 320, arm64: 294 },
  init_module: { x64: 175, arm64: 105 },
  finit_module: { x64: 313, arm64: 273 },
  delete_module: { x64: 176, arm64: 106 },
  reboot: { x64: 169, arm64: 142 },
  swapon: { x64: 167, arm64: 224 },
  swapoff: { x64: 168, arm64: 225 },
  acct: { x64: 163, arm64: 89 },
  syslog: { x64: 103, arm64: 116 },
  // mounts
  mount: { x64: 165, arm64: 40 },
  umount2: { x64: 166, arm64: 39 },
  pivot_root: { x64: 155, arm64: 41 },
  open_tree: { x64: 428, arm64: 428 },
  move_mount: { x64: 429, arm64: 429 },
  fsopen: { x64: 430, arm64: 430 },
  fsconfig: { x64: 431, arm64: 431 },
  fsmount: { x64: 432, arm64: 432 },
  fspick: { x64: 433, arm64: 433 },
  mount_setattr: { x64: 442, arm64: 442 },
  // handles that bypass path permissions
  open_by_handle_at: { x64: 304, arm64: 265 },
  name_to_handle_at: { x64: 303, arm64: 264 },
  // keyrings
  keyctl: { x64: 250, arm64: 219 },
  add_key: { x64: 248, arm64: 217 },
  request_key: { x64: 249, arm64: 218 },
  // large kernel attack surfaces no task uses
  bpf: { x64: 321, arm64: 280 },
  perf_event_open: { x64: 298, arm64: 241 },
  userfaultfd: { x64: 323, arm64: 282 },
  io_uring_setup: { x64: 425, arm64: 425 },
  io_uring_enter: { x64: 426, arm64: 426 },
  io_uring_register: { x64: 427, arm64: 427 },
};

const AUDIT_ARCH = { x64: 0xc000003e, arm64: 0xc00000b7 } as const;
/** x86_64 numbers with this bit set are the x32 ABI. */
const X32_SYSCALL_BIT = 0x40000000;

// classic BPF opcodes
const LD_W_ABS = 0x20;
const JEQ_K = 0x15;
const JGE_K = 0x35;
const RET_K = 0x06;
const RET_KILL_PROCESS = 0x80000000;
const RET_ERRNO = 0x00050000;
const RET_ALLOW = 0x7fff0000;
const EPERM = 1;
/** Offsets in struct seccomp_data. */
const NR_OFFSET = 0;
const ARCH_OFFSET = 4;

export type SeccompArch = keyof typeof AUDIT_ARCH;

/** The architecture of this process, or null where no filter is built (the sandbox then says so). */
export function seccompArch(arch: string = os.arch()): SeccompArch | null {
  return arch === 'x64' ? 'x64' : arch === 'arm64' ? 'arm64' : null;
}

interface Insn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

/** The filter as bwrap reads it: struct sock_filter[] in host byte order (both architectures are little-endian). */
export function buildSeccompFilter(arch: SeccompArch): Buffer {
  const nrs = [...new Set(Object.values(DENIED_SYSCALLS).map((n) => n[arch]))].sort((a, b) => a - b);
  const prog: Insn[] = [];
  const insn = (code: number, k: number, jt = 0, jf = 0) => prog.push({ code, jt, jf, k });
  insn(LD_W_ABS, ARCH_OFFSET);
  insn(JEQ_K, AUDIT_ARCH[arch], 1, 0);
  insn(RET_K, RET_KILL_PROCESS);
  insn(LD_W_ABS, NR_OFFSET);
  // Each test jumps forward to the shared deny at the end; the final ALLOW sits just before it.
  const tests = nrs.length + (arch === 'x64' ? 1 : 0);
  let remaining = tests;
  if (arch === 'x64') insn(JGE_K, X32_SYSCALL_BIT, --remaining + 1, 0);
  for (const nr of nrs) insn(JEQ_K, nr, --remaining + 1, 0);
  insn(RET_K, RET_ALLOW);
  insn(RET_K, RET_ERRNO | EPERM);
  if (tests > 255) throw new Error('seccomp filter: too many rules for 8-bit jumps');
  const buf = Buffer.alloc(prog.length * 8);
  prog.forEach((p, i) => {
    buf.writeUInt16LE(p.code, i * 8);
    buf.writeUInt8(p.jt, i * 8 + 2);
    buf.writeUInt8(p.jf, i * 8 + 3);
    buf.writeUInt32LE(p.k >>> 0, i * 8 + 4);
  });
  return buf;
}
