import * as core from '@actions/core';
import { z } from 'zod';

export class ActionInputError extends Error {
  override name = 'ActionInputError';
}

/**
 * Reads an action's inputs (INPUT_<NAME> as the runner sets them; empty means not given) and validates them
 * with zod. A bad input fails with a message naming the input, what was wrong and the fix.
 */
export function readInputs<S extends z.ZodObject>(action: string, schema: S): z.infer<S> {
  const raw: Record<string, string | undefined> = {};
  for (const name of Object.keys(schema.shape)) {
    const v = core.getInput(name);
    raw[name] = v === '' ? undefined : v;
  }
  const r = schema.safeParse(raw);
  if (!r.success) {
    const lines = r.error.issues.map((i) => {
      const name = i.path.map(String).join('.');
      return `  - input \`${name}\`${raw[name] !== undefined ? ` (got ${JSON.stringify(raw[name])})` : ''}: ${i.message}`;
    });
    throw new ActionInputError(`${action}: invalid inputs (see actions/${action}/action.yml):\n${lines.join('\n')}`);
  }
  return r.data;
}

/** Input helpers: every value arrives as a string. */
export const inputs = {
  bool: (dflt: boolean) =>
    z
      .enum(['true', 'false'], { error: 'write true or false' })
      .optional()
      .transform((v) => (v === undefined ? dflt : v === 'true')),
  int: (dflt: number, min: number, max: number) =>
    z
      .string()
      .regex(/^\d+$/, 'write a whole number')
      .transform(Number)
      .pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`))
      .optional()
      .transform((v) => v ?? dflt),
  list: () =>
    z
      .string()
      .transform((s) => s.split(/[\s,]+/).map((x) => x.trim()).filter(Boolean))
      .pipe(z.array(z.string()).min(1, 'give at least one name (comma- or newline-separated)')),
};

/** Errors that mean a bug in envbench rather than a problem with the inputs, the data or the environment. */
const BUG = [TypeError, RangeError, ReferenceError, SyntaxError];

/**
 * Runs an action's body; an error fails the step with its message. Domain errors (bad inputs, a lost publish
 * race, an invalid record) are explained by their message; only what looks like a bug gets its stack.
 */
export async function runAction(body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (e) {
    const bug = BUG.some((B) => e instanceof B);
    core.setFailed(e instanceof Error ? (bug ? (e.stack ?? e.message) : e.message) : String(e));
  }
}
