/** What a task needs of the Python environment; checked by python/requirements.ts, declared in task.ts. */
import { z } from 'zod';

export const RequirementsSchema = z.object({
  /** Modules that must import in the configured interpreter. */
  pythonModules: z.array(z.string().regex(/^[A-Za-z_][\w.]*$/)).default([]),
  /** Minimum torch version, e.g. "1.13". */
  minTorch: z.string().regex(/^\d+\.\d+(\.\d+)?$/, 'write a version such as "1.13" or "2.1.0"').optional(),
  /** none: never bind GPUs; optional: use CUDA when present; required: skip the task without CUDA. */
  cuda: z.enum(['none', 'optional', 'required']).default('none'),
});
export type Requirements = z.infer<typeof RequirementsSchema>;
