/**
 * Runs an action's entry point the way the GitHub runner does for our composite actions: a separate Node
 * process, inputs as INPUT_<NAME> variables, the event payload in GITHUB_EVENT_PATH, outputs written to the
 * GITHUB_OUTPUT file, the job summary to GITHUB_STEP_SUMMARY, annotations as ::error/::warning commands.
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

export interface ActionRun {
  code: number;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  summary: string;
}

/** Parses the GITHUB_OUTPUT file format of @actions/core (name<<DELIMITER ... DELIMITER). */
export function parseOutputFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^([^<=]+)<<(.+)$/.exec(lines[i]!);
    if (m) {
      const end = lines.indexOf(m[2]!, i + 1);
      out[m[1]!] = lines.slice(i + 1, end).join('\n');
      i = end;
    } else if (lines[i]!.includes('=')) {
      const [k, ...v] = lines[i]!.split('=');
      out[k!] = v.join('=');
    }
  }
  return out;
}

export async function runActionEntry(
  action: string,
  o: { inputs: Record<string, string>; event?: { name: string; payload: unknown }; cwd: string; env?: Record<string, string>; timeoutMs?: number },
): Promise<ActionRun> {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), `envbench-action-${action}-`));
  try {
    const outputFile = path.join(tmp, 'output');
    const summaryFile = path.join(tmp, 'summary');
    const eventFile = path.join(tmp, 'event.json');
    await fs.writeFile(outputFile, '');
    await fs.writeFile(summaryFile, '');
    await fs.writeFile(eventFile, JSON.stringify(o.event?.payload ?? {}));
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? tmp,
      GITHUB_ACTIONS: 'true',
      CI: 'true',
      GITHUB_EVENT_NAME: o.event?.name ?? 'workflow_dispatch',
      GITHUB_EVENT_PATH: eventFile,
      GITHUB_OUTPUT: outputFile,
      GITHUB_STEP_SUMMARY: summaryFile,
      GITHUB_REPOSITORY: 'envbench-org/envbench',
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_RUN_ID: '4242',
      GITHUB_WORKSPACE: o.cwd,
      ...(process.env.ENVBENCH_PYTHON ? { ENVBENCH_PYTHON: process.env.ENVBENCH_PYTHON } : {}),
      ...Object.fromEntries(Object.entries(o.inputs).map(([k, v]) => [`INPUT_${k.toUpperCase()}`, v])),
      ...o.env,
    };
    // What `node --import tsx` loads (the composite actions run their entry with it).
    const tsx = pathToFileURL(path.join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
    const entry = path.join(ROOT, 'actions', action, 'main.ts');
    const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, ['--import', tsx, entry], { cwd: o.cwd, env, timeout: o.timeoutMs ?? 240_000, maxBuffer: 32 * 1024 * 1024 }, (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      });
    });
    return { ...r, outputs: parseOutputFile(await fs.readFile(outputFile, 'utf8')), summary: await fs.readFile(summaryFile, 'utf8') };
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}
