// tenglong: the pages' behaviour. The Content-Security-Policy allows no inline script, no on*= handler and no
// style="" attribute, so templates carry data (data-* attributes, <script type="application/json"> blocks) and this
// file attaches the behaviour by selector:
//   [data-action="print"]                         a button that prints the page
//   select[data-autosubmit]                       submits its form when changed
//   details[data-print-open]                      opened before printing (the explanations of a profile)
//   <script type="application/json" data-chart="ID">{"option": …, "links": …}</script>
//                                                 draws ECharts chart #ID; links (one URL per data point, or one row
//                                                 of URLs per series) make its points clickable; its tooltips
//                                                 are drawn on the canvas (renderMode richText), not as HTML
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
  window.addEventListener('beforeprint', function () {
    document.querySelectorAll('details[data-print-open]').forEach(function (d) { d.open = true; });
  });

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', function () { drawCharts(document); });
  } else {
    drawCharts(document);
  }
})();
