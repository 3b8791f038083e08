// tenglong: the calculator's and the new-application form's behaviour (the CSP allows no inline script; templates
// carry data-* attributes and this file attaches the behaviour by selector, also to what htmx swaps in later):
//   input[data-money="<unit field>"]       an amount; beside it small[data-exact="<field>"] shows the exact 元 it
//                                           means in the unit chosen (data-template: "合 {yuan} 元"), so that 800
//                                           in 万元 reads "合 8,000,000.00 元" before anything is sent
//   button[data-set-date][data-target]      sets the date field data-target to data-set-date (the validity notice)
//   input[data-typeahead][list]             an enterprise picker: a name typed exactly as an option's label becomes
//                                           that option's value (the credit code)
//   [data-print-time][data-template]        updated to the time of printing, Beijing time ("{time}")
(function () {
  'use strict';

  // Exact decimal text arithmetic (never through floating point): 元 to the 分 of a typed amount.
  function digits(text) {
    var t = String(text).trim().replace(/[,，\s]/g, '').replace(/[０-９]/g, function (c) {
      return String.fromCharCode(c.charCodeAt(0) - 0xFEE0);
    }).replace('．', '.');
    var m = /^(-?)(\d*)(?:\.(\d*))?$/.exec(t);
    if (!m || (m[2] === '' && (m[3] || '') === '')) return null;
    return { sign: m[1], whole: m[2] || '0', frac: m[3] || '' };
  }
  function grouped(d) { return d.replace(/\B(?=(\d{3})+(?!\d))/g, ','); }
  function yuanText(text, unit) {
    var n = digits(text);
    if (!n) return null;
    var shift = unit === '万元' ? 4 : 0;
    var frac = (n.frac + '000000').slice(0, Math.max(n.frac.length, shift));
    var whole = (n.whole + frac.slice(0, shift)).replace(/^0+(?=\d)/, '');
    var rest = frac.slice(shift);
    if (rest.replace(/0+$/, '').length > 2) return null;  // finer than the 分: the server says so
    return n.sign + grouped(whole) + '.' + (rest + '00').slice(0, 2);
  }
  function showExact(input) {
    var form = input.form;
    var unitField = form && form.elements[input.dataset.money];
    var note = form && form.querySelector('[data-exact="' + input.name + '"]');
    if (!note) return;
    var unit = unitField ? unitField.value : '元';
    var yuan = input.value.trim() ? yuanText(input.value, unit) : null;
    note.textContent = yuan && unit === '万元' ? note.dataset.template.replace('{yuan}', yuan) : '';
  }
  function refresh(root) {
    root.querySelectorAll('input[data-money]').forEach(showExact);
  }
  document.addEventListener('input', function (e) {
    if (e.target.matches && e.target.matches('input[data-money]')) showExact(e.target);
  });
  document.addEventListener('change', function (e) {
    var el = e.target;
    if (el.matches && el.matches('select.unit-switch') && el.form) {
      var input = el.form.querySelector('input[data-money="' + el.name + '"]');
      if (input) showExact(input);
    }
    if (el.matches && el.matches('input[data-typeahead][list]')) {
      var list = document.getElementById(el.getAttribute('list'));
      var typed = el.value.trim();
      if (!list || !typed) return;
      var hit = [].filter.call(list.options, function (o) { return o.label === typed || o.textContent.trim() === typed; });
      if (hit.length === 1) el.value = hit[0].value;
    }
  });
  document.addEventListener('click', function (e) {
    var button = e.target.closest ? e.target.closest('button[data-set-date]') : null;
    if (!button) return;
    e.preventDefault();
    var field = document.querySelector(button.dataset.target);
    if (field) {
      field.value = button.dataset.setDate;
      field.dispatchEvent(new Event('change', { bubbles: true }));
      field.focus();
    }
  });
  window.addEventListener('beforeprint', function () {
    var now = new Date(Date.now() + 8 * 3600 * 1000).toISOString();  // Beijing is UTC+8 all year
    var time = now.slice(0, 10) + ' ' + now.slice(11, 16);
    document.querySelectorAll('[data-print-time][data-template]').forEach(function (el) {
      el.textContent = el.dataset.template.replace('{time}', time);
    });
  });
  document.addEventListener('htmx:afterSwap', function (e) { refresh(e.target); });
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', function () { refresh(document); });
  } else {
    refresh(document);
  }
})();
