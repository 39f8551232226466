export * from './types.js';
export * from './limits.js';
export {
  createSandbox,
  buildBwrapArgv,
  planBwrap,
  prlimitWrap,
  taskLimitFor,
  detectHostLayout,
  findPidsCgroupBase,
  baseSandboxEnv,
  ETC_ALLOWLIST,
  GPU_READ_ONLY_PATHS,
  SANDBOX_NICE,
  SANDBOX_PATH,
  SANDBOX_TMP,
  SANDBOX_WORKSPACE,
  type BwrapArgvInput,
  type BwrapPlan,
  type CreateSandboxOptions,
  type HostLayout,
} from './bwrap.js';
export { detectCgroups, type CgroupSupport } from './cgroups.js';
export { DENIED_SYSCALLS, buildSeccompFilter, seccompArch } from './seccomp.js';
export { DEFAULT_SANDBOX_ID, sandboxIdentity } from './identity.js';
export { MAX_DISK_ENTRIES } from './disk.js';
