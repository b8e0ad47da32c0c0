/* /peta: the viewer for Pokja PKP, one kab/kota at a time (a chooser opens another). Kelurahan search
 * (GET /peta/cari), year and stage filters on the activity layers, popups, legend. Database text goes into the
 * page with textContent only (kotaku.el). */
(function () {
  'use strict';
  var kotaku = window.kotaku;

  function searchBox(map) {
    var form = document.getElementById('cari-form');
    var input = document.getElementById('cari');
    var list = document.getElementById('hasil-cari');
    var found = L.featureGroup().addTo(map);
    var timer = null;

    function show(region) {
      var b = region.bounds;
      map.fitBounds([[b[0], b[1]], [b[2], b[3]]], {maxZoom: 16});
      found.clearLayers();
      kotaku.api('GET', '/collections/regions/items/' + encodeURIComponent(region.code)).then(function (r) {
        if (r.ok) {
          kotaku.highlight(map, found, r.body, {color: '#00bcd4', weight: 4, fill: false,
                                                className: 'kotaku-sorotan-wilayah'});
        }
      });
    }

    function search() {
      var text = input.value.trim();
      kotaku.clear(list);
      if (text.length < 2) return;
      var tenant = kotaku.config().tenant;
      var url = '/peta/cari?q=' + encodeURIComponent(text) + (tenant ? '&tenant=' + encodeURIComponent(tenant) : '');
      kotaku.api('GET', url).then(function (r) {
        kotaku.clear(list);
        var results = (r.ok && r.body.results) || [];
        if (!results.length) {
          list.appendChild(kotaku.el('li', {className: 'kosong', text: 'Tidak ditemukan: ' + text}));
          return;
        }
        results.forEach(function (region) {
          var level = region.level === 'kecamatan' ? 'Kecamatan' : 'Kelurahan/desa';
          var button = kotaku.el('button', {type: 'button', className: 'hasil-wilayah', onclick: function () {
            show(region);
          }}, [kotaku.el('strong', {text: region.name}), ' ' + region.code,
               kotaku.el('small', {text: level + (region.parent_name ? ', ' + region.parent_name : '')})]);
          list.appendChild(kotaku.el('li', {}, [button]));
        });
      });
    }

    form.addEventListener('submit', function (e) { e.preventDefault(); search(); });
    input.addEventListener('input', function () {
      clearTimeout(timer);
      timer = setTimeout(search, 300);
    });
  }

  function filters(map, refs) {
    var config = kotaku.config();
    var year = document.getElementById('filter-tahun');
    var stage = document.getElementById('filter-tahap');
    var note = document.getElementById('catatan-filter');
    config.years.forEach(function (y) { year.appendChild(kotaku.el('option', {value: String(y), text: String(y)})); });
    config.stages.forEach(function (s) { stage.appendChild(kotaku.el('option', {value: s.code, text: s.name})); });

    function explain() {
      var zoom = kotaku.featureZoom();
      note.textContent = map.getZoom() < zoom
        ? 'Pada zoom di bawah ' + zoom + ' kawasan kumuh dan kegiatan dijumlah per wilayah: filter tahun memakai ' +
          'rentang tahun wilayah, filter tahap berlaku setelah peta diperbesar.'
        : 'Filter berlaku pada lapisan kegiatan.';
    }
    function apply() {
      kotaku.filters.year = year.value ? parseInt(year.value, 10) : null;
      kotaku.filters.stage = stage.value || null;
      kotaku.redrawActivities(refs);
    }
    year.addEventListener('change', apply);
    stage.addEventListener('change', apply);
    map.on('zoomend', explain);
    explain();
  }

  kotaku.pages.peta = function (map, refs) {
    kotaku.bindPopups(map, refs);
    kotaku.legendControl(map, refs);
    kotaku.tenantChooser(document.getElementById('pilih-tenant'));
    searchBox(map);
    filters(map, refs);
  };
})();
