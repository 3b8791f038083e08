// tenglong: small helpers shared by the pages. Charts set data-chart-ready="1" when drawn (tests wait on it).
(function () {
  window.tenglong = {
    chart: function (id, option) {
      var el = document.getElementById(id);
      if (!el || !window.echarts) return null;
      var chart = echarts.init(el, null, { renderer: 'canvas' });
      chart.on('finished', function () { el.dataset.chartReady = '1'; document.body.dataset.chartReady = '1'; });
      option.animation = false;
      chart.setOption(option);
      window.addEventListener('resize', function () { chart.resize(); });
      return chart;
    }
  };
})();
