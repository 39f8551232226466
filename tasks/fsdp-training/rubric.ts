import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineRubric, type Rubric, rubricMaxPoints } from '../../src/task-api.js';

/**
 * The seed's 10-point rubric for the FSDP conversion (pass at 8), as the judge receives it. This file is the
 * source of truth: rubric.md is generated from it (`npx tsx tasks/fsdp-training/rubric.ts`), and a test
 * checks that the two match.
 */
export const rubric = defineRubric({
  id: 'fsdp-training',
  title: 'Convert a single-GPU transformer training script to PyTorch FSDP',
  criteria: [
    {
      id: 'distributed-init',
      title: 'Distributed initialization',
      points: 1,
      pass:
        '`torch.distributed.init_process_group` is called with the NCCL backend before any collective or FSDP call, and the ' +
        "process's GPU is chosen from `LOCAL_RANK` read from the environment (`torch.cuda.set_device(local_rank)`, or FSDP's `device_id`).",
      fail:
        'Another backend, or no initialization. The GPU is chosen from the global rank (`dist.get_rank()` or `$RANK`), which is ' +
        'wrong on more than one node, or `LOCAL_RANK` is hard-coded.',
    },
    {
      id: 'fsdp-wrapping',
      title: 'FSDP wrapping',
      points: 2,
      pass:
        'Two parts, 1 point each. (1) The policy: the model is wrapped in `FullyShardedDataParallel` with ' +
        '`auto_wrap_policy=functools.partial(lambda_auto_wrap_policy, lambda_fn=<custom function>)`, or with a policy function of ' +
        'signature `(module, recurse, nonwrapped_numel)` that calls `lambda_auto_wrap_policy(..., lambda_fn=...)`. ' +
        '(2) The rule: the custom function returns true for every `TransformerBlock` OR for any module with more than 1,000,000 ' +
        'parameters, and counts parameters correctly: with `numel()`, without counting a second time the parameters already ' +
        'inside wrapped children (for example by counting direct parameters only, or skipping FSDP children), and without making ' +
        'the `blocks` container (`nn.ModuleList`) an FSDP unit.',
      fail:
        'Part (1) earns nothing when `transformer_auto_wrap_policy` is used or imported, another policy is used (size-based, ' +
        '`ModuleWrapPolicy`), or the signature is wrong. Part (2) earns nothing when the two tests are joined with AND, the ' +
        'threshold is not 1M, modules are counted instead of parameters, or the count makes the `ModuleList` an FSDP unit.',
    },
    {
      id: 'data-distribution',
      title: 'Data distribution',
      points: 2,
      pass:
        'Two parts, 1 point each. (1) A `DistributedSampler` over the dataset, with the right `num_replicas`/`rank` or the ' +
        "process group's defaults, is passed to the `DataLoader` as `sampler=`, and the loader does not also set `shuffle=True`. " +
        '(2) `sampler.set_epoch(epoch)` is called at the start of every epoch, inside the epoch loop, with the epoch number.',
      fail:
        'Part (1) earns nothing without a `DistributedSampler` given as `sampler=`, or with `shuffle=True` beside it. Part (2) ' +
        "earns nothing when `set_epoch` is called once, with a constant, or after the epoch's batches.",
    },
    {
      id: 'checkpointing',
      title: 'Checkpoint handling',
      points: 2,
      pass:
        'Two parts, 1 point each. (1) The full state dict is gathered with `FSDP.state_dict_type(model, ' +
        'StateDictType.FULL_STATE_DICT, FullStateDictConfig(offload_to_cpu=True, rank0_only=True))`, and `model.state_dict()` is ' +
        'called inside that context on every rank (it is a collective). (2) Only global rank 0 writes the file (`torch.save` ' +
        'under `if rank == 0`), and it writes the gathered state dict to `$CHECKPOINT_PATH`.',
      fail:
        'Part (1) earns nothing when `model.state_dict()` is called on rank 0 only (a deadlock), sharded or local state dicts ' +
        'are used, or `FullStateDictConfig` is missing or lacks `offload_to_cpu=True` and `rank0_only=True`. Part (2) earns ' +
        'nothing when every rank saves, the guard uses `LOCAL_RANK` (one writer per node), or the saved object is not the ' +
        'gathered state dict.',
    },
    {
      id: 'cleanup',
      title: 'Cleanup',
      points: 1,
      pass: '`torch.distributed.destroy_process_group()` runs at the end of training, on every rank (a barrier before it is fine).',
      fail: 'It is missing, or it sits only in an error path or in code that never runs.',
    },
    {
      id: 'optimizer-after-fsdp',
      title: 'Optimizer after FSDP',
      points: 1,
      pass: "The optimizer is constructed from the FSDP-wrapped model's parameters, after the `FSDP(...)` call.",
      fail: 'The optimizer is created before wrapping: it then holds the original parameters, which FSDP replaces with its flat parameters.',
    },
    {
      id: 'overall-correctness',
      title: 'Overall correctness',
      points: 1,
      pass:
        'The script would run under `torchrun` on one or more GPUs without errors: the imports are correct; tensors are on the ' +
        'local GPU; the model classes, hyperparameters and dataset are unchanged from the original; the training loop still ' +
        'trains (zero_grad, backward, step); and logging never calls a collective on one rank only.',
      fail: 'Any of these is broken: a crash, a hang or deadlock, a changed model or dataset, or no training.',
    },
  ],
  passRule: { kind: 'threshold', minPoints: 8 },
  instructions: [
    'The assignment above the submission contains the original single-GPU script: compare the submission with it.',
    'Grade only code that runs when the script is launched with `torchrun`: module-level statements, the `__main__` block, and the functions and classes they reach. Code in comments, strings, unused functions or unreachable branches earns nothing.',
    'A criterion worth 2 points has two parts worth 1 point each, as it states: award 1 when exactly one part holds.',
    "Judge against PyTorch's real FSDP API (torch 2.x): `lambda_auto_wrap_policy(module, recurse, nonwrapped_numel, lambda_fn)` calls `lambda_fn(module)` with the module only; a policy given directly as `auto_wrap_policy` is called as `(module, recurse, nonwrapped_numel)`.",
    'Auto-wrapping goes bottom-up: when the rule is asked about the `blocks` ModuleList, the blocks inside it are already FSDP units. A count over all of `module.parameters()` includes them, exceeds 1M, and makes the ModuleList an extra FSDP unit. That is the parameter-counting error of the FSDP wrapping criterion.',
    'Be strict: code that looks right but has one of the listed failures loses that point.',
  ].join('\n'),
});

