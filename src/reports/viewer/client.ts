/**
 * The report's script, run in the browser. Every value from the run is put on the page as text
 * (textContent, createTextNode), never as markup: transcripts are written by models and tools and are
 * hostile. No network, no eval, no innerHTML; the page's CSP allows only this script, by hash.
 */
export const CLIENT_SCRIPT = String.raw`(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('envbench-data').textContent);
  var trials = data.trials;

  function el(tag, cls, children) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    (children || []).forEach(function (c) {
      if (c === null || c === undefined) return;
      e.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
    });
    return e;
  }
  function pre(text, cls) { return el('pre', cls || '', [typeof text === 'string' ? text : JSON.stringify(text, null, 2)]); }
  function fold(summary, body, open) {
    var d = el('details', '', [el('summary', '', [summary]), body]);
    if (open) d.open = true;
    return d;
  }
  function cost(c) { return c === null || c === undefined ? 'unknown' : '$' + c.toFixed(4); }
  function secs(ms) { return (ms / 1000).toFixed(1) + 's'; }
  function tokens(u) { return (u.inputTokens + u.cacheReadInputTokens + u.cacheCreationInputTokens) + ' in / ' + u.outputTokens + ' out'; }

  // ---- header
  var run = data.run;
  document.title = 'envbench run ' + run.runId;
  var head = document.getElementById('run');
  head.appendChild(el('h1', '', ['envbench run ', el('code', '', [run.runId])]));
  var spent = trials.reduce(function (s, t) { return t.costUsd === null ? s : s + t.costUsd; }, 0);
  var unpriced = trials.filter(function (t) { return t.costUsd === null; }).length;
  var judgeCost = trials.reduce(function (s, t) { return t.judge && t.judge.costUsd !== null ? s + t.judge.costUsd : s; }, 0);
  head.appendChild(el('p', '', [
    'started ' + run.startedAt + (run.finishedAt ? ', finished ' + run.finishedAt : ' (unfinished)') +
    ' · harness ' + run.harness.version + (run.harness.gitSha ? ' @ ' + run.harness.gitSha.slice(0, 12) : '') +
    ' · sandbox ' + run.sandbox.mode + ' · python ' + (run.environment.python || '?') + ', torch ' + (run.environment.torch || 'none') +
    ' · models ' + run.plan.models.join(', ') + ' · judge ' + (run.plan.judge || 'none')
  ]));
  head.appendChild(el('p', '', [
    trials.length + ' trial(s) · agent cost ' + cost(spent) + (unpriced ? ' (+ ' + unpriced + ' trial(s) of unknown price)' : '') +
    ' · judge cost ' + cost(judgeCost)
  ]));
  (data.warnings || []).forEach(function (w) { head.appendChild(el('p', 'warning', ['warning: ' + w])); });

  // ---- filters
  function options(select, values) {
    values.forEach(function (v) { var o = el('option', '', [v]); o.value = v; select.appendChild(o); });
  }
  function uniq(f) { return trials.map(f).filter(function (v, i, a) { return a.indexOf(v) === i; }).sort(); }
  var fText = document.getElementById('filter-text');
  var fStatus = document.getElementById('filter-status');
  var fModel = document.getElementById('filter-model');
  var fTask = document.getElementById('filter-task');
  options(fStatus, uniq(function (t) { return t.status; }));
  options(fModel, uniq(function (t) { return t.model; }));
  options(fTask, uniq(function (t) { return t.task; }));

  // ---- table
  var body = document.querySelector('#trials tbody');
  var rows = trials.map(function (t, i) {
    var cells = [t.task, t.variant, t.sample, t.model, t.epoch, t.status, t.limit || '', t.score.toFixed(2), t.turns, tokens(t.usage), cost(t.costUsd), secs(t.durationMs)];
    var tr = el('tr', 'trial-row status-' + t.status, cells.map(function (c) { return el('td', '', [c]); }));
    tr.tabIndex = 0;
    tr.addEventListener('click', function () { show(i); });
    tr.addEventListener('keydown', function (e) { if (e.key === 'Enter') show(i); });
    body.appendChild(tr);
    return tr;
  });
  function applyFilters() {
    var q = fText.value.trim().toLowerCase();
    var shown = 0;
    trials.forEach(function (t, i) {
      var hay = [t.task, t.variant, t.sample, t.model, t.status, t.limit || '', t.error || ''].join(' ').toLowerCase();
      var ok = (!q || hay.indexOf(q) >= 0) && (!fStatus.value || t.status === fStatus.value) &&
        (!fModel.value || t.model === fModel.value) && (!fTask.value || t.task === fTask.value);
      rows[i].hidden = !ok;
      if (ok) shown++;
    });
    document.getElementById('shown-count').textContent = shown + ' of ' + trials.length + ' trial(s) shown';
  }
  [fText, fStatus, fModel, fTask].forEach(function (f) { f.addEventListener('input', applyFilters); f.addEventListener('change', applyFilters); });
  applyFilters();

  // ---- one trial
  function block(b, turn) {
    if (!b || typeof b !== 'object') return pre(b);
    if (b.type === 'thinking') return fold('thinking', pre(b.thinking, 'thinking'), true);
    if (b.type === 'redacted_thinking') return el('p', 'muted', ['(redacted thinking)']);
    if (b.type === 'text') return pre(b.text, 'text');
    if (b.type === 'tool_use') {
      var submit = b.name === 'submit_answer';
      return el('div', submit ? 'tool-call submission' : 'tool-call', [el('h4', '', [submit ? 'submission (submit_answer)' : 'tool call: ' + b.name]), pre(b.input)]);
    }
    return pre(b);
  }
  function event(e) {
    switch (e.type) {
      case 'meta':
        return el('div', 'event meta', [
          e.system ? fold('system prompt', pre(e.system), false) : null,
          el('h3', '', ['prompt']), pre(e.prompt, 'prompt'),
          fold('tools: ' + (e.tools || []).map(function (t) { return t.name; }).join(', '), pre(e.tools), false),
          el('p', 'muted', ['model ' + e.model + (e.thinkingBudget ? ', thinking budget ' + e.thinkingBudget : '') + ' · limits ' + JSON.stringify(e.limits)])
        ]);
      case 'request':
        return el('p', 'muted request', ['turn ' + e.turn + ': request with max_tokens ' + e.max_tokens + ' (' + e.outputTokensUsed + ' output tokens used so far)']);
      case 'assistant':
        return el('div', 'event assistant', [el('h3', '', ['model turn ' + e.turn + ' · stop ' + e.stop_reason + ' · ' + secs(e.durationMs)])]
          .concat((Array.isArray(e.content) ? e.content : [e.content]).map(function (b) { return block(b, e.turn); })));
      case 'tool_result':
        return el('div', 'event tool-result' + (e.is_error ? ' is-error' : ''), [el('h4', '', ['tool result: ' + e.name + (e.is_error ? ' (error)' : '') + ' · ' + secs(e.durationMs)]), pre(e.content)]);
      case 'user':
        return el('div', 'event user', [el('h4', '', ['harness to model']), pre(e.text)]);
      case 'api_error':
        return el('div', 'event api-error', [el('h4', '', ['API error']), pre(e.error)]);
      case 'end':
        var o = e.outcome || {};
        return el('div', 'event end', [el('h3', '', ['end: ' + o.kind + (o.limit ? ' (' + o.limit + ')' : '') + ' · ' + e.turns + ' turn(s) · cost ' + cost(e.costUsd)]),
          o.detail ? pre(o.detail) : null, o.error ? pre(o.error) : null,
          o.kind === 'submitted' ? el('div', 'submission', [el('h4', '', ['submitted']), pre(o.submission)]) : null]);
      default:
        return el('div', 'event', [el('h4', '', [String(e.type)]), pre(e)]);
    }
  }
  function judgeEntry(e) {
    var rest = {};
    Object.keys(e).forEach(function (k) { if (['ts', 'type', 'call', 'label', 'attempt'].indexOf(k) < 0) rest[k] = e[k]; });
    var title = 'judge ' + e.type + (e.label ? ' · ' + e.label : '') + ' · call ' + e.call + (e.attempt !== undefined ? ' · attempt ' + e.attempt : '');
    return el('div', 'judge-entry judge-' + e.type, [el('h4', '', [title]), pre(rest)]);
  }
  function show(i) {
    var t = trials[i];
    rows.forEach(function (r, j) { r.classList.toggle('selected', j === i); });
    var d = document.getElementById('detail');
    d.textContent = '';
    d.appendChild(el('h2', '', [t.key]));
    d.appendChild(el('p', 'status status-' + t.status, [t.status + (t.limit ? ' (limit: ' + t.limit + ')' : '') + ' · score ' + t.score.toFixed(2) + ' · ' + t.turns + ' turn(s) · ' + tokens(t.usage) + ' · cost ' + cost(t.costUsd) + ' · ' + secs(t.durationMs)]));
    if (t.error) d.appendChild(el('div', 'error', [el('h3', '', [t.status === 'skipped' ? 'why skipped' : 'error']), pre(t.error)]));
    var checks = el('table', 'checks', [el('thead', '', [el('tr', '', [el('th', '', ['check']), el('th', '', ['result']), el('th', '', ['detail'])])])]);
    var cb = el('tbody');
    t.checks.forEach(function (c) {
      cb.appendChild(el('tr', c.passed === true ? 'pass' : c.passed === false ? 'fail' : 'na', [el('td', '', [c.name]), el('td', '', [c.passed === true ? 'pass' : c.passed === false ? 'FAIL' : 'n/a']), el('td', '', [pre(c.detail)])]));
    });
    checks.appendChild(cb);
    d.appendChild(el('section', 'checks-section', [el('h3', '', ['checks (' + t.checks.length + ')']), checks]));
    var tr = el('section', 'transcript', [el('h3', '', ['transcript'])]);
    if (t.events && t.events.length) t.events.forEach(function (e) { tr.appendChild(event(e)); });
    else tr.appendChild(el('p', 'muted', [t.transcript ? 'no transcript lines for this trial' : 'no transcript (oracle/nop, or none was written)']));
    d.appendChild(tr);
    if (t.judge || t.judgeEntries) {
      var j = el('section', 'judge', [el('h3', '', ['judge'])]);
      if (t.judge) j.appendChild(el('p', '', [t.judge.model + ' · ' + t.judge.requests + ' request(s) · ' + tokens(t.judge.usage) + ' · cost ' + cost(t.judge.costUsd)]));
      (t.judgeEntries || []).forEach(function (e) { j.appendChild(judgeEntry(e)); });
      d.appendChild(j);
    }
    d.hidden = false;
    if (history.replaceState) history.replaceState(null, '', '#trial-' + i);
    d.scrollIntoView();
  }
  var m = /^#trial-(\d+)$/.exec(location.hash);
  if (m && trials[Number(m[1])]) show(Number(m[1]));
})();`;
