import { z } from 'zod';

/** What enforced each guarantee for a sandbox; the run record keeps it (schema here, the one place). */
export const SandboxEnforcementSchema = z.object({
  /** Host uid sandboxed code runs as. */
  uid: z.int(),
  /** `sandbox-uid`: a root harness dropped to ENVBENCH_SANDBOX_UID; `harness`: the harness's own, unprivileged uid. */
  uidSource: z.enum(['sandbox-uid', 'harness']),
  /** A memory cgroup counts every page (memfd, tmpfs, /dev/shm too); the watchdog polls RSS/PSS plus shared memory. */
  memory: z.enum(['cgroup-v2', 'cgroup-v1', 'watchdog']),
  /** A pids cgroup, else RLIMIT_NPROC in the user namespace, backed by the watchdog. */
  pids: z.enum(['cgroup-v2', 'cgroup-v1', 'rlimit', 'watchdog']),
  /** CPU time of the whole tree (SandboxExecResult.cpuMs). */
  cpuTime: z.enum(['cgroup-v2', 'cgroup-v1', 'none']),
  disk: z.enum(['watchdog']),
  /** The seccomp deny-list is loaded (bwrap mode on x86_64 and aarch64). */
  seccomp: z.boolean(),
});
export type SandboxEnforcement = z.infer<typeof SandboxEnforcementSchema>;
