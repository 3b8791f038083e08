// tenglong: the pages' behaviour. The Content-Security-Policy allows no inline script, no on*= handler and no
// style="" attribute, so templates carry data (data-* attributes, <script type="application/json"> blocks) and this
// file attaches the behaviour by selector:
//   [data-action="print"]                         a button that prints the page
//   select[data-autosubmit]                       submits its form when changed
//   details[data-print-open]                      opened before printing (the explanations of a profile)
//   form[data-confirm="summary"]                  asks first in a <dialog> (an irreversible action): the summary, then
//                                                 data-confirm-ok / data-confirm-cancel (button texts), data-confirm-title;
//                                                 confirmed, it sets its field data-confirm-field (e.g. confirm) to 1 and
//                                                 submits — the server refuses the action without that field.
//                                                 In the summary, {name} is the value of the form's field name (its
//                                                 placeholder when empty), {name|yuan} that amount as 1,234.50 and
//                                                 {name|wan} in 万元 (exact: 0.12345), always as text
//   <script type="application/json" data-chart="ID">{"option": …, "links": …}</script>
//                                                 draws ECharts chart #ID; links (one URL per data point, or one row
//                                                 of URLs per series) make its points clickable; its tooltips
//                                                 are drawn on the canvas (renderMode richText), not as HTML. An
//                                                 option's "media" ([{"query": …, "option": …}]: e.g. a narrower
//                                                 layout on a phone) is applied again when the window is resized
//   input.bulk-pick, #bulk-all, form[data-bulk]    a register list's ticks fill the bulk-move forms (entry, count)
// Charts set data-chart-ready="1" on their element and on <body> when drawn (the browser tests wait on it).
(function () {
  'use strict';

  function chart(id, option) {
    var el = document.getElementById(id);
    if (!el || !window.echarts) return null;
    var c = echarts.init(el, null, { renderer: 'canvas' });
    c.on('finished', function () { el.dataset.chartReady = '1'; document.body.dataset.chartReady = '1'; });
    option.animation = false;
    // ECharts writes HTML tooltips with style="" attributes, which the CSP refuses: draw them on the canvas instead.
    [].concat(option.tooltip || []).forEach(function (t) { t.renderMode = 'richText'; });
    c.setOption(option);
    window.addEventListener('resize', function () { c.resize(); });
    return c;
  }

  function follow(c, links) {
    c.on('click', function (p) {
      var row = Array.isArray(links[0]) ? links[p.seriesIndex] : links;
      var href = row && row[p.dataIndex];
      if (href) { window.location.href = href; }
    });
  }

  function drawCharts(root) {
    root.querySelectorAll('script[type="application/json"][data-chart]').forEach(function (block) {
      var el = document.getElementById(block.dataset.chart);
      if (!el || (window.echarts && echarts.getInstanceByDom(el))) return;  // missing, or drawn already
      var data = JSON.parse(block.textContent);
      var c = chart(block.dataset.chart, data.option);
      if (c && data.links && data.links.length) follow(c, data.links);
    });
  }

  window.tenglong = { chart: chart, drawCharts: drawCharts };

  // Delegated, so buttons and selects that htmx swaps in later work too.
  document.addEventListener('click', function (e) {
    var button = e.target.closest ? e.target.closest('[data-action="print"]') : null;
    if (button) { e.preventDefault(); window.print(); }
  });
  document.addEventListener('change', function (e) {
    var el = e.target;
    if (el.matches && el.matches('select[data-autosubmit]') && el.form) { el.form.submit(); }
  });
  // Confirmation: one <dialog>, made on first use, for every form[data-confirm] (also forms htmx swaps in later).
  function confirmDialog() {
    var d = document.getElementById('confirm-dialog');
    if (d) return d;
    d = document.createElement('dialog');
    d.id = 'confirm-dialog';
    d.className = 'confirm-dialog';
    var form = document.createElement('form');
    form.method = 'dialog';
    var title = document.createElement('h2');
    title.id = 'confirm-title';
    var text = document.createElement('p');
    text.id = 'confirm-text';
    var buttons = document.createElement('p');
    buttons.className = 'confirm-buttons';
    var cancel = document.createElement('button');
    cancel.value = 'cancel';
    cancel.id = 'confirm-cancel';
    var ok = document.createElement('button');
    ok.value = 'ok';
    ok.id = 'confirm-ok';
    ok.className = 'primary';
    buttons.append(cancel, ok);
    form.append(title, text, buttons);
    d.append(form);
    d.setAttribute('aria-labelledby', 'confirm-title');
    d.setAttribute('aria-describedby', 'confirm-text');
    document.body.append(d);
    return d;
  }
  // Amounts in a summary, by exact decimal text (never through floating point): 元 to the 分, and 万元.
  function fen(text) {
    var m = /^\s*(\d+)(?:\.(\d{0,2}))?\s*$/.exec(String(text).replace(/[,，]/g, ''));
    return m ? (m[1] + ((m[2] || '') + '00').slice(0, 2)).replace(/^0+(?=\d)/, '') : null;
  }
  function grouped(digits) { return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ','); }
  var AMOUNT = {
    yuan: function (f) { f = f.padStart(3, '0'); return grouped(f.slice(0, -2)) + '.' + f.slice(-2); },
    wan: function (f) {
      f = f.padStart(7, '0');
      var frac = f.slice(-6).replace(/0+$/, '');
      return grouped(f.slice(0, -6)) + '.' + frac.padEnd(2, '0');
    }
  };
  function summary(form, text) {
    return String(text).replace(/\{([A-Za-z0-9_]+)(?:\|(yuan|wan))?\}/g, function (whole, name, as) {
      var field = form.elements[name];
      if (!field || typeof field.value !== 'string') return whole;
      var value = field.value.trim() || field.placeholder || '';
      var f = as ? fen(value) : null;
      return f === null ? value : AMOUNT[as](f);
    });
  }
  document.addEventListener('submit', function (e) {
    var form = e.target;
    if (!form.matches || !form.matches('form[data-confirm]') || form.dataset.confirmed === '1') return;
    e.preventDefault();
    var d = confirmDialog();
    var lang = document.body.dataset.lang;
    d.querySelector('#confirm-title').textContent = form.dataset.confirmTitle || (lang === 'en' ? 'Please confirm' : '请确认');
    d.querySelector('#confirm-text').textContent = summary(form, form.dataset.confirm);
    d.querySelector('#confirm-ok').textContent = form.dataset.confirmOk || (lang === 'en' ? 'Confirm' : '确认');
    d.querySelector('#confirm-cancel').textContent = form.dataset.confirmCancel || (lang === 'en' ? 'Cancel' : '取消');
    d.onclose = function () {
      if (d.returnValue !== 'ok') return;
      var name = form.dataset.confirmField;
      if (name) {
        var field = form.querySelector('input[name="' + name + '"]');
        if (!field) {
          field = document.createElement('input');
          field.type = 'hidden';
          field.name = name;
          form.append(field);
        }
        field.value = '1';
      }
      form.dataset.confirmed = '1';
      if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
    };
    d.returnValue = '';
    d.showModal();
    d.querySelector('#confirm-cancel').focus();
  }, true);
  // Bulk moves (a register's list of one state): the ticked rows' ids go into every form[data-bulk] as its entry
  // fields, with their count (the confirmation says it); the forms' buttons wait for a tick.
  function syncBulk() {
    var picks = [].slice.call(document.querySelectorAll('input.bulk-pick'));
    if (!picks.length) return;
    var ids = picks.filter(function (c) { return c.checked; }).map(function (c) { return c.value; });
    document.querySelectorAll('form[data-bulk]').forEach(function (form) {
      form.querySelectorAll('input[name="entry"]').forEach(function (i) { i.remove(); });
      ids.forEach(function (id) {
        var i = document.createElement('input');
        i.type = 'hidden';
        i.name = 'entry';
        i.value = id;
        form.append(i);
      });
      form.elements.count.value = String(ids.length);
      var button = form.querySelector('button[type=submit]');
      if (button) button.disabled = !ids.length;
    });
    var all = document.getElementById('bulk-all');
    if (all) {
      all.checked = ids.length === picks.length;
      all.indeterminate = ids.length > 0 && ids.length < picks.length;
    }
    var count = document.getElementById('bulk-count');
    if (count && count.dataset.template) count.textContent = count.dataset.template.replace('{n}', String(ids.length));
  }
  document.addEventListener('change', function (e) {
    var el = e.target;
    if (el.id === 'bulk-all') {
      document.querySelectorAll('input.bulk-pick').forEach(function (c) { c.checked = el.checked; });
    }
    if (el.id === 'bulk-all' || (el.classList && el.classList.contains('bulk-pick'))) syncBulk();
  });
  syncBulk();
  window.addEventListener('beforeprint', function () {
    document.querySelectorAll('details[data-print-open]').forEach(function (d) { d.open = true; });
  });

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', function () { drawCharts(document); });
  } else {
    drawCharts(document);
  }
})();
