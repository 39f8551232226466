import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { main } from '../../src/cli/main.js';
import { RUBRIC_VERDICT_TOOL } from '../../src/grading/rubric-judge.js';
import { scriptSafeJson } from '../../src/reports/viewer/html.js';
import { bounded, loadViewerData, MAX_TEXT } from '../../src/reports/viewer/data.js';
import { startMessagesServer, toolUseReply, textReply, type MessagesServer } from '../support/messages-server.js';

/** Debian's chromium (.ci/run installs it); ENVBENCH_CHROMIUM names another Chromium-based browser (CI's Chrome). */
const CHROMIUM = process.env.ENVBENCH_CHROMIUM || '/usr/bin/chromium';
const judgeTasks = path.join(import.meta.dirname, '..', 'fixtures', 'judge-tasks');

/** What a hostile model writes, everywhere it can: thinking, text, tool input, the submission, the judge's justification. */
const XSS = `</script><script>window.__xss=1</script><img src=x onerror="window.__xss=2"><!--`;
const ESSAY = `Bubble sort repeatedly swaps adjacent out-of-order pairs in passes until none is left; it takes O(n^2) time. Example: [3,1,2] becomes [1,2,3]. ${XSS}`;

const verdict = (points: number) => ({
  criteria: {
    mechanism: { justification: `swaps ${XSS}`, points: Math.min(points, 2) },
    complexity: { justification: 'O(n^2)', points: Math.min(Math.max(points - 2, 0), 2) },
    example: { justification: 'traced', points: points >= 5 ? 1 : 0 },
  },
  summary: `verdict summary ${XSS}`,
});

async function cli(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const saved = process.env.ENVBENCH_TASKS_DIR;
  process.env.ENVBENCH_TASKS_DIR = judgeTasks;
  try {
    const code = await main(argv, { out: (s) => out.push(s), err: (s) => err.push(s) }, { ...process.env, ...env });
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    if (saved === undefined) delete process.env.ENVBENCH_TASKS_DIR;
    else process.env.ENVBENCH_TASKS_DIR = saved;
  }
}

let server: MessagesServer;
let dir: string;
let html: string;
let record: string;

beforeAll(async () => {
  // The scripted model: a thought, an unknown tool called with hostile input, then the essay. The judge passes epoch 0, fails epoch 1.
  let judged = 0;
  server = await startMessagesServer((body) => {
    if (body.tools?.[0]?.name === RUBRIC_VERDICT_TOOL) return toolUseReply(RUBRIC_VERDICT_TOOL, verdict(judged++ === 0 ? 5 : 1), { usage: { input_tokens: 900, output_tokens: 100 } });
    const turn = body.messages.filter((m: { role: string }) => m.role === 'assistant').length;
    if (turn === 0) return toolUseReply('bash', { cmd: `echo ${XSS}` }, { thinking: `I should look around ${XSS}`, text: `Let me look ${XSS}`, usage: { input_tokens: 200, output_tokens: 50 } });
    if (turn === 1) return toolUseReply('submit_answer', { essay: ESSAY }, { usage: { input_tokens: 300, output_tokens: 80 } });
    return textReply('unexpected');
  });
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'envbench-viewer-'));
  record = path.join(dir, 'run.json');
  const run = await cli(['run', '--models', 'anthropic:claude-haiku-4-5', '--epochs', '2', '--concurrency', '1', '--judge', 'anthropic:claude-haiku-4-5', '--out', record], {
    ANTHROPIC_API_KEY: 'sk-test',
    ANTHROPIC_BASE_URL: server.url,
  });
  expect(run.code, run.err).toBe(0);
  const view = await cli(['view', record]);
  expect(view.code, view.err).toBe(0);
  expect(view.out).toBe(`report: ${path.join(dir, 'run.html')}`);
  html = await fs.readFile(path.join(dir, 'run.html'), 'utf8');
});

afterAll(async () => {
  await server?.close();
});

