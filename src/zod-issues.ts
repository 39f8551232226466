/** zod issues as the harness prints them: one "field.path: message" line each. */
import type { z } from 'zod';

/** Formats zod issues as "field.path: message" lines. */
export function formatIssues(error: z.ZodError): string {
  return error.issues
    .map((i) => `  - ${i.path.length ? i.path.map(String).join('.') : '(root)'}: ${i.message}`)
    .join('\n');
}
