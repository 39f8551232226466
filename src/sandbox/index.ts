export * from './types.js';
export * from './limits.js';
export {
  createSandbox,
  buildBwrapArgv,
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
  type CreateSandboxOptions,
  type HostLayout,
} from './bwrap.js';