describe('the HTML report, as text', () => {
  it('is one self-contained file: no external script, style, image or fetch, and a CSP that allows no network', () => {
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=|<img|https?:\/\//);
    expect(html).toMatch(/Content-Security-Policy" content="default-src 'none'; script-src 'sha256-[^']+'; style-src 'sha256-[^']+'; img-src 'none'; connect-src 'none'/);
  });

  it('carries hostile text only as escaped JSON: no "</script>", "<img" or "<!--" from a transcript reaches the markup', () => {
    expect(html).toContain('window.__xss=1'); // the text is there, as data...
    expect(html).not.toContain('<script>window.__xss'); // ...never as markup
    expect(html).not.toContain('<img src=x');
    expect(html).not.toContain('<!--');
    expect(html.match(/<\/script>/g)).toHaveLength(2); // the data element's and the page script's own
  });

  it('scriptSafeJson round-trips every character and escapes the ones that could end a script element', () => {
    const v = { a: XSS, b: '\u2028\u2029&<>' };
    const s = scriptSafeJson(v);
    expect(s).not.toMatch(/[<>&\u2028\u2029]/);
    expect(JSON.parse(s)).toEqual(v);
  });

  it('a record whose transcripts are gone still makes a report, saying so; huge texts are cut with a note', async () => {
    const lone = path.join(dir, 'elsewhere');
    await fs.mkdir(lone, { recursive: true });
    await fs.copyFile(record, path.join(lone, 'run.json'));
    const data = await loadViewerData(path.join(lone, 'run.json'));
    expect(data.trials).toHaveLength(2);
    expect(data.trials.every((t) => t.events === null)).toBe(true);
    expect(data.warnings.join('\n')).toMatch(/run\.transcripts\.jsonl: not found/);
    const cut = bounded({ a: ['x'.repeat(MAX_TEXT + 10)] }) as { a: string[] };
    expect(cut.a[0]).toMatch(/^x{100000}\n… \(10 more characters left out of the report\)$/);
  });

  it('view refuses a missing or invalid record with exit 2 and one message', async () => {
    const missing = await cli(['view', path.join(dir, 'nope.json')]);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/view: .*nope\.json: cannot read run record/);
    expect(missing.err).not.toMatch(/\n\s+at /);
    const none = await cli(['view']);
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/give the run record/);
  });
});

const haveChromium = existsSync(CHROMIUM);
// .ci/run installs chromium; in CI a missing browser is a failure, not a skip.
const inBrowser = haveChromium || process.env.CI ? describe : describe.skip;

inBrowser('the HTML report in Debian chromium (playwright-core)', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  it('shows the trials, filters them, and opens a trial with its transcript, checks and judge; hostile text stays text', async () => {
    const page = await browser.newPage();
    const requests: string[] = [];
    const errors: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    page.on('pageerror', (e) => errors.push(e.message));
    const url = pathToFileURL(path.join(dir, 'run.html')).href;
    await page.goto(url);

    const rows = page.locator('#trials tbody tr');
    await expect.poll(() => rows.count()).toBe(2);
    const header = await page.locator('#trials thead').innerText();
    for (const col of ['task', 'variant', 'sample', 'model', 'epoch', 'status', 'limit', 'score', 'turns', 'tokens', 'cost', 'duration']) expect(header).toContain(col);
    const firstRow = await rows.nth(0).innerText();
    expect(firstRow).toMatch(/essay\s+default\s+default\s+anthropic:claude-haiku-4-5\s+0\s+passed/);
    expect(firstRow).toMatch(/\$0\.\d{4}/);

    // Filters: the failed trial alone, then all again.
    await page.selectOption('#filter-status', 'failed');
    expect(await page.locator('#trials tbody tr:not([hidden])').count()).toBe(1);
    expect(await page.locator('#shown-count').innerText()).toBe('1 of 2 trial(s) shown');
    await page.selectOption('#filter-status', '');
    await page.fill('#filter-text', 'no-such-model');
    expect(await page.locator('#trials tbody tr:not([hidden])').count()).toBe(0);
    await page.fill('#filter-text', '');

    // Into the first trial.
    await rows.nth(0).click();
    const detail = page.locator('#detail');
    await expect.poll(() => detail.isVisible()).toBe(true);
    const text = await detail.innerText();
    expect(text).toContain('essay/default/default/anthropic:claude-haiku-4-5/0');
    expect(text).toContain('Write a short essay (at least 20 words) explaining bubble sort'); // the prompt
    expect(text).toContain(`I should look around ${XSS}`); // thinking, as text
    expect(text).toContain('tool call: bash');
    expect(text).toMatch(/tool result: bash \(error\)/);
    expect(text).toContain('Unknown tool "bash"');
    expect(text).toContain('submission (submit_answer)');
    expect(text).toContain('end: submitted');
    expect(text).toContain('checks (');
    expect(text).toMatch(/length\s+pass\s+\d+ words/);
    expect(text).toContain('judge verdict');
    expect(text).toContain(`verdict summary ${XSS}`);

    // The failed trial's judge said fail.
    await rows.nth(1).click();
    expect(await detail.innerText()).toContain('essay/default/default/anthropic:claude-haiku-4-5/1');

    // Nothing hostile ran, nothing was fetched, the script had no error.
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
    expect(await page.locator('#detail img, #detail script').count()).toBe(0);
    expect(requests).toEqual([url]);
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);
});
