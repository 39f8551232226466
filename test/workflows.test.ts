import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { lintWorkflows } from '../src/github/workflow-lint.js';

const root = path.resolve(import.meta.dirname, '..');
const readYaml = async (rel: string) => parseYaml(await fs.readFile(path.join(root, rel), 'utf8'));

describe('workflow lint', () => {
  it('the repository\'s workflows and actions are clean', async () => {
    expect(await lintWorkflows(root)).toEqual([]);
  }, 60_000);

  it('catches what actionlint, the action schema and the envbench rules each catch', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'envbench-lint-'));
    try {
      await fs.mkdir(path.join(dir, '.github', 'workflows'), { recursive: true });
      await fs.mkdir(path.join(dir, 'actions', 'run-eval'), { recursive: true });
      await fs.mkdir(path.join(dir, 'actions', 'broken'), { recursive: true });
      await fs.writeFile(
        path.join(dir, 'actions', 'run-eval', 'action.yml'),
        'name: x\ndescription: x\ninputs:\n  models:\n    description: m\n    required: true\n  unused:\n    description: u\nruns:\n  using: composite\n  steps:\n    - shell: bash\n      run: echo\n      env:\n        INPUT_MODELS: ${{ inputs.models }}\n',
      );
      await fs.writeFile(path.join(dir, 'actions', 'broken', 'action.yml'), 'name: x\nruns:\n  using: composite\n');
      await fs.writeFile(
        path.join(dir, '.github', 'workflows', 'bad.yml'),
        [
          'on: pull_request',
          'jobs:',
          '  a:',
          '    runs-on: [self-hosted, gpu]',
          '    steps:',
          '      - run: echo "${{ github.event.pull_request.title }}"',
          '      - uses: ./actions/run-eval',
          '        with:',
          '          modles: x',
          '      - uses: ./actions/missing',
          '      - uses: actions/checkout@v4',
          '        with:',
          '          token: ${{ secrets.ANTHROPIC_API_KEY }}',
          '  b:',
          '    runs-on: ubuntu-latest',
          '    permissions:',
          '      contents: reed',
          '    steps:',
          '      - run: echo ${{ vars.GITHUB_X }}',
        ].join('\n') + '\n',
      );
      const problems = (await lintWorkflows(dir)).map((p) => `${p.file}: ${p.message}`);
      const expectOne = (re: RegExp) => expect(problems.some((p) => re.test(p)), `${re} in\n${problems.join('\n')}`).toBe(true);
      expectOne(/bad\.yml: .*potentially untrusted.*\[actionlint expression\]/);
      expectOne(/bad\.yml: .*"reed" is invalid for permission.*\[actionlint permissions\]/);
      expectOne(/actions\/broken\/action\.yml: /); // no description, no steps: the metadata schema
      expectOne(/actions\/run-eval\/action\.yml: input "unused" is declared but never used/);
      expectOne(/job "a", step 2: \.\/actions\/run-eval has no input "modles"/);
      expectOne(/job "a", step 2: \.\/actions\/run-eval needs input "models"/);
      expectOne(/job "a", step 3: uses \.\/actions\/missing, which has no action\.yml/);
      expectOne(/job "a", step 4: secrets\.ANTHROPIC_API_KEY may be passed only to \.\/actions\/run-eval/);
      expectOne(/job "a": no permissions/);
      expectOne(/job "a": runs on self-hosted runners for pull requests without the fork guard/);
      expectOne(/vars\.GITHUB_X: not a valid configuration variable name/);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('the full grader set', () => {
  it('the graders workflow runs every submission through the sandbox on changes to tasks, graders and the sandbox', async () => {
    const wf = await readYaml('.github/workflows/graders.yml');
    const pkg = JSON.parse(await fs.readFile(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts['test:graders']).toMatch(/^ENVBENCH_FULL_GRADER_TESTS=1 vitest run tasks\/$/);
    const steps = wf.jobs['full-grader-set'].steps as { run?: string; env?: Record<string, string> }[];
    const run = steps.find((s) => s.run === 'npm run test:graders');
    expect(run?.env).toMatchObject({ CI: 'true', ENVBENCH_PYTHON: '/usr/bin/python3' });
    for (const on of [wf.on.push, wf.on.pull_request]) expect(on.paths).toEqual(expect.arrayContaining(['tasks/**', 'src/grading/**', 'src/sandbox/**']));
    expect(wf.permissions).toEqual({ contents: 'read' });
  });
});

describe('workflow security choices', () => {
  it('pr-eval runs only same-repository PRs with the maintainer label, and only the report job may write', async () => {
    const wf = await readYaml('.github/workflows/pr-eval.yml');
    expect(wf.permissions).toEqual({});
    expect(wf.jobs.eval.if).toContain('github.event.pull_request.head.repo.full_name == github.repository');
    expect(wf.jobs.eval.if).toMatch(/contains\(github\.event\.pull_request\.labels\.\*\.name/);
    expect(wf.jobs.eval.permissions).toEqual({ contents: 'read' });
    expect(wf.jobs.report.permissions).toEqual({ contents: 'read', 'pull-requests': 'write' });
    expect(JSON.stringify(wf.jobs.report)).not.toContain('ANTHROPIC_API_KEY');
    expect(wf.jobs.eval.steps.find((s: { uses?: string }) => s.uses === './actions/run-eval').with.tasks).toBe('affected');
  });

  it('pr-eval runs the sequential gate and keeps its progress across attempts', async () => {
    const wf = await readYaml('.github/workflows/pr-eval.yml');
    const steps = wf.jobs.eval.steps as { uses?: string; if?: string; with?: Record<string, string> }[];
    const evalAt = steps.findIndex((s) => s.uses === './actions/run-eval');
    expect(steps[evalAt]!.with!.sequential).toBe('true');
    const restore = steps.findIndex((s) => s.uses?.startsWith('actions/cache/restore@'));
    const save = steps.findIndex((s) => s.uses?.startsWith('actions/cache/save@'));
    expect(restore).toBeGreaterThanOrEqual(0);
    expect(restore).toBeLessThan(evalAt);
    expect(save).toBeGreaterThan(evalAt);
    // Saved even when the eval step fails or is cancelled; restored from any attempt on the same head commit.
    expect(steps[save]!.if).toBe('always()');
    expect(steps[restore]!.with!.path).toBe('.runs/sequential');
    expect(steps[save]!.with!.path).toBe('.runs/sequential');
    expect(steps[restore]!.with!['restore-keys']).toContain('github.event.pull_request.head.sha');
  });

  it('scheduled spreads models x shards over GPU runners and publishes from one concurrency group', async () => {
    const wf = await readYaml('.github/workflows/scheduled.yml');
    expect(wf.concurrency).toEqual({ group: 'envbench-publish', 'cancel-in-progress': false });
    expect(Object.keys(wf.jobs.eval.strategy.matrix).sort()).toEqual(['model', 'shard']);
    expect(wf.jobs.eval.permissions).toEqual({ contents: 'read' });
    expect(wf.jobs.publish.permissions).toEqual({ contents: 'write' });
    expect(JSON.stringify(wf.jobs.publish)).not.toContain('ANTHROPIC_API_KEY');
    expect(Object.keys(wf.on).sort()).toEqual(['schedule', 'workflow_dispatch']);
  });

  it('every setup-node is on a maintained LTS (>= 22); ci also keeps the oldest supported Node (20) green', async () => {
    const versions: string[] = [];
    for (const f of ['ci.yml', 'pr-eval.yml', 'scheduled.yml']) {
      const wf = await readYaml(`.github/workflows/${f}`);
      for (const job of Object.values(wf.jobs) as Array<{ steps: Array<{ uses?: string; with?: Record<string, unknown> }>; strategy?: { matrix?: { node?: number[] } } }>) {
        for (const s of job.steps.filter((x) => x.uses?.startsWith('actions/setup-node'))) {
          const v = String(s.with?.['node-version']);
          if (v === '${{ matrix.node }}') versions.push(...job.strategy!.matrix!.node!.map(String));
          else versions.push(v);
        }
      }
    }
    const ci = await readYaml('.github/workflows/ci.yml');
    expect(ci.jobs.test.strategy.matrix.node).toEqual(expect.arrayContaining([20]));
    expect(versions.filter((v) => v !== '20').every((v) => Number(v) >= 22)).toBe(true);
    expect(versions.some((v) => Number(v) >= 22)).toBe(true);
    const pkg = JSON.parse(await fs.readFile(path.join(root, 'package.json'), 'utf8'));
    expect(pkg.engines.node).toBe('>=20');
  });

  it('scheduled publishes to the default branch on schedule events too (they carry no event.repository)', async () => {
    const wf = await readYaml('.github/workflows/scheduled.yml');
    const branch = wf.jobs.publish.steps.find((s: { uses?: string }) => s.uses === './actions/publish-results').with.branch;
    // Schedule runs check out the default branch: ref_name is it when event.repository is absent.
    expect(branch).toBe('${{ github.event.repository.default_branch || github.ref_name }}');
    expect(branch).not.toContain("'main'");
  });

  it('pr-eval: adding another label neither starts nor cancels an eval (job-level concurrency, label checked)', async () => {
    const wf = await readYaml('.github/workflows/pr-eval.yml');
    expect(wf.on.pull_request.types).toContain('labeled');
    // A workflow-level group would cancel the running eval before the job's `if:` is even evaluated.
    expect(wf.concurrency).toBeUndefined();
    expect(wf.jobs.eval.concurrency).toEqual({ group: 'pr-eval-${{ github.event.pull_request.number }}', 'cancel-in-progress': true });
    expect(wf.jobs.eval.if).toContain("github.event.action != 'labeled' || github.event.label.name == (vars.ENVBENCH_EVAL_LABEL || 'run-eval')");
  });

  it('ci lints the workflows and checks the README is current', async () => {
    const wf = await readYaml('.github/workflows/ci.yml');
    const runs = wf.jobs.test.steps.map((s: { run?: string }) => s.run ?? '').join('\n');
    expect(runs).toContain('npm run lint:workflows');
    expect(runs).toContain('npm test');
    expect(runs).toContain('validate');
    expect(runs).toContain('report --check');
  });
});

describe('repository hygiene', () => {
  it('runs/ (the README\'s --out runs/pa.json) is ignored by git, with its journal, transcripts and report', async () => {
    const { execFileSync } = await import('node:child_process');
    const ignored = execFileSync('git', ['check-ignore', '--no-index', 'runs/pa.json', 'runs/pa.journal.jsonl', 'runs/pa.transcripts.jsonl', 'runs/pa.html'], { cwd: root }).toString();
    expect(ignored.trim().split('\n')).toHaveLength(4);
  });
});