const plural = (n: number) => `${n} point${n === 1 ? '' : 's'}`;

/** rubric.md, the human-readable copy: generated from `rubric`, never edited by hand. */
export function rubricMarkdown(r: Rubric = rubric): string {
  const max = rubricMaxPoints(r);
  const minPoints = r.passRule.kind === 'threshold' ? r.passRule.minPoints : max;
  const lines = [
    '# FSDP conversion rubric (for the LLM judge)',
    '',
    '<!-- Generated from rubric.ts by `npx tsx tasks/fsdp-training/rubric.ts`. Edit rubric.ts, not this file. -->',
    '',
    `The judge (\`grader.ts\`) reads the submitted script with the assignment, which contains the single-GPU original`,
    '(`starter.py`), and awards the points below.',
    '',
    `**Pass: ${minPoints} or more of ${max} points.**`,
    '',
    '| # | criterion | points |',
    '|---|---|---|',
    ...r.criteria.map((c, i) => `| ${i + 1} | ${c.title} | ${c.points} |`),
    '',
    '## Instructions to the judge',
    '',
    ...(r.instructions ?? '').split('\n').map((l) => `- ${l}`),
    '',
  ];
  r.criteria.forEach((c, i) => {
    lines.push(`## ${i + 1}. ${c.title} (${plural(c.points)}; id \`${c.id}\`)`, '', `**Pass:** ${c.pass}`, '', `**Fail:** ${c.fail}`, '');
  });
  lines.push(
    '## Output',
    '',
    'The judge records, per criterion, a one-line justification and the points, then a short summary; the grader adds up',
    `the total out of ${max} and applies the pass rule. Each criterion is a check \`judge:<id>\`; the total is \`judge:verdict\`.`,
    '',
  );
  return lines.join('\n');
}

// Run directly: regenerate rubric.md beside this file.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = path.join(path.dirname(fileURLToPath(import.meta.url)), 'rubric.md');
  // No top-level await: this module is imported by the grader, and stays loadable in any module format.
  void writeFile(out, rubricMarkdown()).then(() => console.log(`wrote ${out}`));
}
