// 政策模拟 (/simulate, templates/simulate/index.html): the reform is read from the parameter inputs (rates typed as
// percentages, money in 万元, converted exactly by moving the decimal point of the text), posted to
// POST /api/v1/simulations 300 ms after the last edit (older answers are ignored; the last result stays until the next
// arrives), and drawn: the summary, the migration heatmaps, the budget by clause and by town, the firms, the changes and
// the A.2 targets. Also the sweep (POST /api/v1/simulations/sweep), saving (POST /api/v1/reforms) and the exports.
// Texts come from the page (#sim-setup, the message catalogue); charts set data-chart-ready="1" when drawn, and the
// heatmaps data-matrix (the migration as JSON) and data-reform-a (the reform's A count) for the browser tests.
(function () {
  'use strict';
  var setupEl = document.getElementById('sim-setup');
  if (!setupEl) return;
  var setup = JSON.parse(setupEl.textContent);
  var T = setup.text;
  var lang = setup.lang;
  var csrf = '';
  try { csrf = JSON.parse(document.body.getAttribute('hx-headers') || '{}')['X-CSRF-Token'] || ''; } catch (e) { csrf = ''; }
  var CLASSES = ['A', 'B', 'C', 'D'];
  var PLACES = { pct: -2, wan: 4, '': 0 };
  var FIRMS_SHOWN = 300;
  var charts = {};
  var last = null;          // the last document drawn
  var seq = 0;              // the newest request; older answers are dropped
  var controller = null;
  var timer = null;
  var sortBy = { key: 'change', dir: 'desc' };

  // -- exact decimals on text -------------------------------------------------------------------------------------
  // shift("12", -2) → "0.12", shift("300", 4) → "3000000": the decimal point moved, never through floating point.
  function shift(text, places) {
    var m = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(String(text).replace(/[,，\s]/g, ''));
    if (!m || (m[2] === '' && !m[3])) return null;
    var digits = (m[2] || '') + (m[3] || '');
    var point = (m[2] || '').length + places;
    if (point < 0) { digits = '0'.repeat(-point) + digits; point = 0; }
    if (point > digits.length) digits += '0'.repeat(point - digits.length);
    var a = digits.slice(0, point).replace(/^0+/, '') || '0';
    var b = digits.slice(point).replace(/0+$/, '');
    var out = a + (b ? '.' + b : '');
    return (m[1] === '-' && out !== '0') ? '-' + out : out;
  }
  function micro(text) { var s = shift(text, 6); return s === null ? null : BigInt(s.split('.')[0]); }
  function fromMicro(big) { return shift(big.toString(), -6); }
  function grouped(intText) { return intText.replace(/\B(?=(\d{3})+(?!\d))/g, ','); }
  // 元 text → 万元 text with 2 to 6 decimals and separators (1584.9 → "1,584.90"); a sign on request.
  function wan(yuan, signed) {
    var s = shift(yuan, -4);
    if (s === null) return '-';
    var neg = s.charAt(0) === '-';
    if (neg) s = s.slice(1);
    var parts = s.split('.');
    var frac = (parts[1] || '').slice(0, 6);
    while (frac.length < 2) frac += '0';
    var text = grouped(parts[0]) + '.' + frac;
    if (neg) return '-' + text;
    return signed && s !== '0' ? '+' + text : text;
  }
  function wanNumber(yuan) { return Number(shift(yuan, -4)); }
  function fmt(template, values) {
    return String(template).replace(/\{(\w+)\}/g, function (w, k) { return k in values ? values[k] : w; });
  }
  function beijingNow() {
    return new Intl.DateTimeFormat('zh-CN', {
      timeZone: 'Asia/Shanghai', hour12: false, year: 'numeric', month: '2-digit', day: '2-digit',
      hour: '2-digit', minute: '2-digit', second: '2-digit'
    }).format(new Date()).replace(/\//g, '-');
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }

  // -- the reform from the inputs ---------------------------------------------------------------------------------
  function typed(input) {
    // The API value of one input: a number (the typed text moved by its scale), a boolean, or the text as typed
    // (anything the server refuses comes back as a problem next to the field).
    var kind = input.dataset.kind || (input.type === 'checkbox' ? 'bool' : input.tagName === 'SELECT' ? 'choice' : 'number');
    if (kind === 'bool') return input.checked;
    if (kind === 'choice' || kind === 'text') return input.value;
    var moved = shift(input.value, PLACES[input.dataset.scale || '']);
    return moved === null ? input.value : Number(moved);
  }
  function differs(input) {
    var kind = input.dataset.kind || (input.type === 'checkbox' ? 'bool' : input.tagName === 'SELECT' ? 'choice' : 'number');
    if (kind === 'bool') return String(input.checked) !== input.dataset.base;
    if (kind === 'choice' || kind === 'text') return input.value !== input.dataset.base;
    var a = shift(input.value, 0);
    var b = shift(input.dataset.base, 0);
    return a === null ? input.value.trim() !== input.dataset.base : a !== b;
  }
  function paramInputs(div) { return div.querySelectorAll('[data-path]'); }
  function collect() {
    var changes = {};
    Object.keys(setup.extra || {}).forEach(function (k) { changes[k] = setup.extra[k]; });
    var counts = {};
    document.querySelectorAll('#reform-form .param').forEach(function (div) {
      var inputs = paramInputs(div);
      var changed = [].some.call(inputs, differs);
      div.classList.toggle('changed', changed);
      if (!changed) return;
      var ns = div.closest('.ns').dataset.namespace;
      counts[ns] = (counts[ns] || 0) + 1;
      if (div.dataset.kind === 'table') {
        var table = {};
        inputs.forEach(function (i) { table[i.dataset.key] = typed(i); });
        changes[div.dataset.param] = table;
      } else {
        changes[div.dataset.param] = typed(inputs[0]);
      }
    });
    document.querySelectorAll('[data-count-for]').forEach(function (s) {
      var n = counts[s.dataset.countFor] || 0;
      s.textContent = n ? '(' + n + ')' : '';
    });
    return changes;
  }
  function reformDoc() {
    var form = document.getElementById('save-form');
    var title = form ? form.elements.title.value.trim() : '';
    var description = form ? form.elements.description.value.trim() : '';
    var doc = { title: title, changes: collect() };
    if (description) doc.description = description;
    return doc;
  }

  // Quotas: when A, C or D changes, B takes the rest (100 % in all), when that rest is not negative.
  function quotaRest(input) {
    var div = input.closest('.param');
    if (!div || setup.quotas.indexOf(div.dataset.param) < 0 || input.dataset.key === 'B') return;
    var rest = 100000000n;  // 100 % in millionths of a percent
    var b = null;
    paramInputs(div).forEach(function (i) {
      if (i.dataset.key === 'B') { b = i; return; }
      var v = micro(i.value);
      rest = v === null ? null : (rest === null ? null : rest - v);
    });
    if (b && rest !== null && rest >= 0n) b.value = fromMicro(rest);
  }

  // -- problems ---------------------------------------------------------------------------------------------------
  // The example of a problem as the official types it: a rate as %, money in 万元 (the API speaks in ratios and 元).
  function example(p) {
    if (p.example === null || p.example === undefined || p.example === '') return '';
    var input = document.querySelector('#reform-form [data-path="' + String(p.where || '').split('.').slice(0, 2).join('.') + '"]');
    var scale = input ? input.dataset.scale || '' : '';
    var moved = scale ? shift(String(p.example), -PLACES[scale]) : null;
    return moved === null ? String(p.example) : moved + (scale === 'pct' ? '%' : ' ' + T.wan);
  }
  function problemText(p) {
    var said = lang === 'en' ? p.message_en : p.message_zh;
    var expected = (lang === 'en' ? p.expected_en : p.expected_zh) || p.expected || '';
    var text = said || '';
    var ex = example(p);
    if (expected && text.indexOf(expected) < 0) text += ' (' + expected + (ex ? ', ' + T.example + ' ' + ex : '') + ')';
    return text;
  }
  function listFor(where) {
    var w = String(where || '');
    while (w) {
      var ul = document.querySelector('[data-problems-for="' + w.replace(/"/g, '') + '"]');
      if (ul) return ul;
      if (w.indexOf('.') < 0) break;
      w = w.slice(0, w.lastIndexOf('.'));
    }
    return null;
  }
  function clearProblems() {
    document.querySelectorAll('ul.problems').forEach(function (ul) { ul.hidden = true; ul.textContent = ''; });
    document.querySelectorAll('[aria-invalid]').forEach(function (i) { i.removeAttribute('aria-invalid'); });
    ['sim-problems', 'save-problems'].forEach(function (id) {
      var box = document.getElementById(id);
      if (box) { box.hidden = true; box.querySelector('ul').textContent = ''; }
    });
  }
  function showProblems(body, boxId) {
    var problems = (body && body.problems) || [];
    var box = document.getElementById(boxId);
    var list = box.querySelector('ul');
    list.textContent = '';
    if (!problems.length) {
      list.append(el('li', null, body && body.message ? (lang === 'en' ? body.message.en : body.message.zh) : T.failed));
    }
    problems.forEach(function (p) {
      var li = el('li');
      li.append(el('code', null, p.where || ''), document.createTextNode(' ' + problemText(p)));
      list.append(li);
      var near = listFor(p.where);
      if (near) {
        near.append(el('li', null, problemText(p)));
        near.hidden = false;
        var input = near.closest('.param, form');
        var key = String(p.where || '').split('.').pop();
        var target = input && (input.querySelector('[data-key="' + key + '"]') || input.querySelector('[data-path], input, textarea'));
        if (target) target.setAttribute('aria-invalid', 'true');
      }
    });
    box.hidden = false;
  }

  // -- talking to the API -----------------------------------------------------------------------------------------
  function post(url, body, signal) {
    return fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'Accept': 'application/json', 'X-CSRF-Token': csrf },
      body: JSON.stringify(body),
      signal: signal
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (b) { return { status: r.status, body: b }; });
    });
  }
  // The county compared: the stored year, or the upload's token (its own year) once the official has uploaded one.
  function where(body) {
    if (setup.snapshot) body.snapshot = setup.snapshot; else body.year = setup.year;
    return body;
  }
  function upload(e) {
    e.preventDefault();
    var form = e.target;
    var status = document.getElementById('upload-status');
    var box = document.getElementById('upload-problems');
    box.hidden = true;
    status.textContent = T.upload_busy;
    document.getElementById('upload-run').disabled = true;
    fetch('/api/v1/simulations/files', {
      method: 'POST', credentials: 'same-origin', headers: { 'Accept': 'application/json', 'X-CSRF-Token': csrf },
      body: new FormData(form)
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (b) { return { status: r.status, body: b }; });
    }).then(function (res) {
      document.getElementById('upload-run').disabled = false;
      status.textContent = '';
      if (res.status !== 201) { showProblems(res.body, 'upload-problems'); return; }
      setup.snapshot = res.body.snapshot;
      setup.year = res.body.year;
      var note = document.getElementById('sim-uploaded');
      document.getElementById('sim-uploaded-text').textContent = fmt(T.upload_done,
        { year: res.body.year, firms: res.body.firms, projects: res.body.projects });
      note.hidden = false;
      document.querySelector('#year-form select').disabled = true;
      document.getElementById('upload-box').open = false;
      document.getElementById('sim-why').hidden = true;
      run();
    }).catch(function () {
      document.getElementById('upload-run').disabled = false;
      status.textContent = T.failed;
    });
  }
  function busy(on) {
    document.getElementById('sim-busy').hidden = !on;
    document.getElementById('sim-results').setAttribute('aria-busy', on ? 'true' : 'false');
  }
  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(run, 300);
  }
  function run() {
    var mine = ++seq;
    if (controller) controller.abort();
    controller = window.AbortController ? new AbortController() : null;
    busy(true);
    var started = performance.now();
    post('/api/v1/simulations', where({ reform: reformDoc() }), controller && controller.signal)
      .then(function (res) {
        if (mine !== seq) return;  // a newer edit is on its way
        busy(false);
        clearProblems();
        if (res.status === 200) {
          draw(res.body, performance.now() - started);
        } else {
          showProblems(res.body, 'sim-problems');
        }
      })
      .catch(function (e) {
        if (e && e.name === 'AbortError') return;
        if (mine !== seq) return;
        busy(false);
        document.getElementById('sim-status').textContent = T.failed;
      });
  }

  // -- drawing ----------------------------------------------------------------------------------------------------
  function chart(id) {
    var box = document.getElementById(id);
    if (!box || !window.echarts) return null;
    if (!charts[id]) {
      charts[id] = echarts.init(box, null, { renderer: 'canvas' });
      charts[id].on('finished', function () { box.dataset.chartReady = '1'; });
    }
    return charts[id];
  }
  function setChart(id, option) {
    var c = chart(id);
    if (!c) return;
    option.animation = false;
    [].concat(option.tooltip || []).forEach(function (t) { t.renderMode = 'richText'; });
    document.getElementById(id).dataset.chartReady = '0';
    c.setOption(option, true);
  }

  function drawSummary(doc, rtt) {
    ['2.10', '2.11', 'total'].forEach(function (k) {
      var row = document.querySelector('#sim-summary tr[data-clause="' + k + '"]');
      ['baseline', 'reform', 'change'].forEach(function (side) {
        var cell = row.querySelector('[data-side="' + side + '"]');
        var v = doc.support[side][k];
        cell.textContent = wan(v, side === 'change');
        if (side === 'change') {
          cell.classList.toggle('up', Number(v) > 0);
          cell.classList.toggle('down', Number(v) < 0);
        }
      });
    });
    document.getElementById('sim-firms-changed').textContent = String(doc.firms.length);
    document.getElementById('sim-status').textContent =
      fmt(T.took, { ms: doc.took_ms, rtt: Math.round(rtt) }) + ' · ' + T.updated + ' ' + beijingNow();
    document.getElementById('sim-results').dataset.tookMs = String(doc.took_ms);
    document.getElementById('sim-results').dataset.roundTripMs = String(Math.round(rtt));
  }

  function drawMigration(group, block) {
    var off = [], diag = [], maxOff = 0;
    CLASSES.forEach(function (b, y) {
      CLASSES.forEach(function (r, x) {
        var n = (block.migration[b] || {})[r] || 0;
        if (x === y) diag.push([x, y, n]); else { off.push([x, y, n]); maxOff = Math.max(maxOff, n); }
      });
    });
    var id = 'chart-mig-' + group;
    var box = document.getElementById(id);
    box.dataset.matrix = JSON.stringify(block.migration);
    box.dataset.reformA = String(block.reform.A || 0);
    box.dataset.moved = String(off.reduce(function (s, d) { return s + d[2]; }, 0));
    setChart(id, {
      tooltip: {
        formatter: function (p) {
          return T.axis_baseline_class + ' ' + CLASSES[p.value[1]] + ' → ' + T.axis_reform_class + ' ' +
            CLASSES[p.value[0]] + ': ' + p.value[2] + ' ' + T.firms_unit;
        }
      },
      grid: { left: 64, right: 12, top: 10, bottom: 52 },
      xAxis: { type: 'category', data: CLASSES, name: T.axis_reform_class, nameLocation: 'middle', nameGap: 30,
        splitArea: { show: true }, position: 'bottom' },
      yAxis: { type: 'category', data: CLASSES, inverse: true, name: T.axis_baseline_class, nameLocation: 'middle',
        nameGap: 40, splitArea: { show: true } },
      visualMap: { min: 0, max: Math.max(1, maxOff), show: false, seriesIndex: 0,
        inRange: { color: ['#ffffff', '#fdae6b', '#d94801'] } },
      series: [
        { type: 'heatmap', name: 'moved', data: off,
          label: { show: true, formatter: function (p) { return p.value[2] ? String(p.value[2]) : ''; } },
          itemStyle: { borderColor: '#d8dee5', borderWidth: 1 } },
        { type: 'heatmap', name: 'stayed', data: diag, label: { show: true, color: '#1d2733' },
          itemStyle: { color: '#dfe7ef', borderColor: '#b8c2cc', borderWidth: 1 } }
      ]
    });
    var table = document.getElementById('counts-' + group);
    ['baseline', 'reform', 'change'].forEach(function (side) {
      CLASSES.forEach(function (c) {
        var cell = table.querySelector('tr[data-side="' + side + '"] td[data-class="' + c + '"]');
        var v = side === 'change' ? (block.reform[c] || 0) - (block.baseline[c] || 0) : (block[side][c] || 0);
        cell.textContent = side === 'change' && v > 0 ? '+' + v : String(v);
        if (side === 'change') { cell.classList.toggle('up', v > 0); cell.classList.toggle('down', v < 0); }
      });
    });
  }

  function barOption(names, rows, horizontal) {
    var valueAxis = { type: 'value', name: T.wan, nameLocation: 'end', axisLabel: { formatter: '{value}' } };
    var catAxis = { type: 'category', data: names, axisLabel: { interval: 0 } };
    if (horizontal) { catAxis.inverse = true; catAxis.axisLabel = { interval: 0, width: window.innerWidth < 700 ? 84 : 160, overflow: 'truncate' }; }
    return {
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' },
        valueFormatter: function (v) { return v === null || v === undefined ? '-' : v + ' ' + T.wan; } },
      legend: { bottom: 0 },
      grid: { left: 8, right: horizontal ? 48 : 16, top: 28, bottom: 36, containLabel: true },
      xAxis: horizontal ? valueAxis : catAxis,
      yAxis: horizontal ? catAxis : valueAxis,
      series: [
        { type: 'bar', name: T.baseline, data: rows.map(function (r) { return wanNumber(r.baseline); }), itemStyle: { color: '#9fb3c8' } },
        { type: 'bar', name: T.reform, data: rows.map(function (r) { return wanNumber(r.reform); }), itemStyle: { color: '#1a5fa8' } }
      ]
    };
  }
  function drawBudget(doc) {
    var keys = ['2.10', '2.11', 'total'];
    var labels = [T.clause_210, T.clause_211, T.clause_total];
    setChart('chart-clause', barOption(labels, keys.map(function (k) {
      return { baseline: doc.support.baseline[k], reform: doc.support.reform[k] };
    }), false));
    var towns = Object.keys(doc.by_town);
    var box = document.getElementById('chart-town');
    box.dataset.rows = String(towns.length);
    setChart('chart-town', barOption(towns, towns.map(function (k) { return doc.by_town[k]; }), true));
    if (charts['chart-town']) charts['chart-town'].resize();
  }

  var SORT_NUM = { support_baseline: 1, support_reform: 1, change: 1 };
  function drawFirms(doc) {
    // A town official's list holds its own town's firms (as its exports do); the counts above stay county-wide.
    var firms = doc.firms.slice();  // a town official's own firms only: the server scopes them
    var shown = firms.length > FIRMS_SHOWN
      ? firms.slice().sort(function (a, b) { return Math.abs(Number(b.change)) - Math.abs(Number(a.change)); }).slice(0, FIRMS_SHOWN)
      : firms;
    var k = sortBy.key, dir = sortBy.dir === 'asc' ? 1 : -1;
    shown.sort(function (a, b) {
      var x = a[k], y = b[k];
      if (SORT_NUM[k]) { x = Number(x); y = Number(y); }
      return (x < y ? -1 : x > y ? 1 : 0) * dir || (a.credit_code < b.credit_code ? -1 : 1);
    });
    document.querySelectorAll('#sim-firms th[data-sort]').forEach(function (th) {
      if (th.dataset.sort === k) th.setAttribute('aria-sort', sortBy.dir === 'asc' ? 'ascending' : 'descending');
      else th.removeAttribute('aria-sort');
    });
    var body = document.querySelector('#sim-firms tbody');
    body.textContent = '';
    document.getElementById('firms-shown').textContent = !firms.length ? T.no_firms
      : firms.length > FIRMS_SHOWN ? fmt(T.shown_of, { n: FIRMS_SHOWN, of: firms.length }) : '';
    shown.forEach(function (f) {
      var tr = el('tr');
      tr.dataset.code = f.credit_code;
      tr.append(el('td', 'code', f.credit_code), el('td', null, f.town || '-'));
      [f.class_baseline, f.class_reform].forEach(function (c) {
        var td = el('td');
        td.append(el('span', 'badge ' + (c && CLASSES.indexOf(c) >= 0 ? c : 'none'), c || '-'));
        tr.append(td);
      });
      tr.append(el('td', 'num', wan(f.support_baseline)), el('td', 'num', wan(f.support_reform)));
      var ch = el('td', 'num change', wan(f.change, true));
      ch.classList.toggle('up', Number(f.change) > 0);
      ch.classList.toggle('down', Number(f.change) < 0);
      tr.append(ch);
      var why = el('td', 'no-print');
      var b = el('button', 'link-why', T.why);
      b.type = 'button';
      b.dataset.why = f.credit_code;
      why.append(b);
      tr.append(why);
      body.append(tr);
    });
  }

  // -- one firm: why it moves (POST /api/v1/simulations/firm), both sides with the values each used -----------------
  var whySeq = 0;
  function whySide(title, side, reformSide) {
    var box = el('div', 'why-side' + (reformSide ? ' reform' : ''));
    box.append(el('h4', null, title));
    var head = el('p');
    head.append(document.createTextNode(T.why_class + ' '),
      el('span', 'badge ' + (side['class'] && CLASSES.indexOf(side['class']) >= 0 ? side['class'] : 'none'), side['class'] || '-'),
      document.createTextNode(' · ' + T.why_total + ' '), el('strong', 'num', wan(side.total)));
    box.append(head);
    if (side.class_lines.length) {
      var how = el('details');
      how.append(el('summary', null, T.why_how_classed));
      var ul = el('ul', 'small');
      side.class_lines.forEach(function (line) { ul.append(el('li', null, line)); });
      how.append(ul);
      box.append(how);
    } else {
      box.append(el('p', 'muted small', T.why_not_in_data));
    }
    side.projects.forEach(function (p) {
      var card = el('div', 'why-project');
      card.append(el('p', 'strong', T.why_project + ' ' + (p.name ? p.name + ' (' + p.id + ')' : p.id)));
      p.outputs.forEach(function (o) {
        var d = el('details');
        d.open = o.amount !== '0.00';
        var sum = el('summary');
        sum.append(el('span', null, o.clause + ' ' + o.label + ' '), el('strong', 'num', wan(o.amount) + ' ' + T.wan),
          el('span', 'muted small', ' · ' + o.status_text));
        d.append(sum);
        var ul = el('ul', 'small');
        (o.because || []).forEach(function (line) { ul.append(el('li', null, line)); });
        (o.assumptions || []).forEach(function (a) { ul.append(el('li', 'assumption', T.why_assumptions + ': ' + a.note)); });
        d.append(ul);
        card.append(d);
      });
      box.append(card);
    });
    return box;
  }
  function explainFirm(code) {
    var mine = ++whySeq;
    var panel = document.getElementById('sim-why');
    panel.hidden = false;
    panel.dataset.code = code;
    panel.dataset.ready = '';
    var title = document.getElementById('sim-why-title');
    title.textContent = fmt(T.why_title, { code: code });
    var status = document.getElementById('sim-why-status');
    status.textContent = T.why_loading;
    var box = document.getElementById('sim-why-problems');
    box.hidden = true;
    post('/api/v1/simulations/firm?lang=' + lang, where({ reform: reformDoc(), credit_code: code }))
      .then(function (res) {
        if (mine !== whySeq) return;
        status.textContent = '';
        var sides = document.getElementById('sim-why-sides');
        var changes = document.getElementById('sim-why-changes');
        sides.textContent = '';
        changes.textContent = '';
        if (res.status !== 200) { showProblems(res.body, 'sim-why-problems'); return; }
        var doc = res.body;
        if (doc.name) title.textContent = fmt(T.why_title, { code: doc.name + ' (' + code + ')' });
        sides.append(whySide(T.baseline, doc.baseline, false), whySide(T.reform, doc.reform, true));
        if (!doc.changes.length) changes.append(el('li', 'muted', T.why_none));
        doc.changes.forEach(function (c) {
          changes.append(el('li', null, (lang === 'en' ? c.en : c.zh) + (c.clause && c.clause !== '—' ? ' (' + c.clause + ')' : '') +
            ': ' + (lang === 'en' ? c.baseline_en : c.baseline) + ' → ' + (lang === 'en' ? c.reform_en : c.reform) +
            ' · ' + (lang === 'en' ? c.reaches_en : c.reaches)));
        });
        status.textContent = T.why_total + ' ' + wan(doc.baseline.total) + ' → ' + wan(doc.reform.total) + ' (' + wan(doc.change, true) + ')';
        panel.dataset.ready = '1';
      })
      .catch(function () { if (mine === whySeq) status.textContent = T.failed; });
  }

  function drawChanges(doc) {
    var body = document.querySelector('#sim-changes tbody');
    body.textContent = '';
    if (!doc.changes.length) {
      var tr = el('tr'), td = el('td', 'muted', T.no_changes);
      td.colSpan = 6;
      tr.append(td);
      body.append(tr);
      return;
    }
    doc.changes.forEach(function (c) {
      var tr = el('tr');
      var name = el('td');
      name.append(el('span', null, lang === 'en' ? c.en : c.zh), el('br'), el('code', 'path', c.path));
      if (c.assumption) name.append(document.createTextNode(' '), el('span', 'tag assumption', T.assumption));
      tr.append(name, el('td', null, c.clause || '-'), el('td', null, c.unit === 'ratio' ? T.ratio : (c.unit || '-')),
        el('td', null, lang === 'en' ? c.baseline_en : c.baseline),
        el('td', 'reform-value', lang === 'en' ? c.reform_en : c.reform),
        el('td', 'small', lang === 'en' ? c.reaches_en : c.reaches));
      body.append(tr);
    });
  }

  function figure(text, unit) {
    if (text === null || text === undefined) return '-';
    return unit === 'ratio' ? shift(text, 2) + '%' : String(text);
  }
  function drawTargets(doc) {
    var body = document.querySelector('#sim-targets tbody');
    body.textContent = '';
    doc.targets.forEach(function (g) {
      var tr = el('tr');
      tr.dataset.key = g.key;
      tr.append(el('td', null, lang === 'en' ? g.en : g.zh), el('td', null, g.unit === 'ratio' ? '%' : g.unit));
      if (typeof g.baseline !== 'object' || g.baseline === null) {  // a count (the A.2 low-efficiency firms)
        var ch = Number(g.change || 0);
        tr.append(el('td', 'num', '-'), el('td', 'num', String(g.baseline)),
          el('td', 'num' + (ch ? (ch > 0 ? ' down' : ' up') : ''), String(g.reform) + (ch ? ' (' + (ch > 0 ? '+' : '') + ch + ')' : '')));
        body.append(tr);
        return;
      }
      tr.append(el('td', 'num', (g.reform.term || '') + ' ' + figure(g.reform.target, g.unit)));
      [g.baseline, g.reform].forEach(function (side) {
        var td = el('td', 'num');
        td.append(document.createTextNode(figure(side.figure, g.unit) + ' '));
        if (side.met !== null && side.met !== undefined) td.append(el('span', 'badge ' + (side.met ? 'met' : 'unmet'), side.met ? T.met : T.unmet));
        tr.append(td);
      });
      body.append(tr);
    });
  }

  function draw(doc, rtt) {
    last = doc;
    drawSummary(doc, rtt);
    drawMigration('above_scale', doc.classes.above_scale);
    drawMigration('below_scale', doc.classes.below_scale);
    drawBudget(doc);
    drawFirms(doc);
    drawChanges(doc);
    drawTargets(doc);
    var why = document.getElementById('sim-why');
    if (!why.hidden && why.dataset.code) explainFirm(why.dataset.code);  // the panel follows the reform
    document.body.dataset.chartReady = '1';
    document.getElementById('sim-results').dataset.runs = String(Number(document.getElementById('sim-results').dataset.runs || 0) + 1);
  }

  // -- the sweep --------------------------------------------------------------------------------------------------
  function sweepOption() { var s = document.getElementById('sweep-path'); return s.options[s.selectedIndex]; }
  function quotaInputs(path) {
    var div = document.querySelector('.param[data-param="' + path + '"]');
    var out = {};
    if (div) paramInputs(div).forEach(function (i) { out[i.dataset.key] = i.value; });
    return out;
  }
  function sweepDefaults() {
    var o = sweepOption();
    var scale = o.dataset.scale || '';
    document.querySelectorAll('.sweep-unit').forEach(function (s) { s.textContent = scale === 'pct' ? '%' : scale === 'wan' ? T.wan : ''; });
    var from, to, step;
    var figure = document.getElementById('sweep-figure');
    if (o.value.indexOf('quota:') === 0) figure.value = o.value.indexOf('below') > 0 ? 'a_below' : 'a_above';
    else if (o.value.indexOf('targets.') === 0) figure.value = 'target:' + o.value.slice(8);
    else if (o.value.indexOf('tech_renovation.') === 0) figure.value = '210';
    else if (o.value.indexOf('vertical_industry.') === 0) figure.value = '211';
    else figure.value = 'total';
    if (o.value.indexOf('quota:') === 0) {
      var q = quotaInputs(o.value.slice(6));
      var a = Number(q.A || 0);
      from = Math.max(0, a - 10); to = a + 20; step = 2;
    } else {
      var base = Number(o.dataset.base || 0);
      if (!base) { from = 0; to = 10; step = 1; } else {
        var mag = Math.pow(10, Math.floor(Math.log10(Math.abs(base))) - 1);
        step = mag; from = Math.max(0, base - 5 * mag); to = base + 5 * mag;
      }
    }
    document.getElementById('sweep-from').value = shift(String(from), 0) || '0';
    document.getElementById('sweep-to').value = shift(String(to), 0) || '0';
    document.getElementById('sweep-step').value = shift(String(step), 0) || '1';
  }
  function sweepLabel(select) { return select.options[select.selectedIndex].textContent; }
  function runSweep(e) {
    e.preventDefault();
    var form = e.target, status = document.getElementById('sweep-status');
    var from = micro(form.elements.from.value), to = micro(form.elements.to.value), step = micro(form.elements.step.value);
    if (from === null || to === null || step === null || step <= 0n || to < from) { status.textContent = T.sweep_bad; return; }
    var n = (to - from) / step + 1n;
    if (n > 101n) { status.textContent = fmt(T.points_max, { n: 101 }); return; }
    var o = sweepOption();
    var scale = o.dataset.scale || '';
    var xs = [], values = [], path = o.value;
    var quota = path.indexOf('quota:') === 0;
    if (quota) path = path.slice(6);
    var q = quota ? quotaInputs(path) : null;
    for (var v = from; v <= to; v += step) {
      var shown = fromMicro(v);
      xs.push(Number(shown));
      if (quota) {
        var c = micro(q.C || '0'), d = micro(q.D || '0');
        var rest = 100000000n - c - d - v;
        values.push({
          A: Number(shift(shown, -2)), B: Number(shift(fromMicro(rest), -2)),
          C: Number(shift(q.C || '0', -2)), D: Number(shift(q.D || '0', -2))
        });
      } else {
        values.push(Number(shift(shown, PLACES[scale])));
      }
    }
    var figureKey = form.elements.figure.value;
    var figOption = form.elements.figure.options[form.elements.figure.selectedIndex];
    status.textContent = T.computing;
    var started = performance.now();
    post('/api/v1/simulations/sweep', where({ path: path, values: values, reform: reformDoc() }))
      .then(function (res) {
        if (res.status !== 200) { status.textContent = ''; showProblems(res.body, 'sim-problems'); return; }
        var data = res.body.points.map(function (p, i) {
          var y;
          if (figureKey === 'total') y = wanNumber(p.support.total);
          else if (figureKey === '210') y = wanNumber(p.support['2.10']);
          else if (figureKey === '211') y = wanNumber(p.support['2.11']);
          else if (figureKey === 'a_above') y = p.classes.above_scale.A;
          else if (figureKey === 'a_below') y = p.classes.below_scale.A;
          else {
            var raw = p.targets[figureKey.slice(7)];
            y = raw === null || raw === undefined ? null : (figOption.dataset.scale === 'pct' ? raw * 100 : raw);
            if (y !== null) y = Math.round(y * 10000) / 10000;
          }
          return [xs[i], y];
        });
        var box = document.getElementById('chart-sweep');
        box.hidden = false;
        box.dataset.points = String(data.length);
        box.dataset.values = JSON.stringify(data);
        setChart('chart-sweep', {
          tooltip: { trigger: 'axis' },
          grid: { left: 12, right: 24, top: 36, bottom: 44, containLabel: true },
          xAxis: { type: 'value', name: sweepLabel(document.getElementById('sweep-path')), nameLocation: 'middle', nameGap: 28,
            min: 'dataMin', max: 'dataMax' },
          yAxis: { type: 'value', name: sweepLabel(form.elements.figure), scale: true, nameTextStyle: { align: 'left' } },
          series: [{ type: 'line', data: data, symbolSize: 6, name: sweepLabel(form.elements.figure) }]
        });
        charts['chart-sweep'].resize();
        status.textContent = fmt(T.took, { ms: res.body.took_ms, rtt: Math.round(performance.now() - started) });
      })
      .catch(function () { status.textContent = T.failed; });
  }

  // -- saving -----------------------------------------------------------------------------------------------------
  function save(e) {
    e.preventDefault();
    var form = e.target;
    var asVersion = e.submitter && e.submitter.value === 'version';
    var body = { reform: reformDoc() };
    if (asVersion && setup.of) body.of = setup.of;
    clearProblems();
    post('/api/v1/reforms', body).then(function (res) {
      if (res.status !== 201) { showProblems(res.body, 'save-problems'); return; }
      var link = document.getElementById('share-link');
      link.href = res.body.url;
      link.textContent = window.location.origin + res.body.url;
      document.getElementById('save-result').hidden = false;
      document.getElementById('save-result').dataset.id = String(res.body.id);
      setup.of = res.body.id;  // a further save as a version continues this reform's lineage
    }).catch(function () { showProblems({}, 'save-problems'); });
  }
  function copyLink() {
    var link = document.getElementById('share-link');
    var done = function () { document.getElementById('copy-done').hidden = false; };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(link.textContent).then(done, function () { selectLink(link); });
    } else {
      selectLink(link);
    }
  }
  function selectLink(link) {
    var range = document.createRange();
    range.selectNodeContents(link);
    var sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
    try { if (document.execCommand('copy')) document.getElementById('copy-done').hidden = false; } catch (e) { /* selected */ }
  }

  // -- wiring -----------------------------------------------------------------------------------------------------
  var tree = document.getElementById('reform-form');
  tree.addEventListener('input', function (e) { if (e.target.dataset.path) { quotaRest(e.target); schedule(); } });
  tree.addEventListener('change', function (e) { if (e.target.dataset.path) schedule(); });
  tree.addEventListener('submit', function (e) { e.preventDefault(); });
  document.getElementById('sim-reset').addEventListener('click', function () {
    tree.querySelectorAll('[data-path]').forEach(function (i) {
      if (i.type === 'checkbox') i.checked = i.dataset.base === 'true'; else i.value = i.dataset.base;
    });
    setup.extra = {};
    run();
  });
  document.querySelectorAll('#sim-firms th[data-sort] button').forEach(function (b) {
    b.addEventListener('click', function () {
      var key = b.closest('th').dataset.sort;
      sortBy = { key: key, dir: sortBy.key === key && sortBy.dir === 'desc' ? 'asc' : 'desc' };
      if (last) drawFirms(last);
    });
  });
  document.querySelector('#sim-firms tbody').addEventListener('click', function (e) {
    var b = e.target.closest('[data-why]');
    if (b) { explainFirm(b.dataset.why); document.getElementById('sim-why').scrollIntoView({ block: 'start' }); }
  });
  document.getElementById('sim-why-close').addEventListener('click', function () {
    ++whySeq;
    document.getElementById('sim-why').hidden = true;
  });
  document.getElementById('export-form').addEventListener('submit', function (e) {
    var form = e.target;
    form.elements.year.value = setup.year;
    form.elements.snapshot.value = setup.snapshot || '';
    form.elements.reform.value = JSON.stringify(reformDoc());
  });
  document.getElementById('upload-form').addEventListener('submit', upload);
  document.getElementById('sweep-path').addEventListener('change', sweepDefaults);
  document.getElementById('sweep-form').addEventListener('submit', runSweep);
  var saveForm = document.getElementById('save-form');
  if (saveForm) {
    saveForm.addEventListener('submit', save);
    document.getElementById('copy-link').addEventListener('click', copyLink);
  }
  window.addEventListener('resize', function () { Object.keys(charts).forEach(function (k) { charts[k].resize(); }); });
  window.addEventListener('beforeprint', function () { Object.keys(charts).forEach(function (k) { charts[k].resize(); }); });

  function start() {
    // A phone: the namespaces folded (the results follow the tree in one column), but those holding changes.
    if (window.innerWidth < 700) {
      collect();
      document.querySelectorAll('#reform-form details.ns').forEach(function (d) { d.open = !!d.querySelector('.param.changed'); });
    }
    sweepDefaults();
    run();
  }
  if (window.echarts) start(); else window.addEventListener('load', start);
})();
