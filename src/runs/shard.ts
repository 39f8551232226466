import { z } from 'zod';

/** One part of a plan split over machines: `index` of `count`, 1-based as written ("2/4"). */
export const ShardSchema = z
  .string()
  .trim()
  .regex(/^\d+\/\d+$/, 'write the shard as i/n, e.g. "1/4" (1-based)')
  .transform((s) => {
    const [index, count] = s.split('/').map(Number) as [number, number];
    return { index, count };
  })
  .refine((s) => s.count >= 1 && s.count <= 256, { message: 'the shard count n must be between 1 and 256' })
  .refine((s) => s.index >= 1 && s.index <= s.count, { message: 'the shard index i must be between 1 and n' });
export type Shard = z.output<typeof ShardSchema>;

export const ShardInfoSchema = z.object({ index: z.int().positive(), count: z.int().positive() });

/**
 * The trials of one shard. Round-robin over the plan order, so every shard gets a share of every task
 * and model (a shard of only slow tasks would finish last), and the shards of one plan are disjoint and
 * together cover it exactly, whatever n is.
 */
export function shardTrials<T>(trials: readonly T[], shard: Shard): T[] {
  return trials.filter((_, i) => i % shard.count === shard.index - 1);
}
