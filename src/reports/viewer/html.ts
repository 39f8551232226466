import { createHash } from 'node:crypto';
import { CLIENT_SCRIPT } from './client.js';
import type { ViewerData } from './data.js';

const STYLE = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #1b1f24; }
code, pre { font-family: ui-monospace, monospace; font-size: 12px; }
pre { white-space: pre-wrap; word-break: break-word; background: #f6f8fa; padding: .5em; margin: .3em 0; max-height: 40em; overflow: auto; }
table { border-collapse: collapse; }
th, td { border-bottom: 1px solid #d0d7de; padding: .25em .6em; text-align: left; vertical-align: top; }
#trials tbody tr { cursor: pointer; }
#trials tbody tr:hover, #trials tbody tr.selected { background: #ddf4ff; }
.status-passed { color: #1a7f37; } .status-failed { color: #cf222e; } .status-error { color: #9a6700; } .status-skipped { color: #6e7781; }
.filters { margin: 1em 0; display: flex; gap: .8em; flex-wrap: wrap; align-items: center; }
.muted { color: #6e7781; } .warning { color: #9a6700; }
.event { border-left: 3px solid #d0d7de; padding-left: .8em; margin: .6em 0; }
.assistant { border-color: #8250df; } .tool-result { border-color: #0969da; } .is-error, .api-error, .error { border-color: #cf222e; }
.submission { border-left: 3px solid #1a7f37; padding-left: .6em; }
.checks .fail td { color: #cf222e; }
.judge-entry { border-left: 3px solid #bf8700; padding-left: .8em; margin: .5em 0; }
#detail { margin-top: 2em; border-top: 2px solid #1b1f24; }
`;

const sha256 = (s: string) => `'sha256-${createHash('sha256').update(s, 'utf8').digest('base64')}'`;

/**
 * JSON that can sit inside <script type="application/json">: "<" and ">" are escaped so no "</script>" or
 * "<!--" in a transcript can end the element; "&" and the JS line separators for good measure.
 */
export function scriptSafeJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/**
 * One self-contained HTML page: the data as inert JSON, the script and style inline. The CSP allows only
 * that script and style (by hash), no network of any kind, so the page works offline from an artifact and
 * even a markup bug could not run a transcript's script.
 */
export function renderViewerHtml(data: ViewerData): string {
  const csp = [
    "default-src 'none'",
    `script-src ${sha256(CLIENT_SCRIPT)}`,
    `style-src ${sha256(STYLE)}`,
    "img-src 'none'",
    "connect-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>envbench run report</title>
<style>${STYLE}</style>
</head>
<body>
<header id="run"></header>
<div class="filters">
  <label>search <input id="filter-text" type="search" placeholder="task, model, status, error…"></label>
  <label>status <select id="filter-status"><option value="">all</option></select></label>
  <label>model <select id="filter-model"><option value="">all</option></select></label>
  <label>task <select id="filter-task"><option value="">all</option></select></label>
  <span id="shown-count" class="muted"></span>
</div>
<table id="trials">
<thead><tr><th>task</th><th>variant</th><th>sample</th><th>model</th><th>epoch</th><th>status</th><th>limit</th><th>score</th><th>turns</th><th>tokens</th><th>cost</th><th>duration</th></tr></thead>
<tbody></tbody>
</table>
<section id="detail" hidden></section>
<script type="application/json" id="envbench-data">${scriptSafeJson(data)}</script>
<script>${CLIENT_SCRIPT}</script>
</body>
</html>
`;
}
