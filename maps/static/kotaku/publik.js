/* /publik: two charts from the page's JSON (#kotaku-config) with the vendored Chart.js: slum hectares per year
 * toward zero, and budgeted and realised money per funding source per year (two stacks: pagu and realisasi, never
 * added to each other). Numbers in Indonesian format. */
(function () {
  'use strict';
  var config = JSON.parse(document.getElementById('kotaku-config').textContent);
  var number = new Intl.NumberFormat('id-ID', {maximumFractionDigits: 2});
  var rupiah = function (v) { return 'Rp ' + new Intl.NumberFormat('id-ID', {maximumFractionDigits: 0}).format(v); };
  var short = function (v) {
    if (Math.abs(v) >= 1e9) return 'Rp ' + number.format(v / 1e9) + ' M';
    if (Math.abs(v) >= 1e6) return 'Rp ' + number.format(v / 1e6) + ' jt';
    return rupiah(v);
  };
  var palette = ['#0b5cad', '#e07b00', '#1b7f3b', '#8e24aa', '#c62828', '#00838f', '#6d4c41', '#546e7a'];
  var alpha = function (hex, a) {
    var n = parseInt(hex.slice(1), 16);
    return 'rgba(' + (n >> 16) + ',' + ((n >> 8) & 255) + ',' + (n & 255) + ',' + a + ')';
  };
  if (typeof Chart === 'undefined') return;
  Chart.defaults.locale = 'id-ID';
  Chart.defaults.animation = false;

  var slum = config.slumHa || [];
  var slumCanvas = document.getElementById('grafik-kumuh');
  if (slumCanvas && slum.length) {
    new Chart(slumCanvas, {
      type: 'line',
      data: {labels: slum.map(function (p) { return String(p.year); }),
             datasets: [{label: 'Luas kumuh (ha)', data: slum.map(function (p) { return p.slum_ha; }),
                         borderColor: '#c62828', backgroundColor: 'rgba(198,40,40,0.15)', fill: true, tension: 0}]},
      options: {responsive: true, maintainAspectRatio: false,
                scales: {y: {beginAtZero: true, ticks: {callback: function (v) { return number.format(v) + ' ha'; }}}},
                plugins: {tooltip: {callbacks: {label: function (c) {
                  return number.format(c.parsed.y) + ' ha (' + slum[c.dataIndex].source + ')'; }}}}}
    });
  }

  var money = config.money || [];
  var moneyCanvas = document.getElementById('grafik-dana');
  var spent = money.filter(function (m) { return m.budgeted > 0 || m.realised > 0; });
  if (moneyCanvas && spent.length) {
    var years = Array.from(new Set(spent.map(function (m) { return m.year; }))).sort();
    var sources = Array.from(new Set(spent.map(function (m) { return m.funding_source; }))).sort();
    var names = {};
    spent.forEach(function (m) { names[m.funding_source] = m.funding_name || m.funding_source; });
    var datasets = [];
    sources.forEach(function (source, i) {
      [['budgeted', 'Pagu', 'pagu', 0.45], ['realised', 'Realisasi', 'realisasi', 1]].forEach(function (state) {
        datasets.push({
          label: state[1] + ' ' + names[source], stack: state[2], backgroundColor: alpha(palette[i % palette.length], state[3]),
          borderColor: palette[i % palette.length], borderWidth: 1,
          data: years.map(function (y) {
            var row = spent.find(function (m) { return m.year === y && m.funding_source === source; });
            return row ? row[state[0]] : 0;
          })
        });
      });
    });
    new Chart(moneyCanvas, {
      type: 'bar',
      data: {labels: years.map(String), datasets: datasets},
      options: {responsive: true, maintainAspectRatio: false,
                scales: {x: {stacked: true}, y: {stacked: true, beginAtZero: true, ticks: {callback: short}}},
                plugins: {tooltip: {callbacks: {label: function (c) {
                  return c.dataset.label + ': ' + rupiah(c.parsed.y); }}}}}
    });
  }
})();
