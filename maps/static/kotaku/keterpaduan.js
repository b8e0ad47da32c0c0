/* /peta/keterpaduan: the programme integration map. The side panel is fed by GET /tenants/{tenant}/keterpaduan:
 * the kab/kota summary, tables per slum area, kelurahan and kecamatan, and the details of the chosen slum area
 * (programmes, money per funding source in three states never added up: usulan, pagu, realisasi, criteria addressed against criteria still scoring 3 or 5, the
 * projected level, collaboration links drawn between linked activities). Text only through textContent. */
(function () {
  'use strict';
  var kotaku = window.kotaku;
  var el = function () { return kotaku.el.apply(null, arguments); };
  var MAX_LINK_LOOKUPS = 60;
  var PAGE_ROWS = 300;

  function levelBadge(code) {
    var legend = kotaku.config().legends.tingkat;
    return el('span', {className: 'tingkat', style: 'background:' + kotaku.classColour(legend, code),
                       title: kotaku.levelName(code), text: code || '-'});
  }

  function levelChange(from, to) {
    return el('span', {className: 'perubahan'}, [levelBadge(from), '\u2192', levelBadge(to)]);
  }

  function hectares(value) { return kotaku.number(value) + ' ha'; }

  function bars(title, values, legendKey, format) {
    var legend = kotaku.config().legends[legendKey];
    var keys = Object.keys(values || {}).sort(function (a, b) { return values[b] - values[a]; });
    var top = keys.length ? values[keys[0]] : 0;
    return el('div', {className: 'batang-blok'}, [el('h4', {text: title})].concat(keys.length ? keys.map(function (k) {
      var width = top ? Math.max(2, Math.round(140 * values[k] / top)) : 2;
      return el('div', {className: 'batang'}, [
        el('span', {className: 'label', text: k, title: kotaku.name(legendKey === 'program' ? 'programs' : 'funding_sources', k)}),
        el('span', {className: 'isi', style: 'width:' + width + 'px;background:' + kotaku.classColour(legend, k)}),
        el('span', {text: format(values[k])})]);
    }) : [el('p', {className: 'catatan', text: 'Belum ada.'})]));
  }

  function criteriaChips(title, codes, className) {
    var names = kotaku.config().criteria;
    return el('div', {}, [el('h4', {text: title}), el('div', {className: 'kriteria'}, (codes || []).length
      ? codes.map(function (c) { return el('span', {className: className, title: names[c] || c, text: c}); })
      : [el('span', {className: 'catatan', text: 'tidak ada'})])]);
  }

  kotaku.pages.keterpaduan = function (map, refs) {
    var config = kotaku.config();
    var tableBox = document.getElementById('tabel-keterpaduan');
    var detail = document.getElementById('rincian-kawasan');
    var detailTitle = document.getElementById('rincian-judul');
    var detailBody = document.getElementById('rincian-isi');
    var selected = L.featureGroup().addTo(map);
    // the chosen kawasan or region in the permalink ('kawasan=<id>' or 'wilayah=<code>'), chosen again on opening
    var chosen = {kawasan: '', wilayah: ''};
    var wanted = {};
    ['kawasan', 'wilayah'].forEach(function (key) {
      kotaku.viewState(key, function () { return chosen[key]; }, function (value) { wanted[key] = value; });
    });
    function remember(key, value) {
      chosen = {kawasan: '', wilayah: ''};
      chosen[key] = String(value);
      kotaku.viewChanged();
    }
    var summary = null;
    var tab = 'kawasan';

    kotaku.bindPopups(map, refs);
    kotaku.legendControl(map, refs, [function () {
      var outline = kotaku.config().legends.tingkat;
      return kotaku.legendBlock({title: 'Tingkat kekumuhan (garis tepi kawasan)', classes: outline.classes}, 'tepi');
    }, function () {
      return kotaku.legendBlock({title: 'Pilihan di panel', classes: [
        {label: 'Kawasan terpilih', colour: '#00bcd4'}, {label: 'Kolaborasi antarkegiatan', colour: '#00a152'}]},
        'garis');
    }]);

    // -- tenant choice ------------------------------------------------------------------------------------------
    kotaku.tenantChooser(document.getElementById('pilih-tenant'));

    // -- summaries ----------------------------------------------------------------------------------------------
    function kabkotaSummary(k) {
      var box = kotaku.clear(document.getElementById('ringkasan-kabkota'));
      if (!k) return;
      [['Kawasan kumuh', kotaku.number(k.slum_areas) + ' (' + hectares(k.slum_area_ha) + ')'],
       ['Luas kumuh sekarang \u2192 proyeksi', hectares(k.slum_ha) + ' \u2192 ' + hectares(k.projected_slum_ha)],
       ['Kegiatan (selesai)', kotaku.number(k.activities) + ' (' + kotaku.number(k.activities_completed) + ')'],
       ['Usulan belum dianggarkan', kotaku.rupiah(k.proposed_cost)], ['Pagu anggaran', kotaku.rupiah(k.budgeted)],
       ['Realisasi', kotaku.rupiah(k.realised)],
       ['Program', kotaku.number(Object.keys(k.programs || {}).length)],
       ['Kolaborasi', kotaku.number(k.collaborations)]].forEach(function (pair) {
        box.appendChild(el('div', {}, [el('span', {text: pair[0]}), el('strong', {text: pair[1]})]));
      });
    }

    function table(headers, rows) {
      return el('table', {className: 'ringkas', id: 'tabel-' + tab}, [
        el('thead', {}, [el('tr', {}, headers.map(function (h) {
          return el('th', {className: h[1] ? 'angka' : '', text: h[0]});
        }))]), el('tbody', {}, rows)]);
    }

    function cell(content, numeric) {
      return el('td', {className: numeric ? 'angka' : ''}, [typeof content === 'string' ? content : content]);
    }

    function slumAreaRows(list) {
      return list.map(function (s) {
        var row = el('tr', {'data-id': String(s.slum_area_id)}, [
          el('td', {}, [el('strong', {text: s.kawasan || ('Kawasan ' + s.slum_area_id)}),
                        el('div', {className: 'catatan', text: s.kelurahan || s.kelurahan_code})]),
          cell(levelChange(s.level, s.projected_level)),
          cell(kotaku.number(s.activities) + ' / ' + kotaku.number(Object.keys(s.programs || {}).length), true),
          cell(kotaku.rupiahShort(s.budgeted), true), cell(kotaku.rupiahShort(s.realised), true)]);
        row.addEventListener('click', function () { chooseSlumArea(s, row); });
        return row;
      });
    }

    function regionRows(list) {
      return list.map(function (r) {
        var row = el('tr', {'data-code': r.code}, [
          el('td', {}, [el('strong', {text: r.name || r.code}), el('div', {className: 'catatan', text: r.code})]),
          cell(kotaku.number(r.slum_areas), true),
          cell(hectares(r.slum_ha) + ' \u2192 ' + hectares(r.projected_slum_ha), true),
          cell(kotaku.number(r.activities), true),
          cell(kotaku.rupiahShort(r.budgeted), true), cell(kotaku.rupiahShort(r.realised), true)]);
        row.addEventListener('click', function () { chooseRegion(r, row); });
        return row;
      });
    }

    /* Rows are made PAGE_ROWS at a time: a kab/kota may have thousands of slum areas. */
    function showTable() {
      kotaku.clear(tableBox);
      if (!summary) return;
      var list = tab === 'kawasan' ? summary.slum_areas : (summary[tab] || []);
      var headers = tab === 'kawasan'
        ? [['Kawasan'], ['Tingkat \u2192 proyeksi'], ['Kegiatan / program', 1], ['Pagu', 1], ['Realisasi', 1]]
        : [[tab === 'kelurahan' ? 'Kelurahan' : 'Kecamatan'], ['Kawasan', 1], ['Kumuh \u2192 proyeksi', 1],
           ['Kegiatan', 1], ['Pagu', 1], ['Realisasi', 1]];
      var made = table(headers, []);
      var body = made.querySelector('tbody');
      var shown = 0;
      var more = el('button', {type: 'button', className: 'tautan', id: 'baris-berikutnya'});
      function next() {
        var slice = list.slice(shown, shown + PAGE_ROWS);
        (tab === 'kawasan' ? slumAreaRows(slice) : regionRows(slice)).forEach(function (row) { body.appendChild(row); });
        shown += slice.length;
        more.hidden = shown >= list.length;
        more.textContent = 'Tampilkan ' + Math.min(PAGE_ROWS, list.length - shown) + ' baris berikutnya dari ' +
                           (list.length - shown);
      }
      more.addEventListener('click', next);
      tableBox.appendChild(made);
      tableBox.appendChild(more);
      next();
    }

    Array.prototype.forEach.call(document.querySelectorAll('.tab button'), function (button) {
      button.addEventListener('click', function () {
        tab = button.getAttribute('data-tab');
        Array.prototype.forEach.call(document.querySelectorAll('.tab button'), function (b) {
          b.setAttribute('aria-selected', String(b === button));
        });
        showTable();
      });
    });

    // -- the chosen slum area or region ---------------------------------------------------------------------------
    function mark(row) {
      Array.prototype.forEach.call(tableBox.querySelectorAll('tr.dipilih'), function (r) { r.classList.remove('dipilih'); });
      if (row) row.classList.add('dipilih');
    }

    function centre(geometry) {
      return L.geoJSON(geometry).getBounds().getCenter();
    }

    function drawCollaborations(activities) {
      var byId = {};
      activities.forEach(function (f) { byId[f.id] = f; });
      var seen = {};
      var list = el('ul', {className: 'daftar kolaborasi', id: 'daftar-kolaborasi'});
      detailBody.appendChild(el('h4', {text: 'Kolaborasi antarkegiatan'}));
      detailBody.appendChild(list);
      activities.slice(0, MAX_LINK_LOOKUPS).forEach(function (f) {
        kotaku.api('GET', '/activities/' + encodeURIComponent(f.id) + '/links').then(function (r) {
          if (!r.ok) return;
          (r.body.links || []).forEach(function (link) {
            var key = [Math.min(link.activity_id, link.other_id), Math.max(link.activity_id, link.other_id),
                       link.relation].join('-');
            if (seen[key]) return;
            seen[key] = true;
            var other = link.activity_id === f.id ? link.other_id : link.activity_id;
            var label = link.relation === 'kolaborasi' ? 'menyambung dengan' : 'tumpang tindih disetujui dengan';
            list.appendChild(el('li', {text: '#' + f.id + ' ' + (f.properties.title || '') + ' ' + label + ' #' + other +
              ' ' + (link.title || '') + ' (' + (link.program || '-') + ', ' + (link.funding_source || '-') + ')'}));
            if (byId[other] && f.geometry && byId[other].geometry) {
              selected.addLayer(L.polyline([centre(f.geometry), centre(byId[other].geometry)],
                {color: '#00a152', weight: 3, dashArray: '4 4', className: 'kotaku-kolaborasi'}));
            }
          });
        });
      });
    }

    /* The live activities of the area, for its collaboration links (only fetched when it has some). */
    function activitiesOf(s) {
      if (!s.collaborations) return;
      var url = '/collections/activities/items?limit=500&slum_area_id=' + encodeURIComponent(s.slum_area_id);
      kotaku.api('GET', url).then(function (r) {
        if (!r.ok) return;
        var live = r.body.features.filter(function (f) {
          return f.properties.status !== 'ditolak' && f.properties.status !== 'dibatalkan';
        });
        drawCollaborations(live);
      });
    }

    function chooseSlumArea(s, row) {
      remember('kawasan', s.slum_area_id);
      mark(row);
      selected.clearLayers();
      detail.hidden = false;
      detail.scrollIntoView({block: 'nearest'});
      detailTitle.textContent = s.kawasan || ('Kawasan ' + s.slum_area_id);
      kotaku.clear(detailBody);
      detailBody.appendChild(kotaku.rows([
        ['Kelurahan', (s.kelurahan || '-') + ' (' + s.kelurahan_code + ')'], ['Kecamatan', s.kecamatan || s.kecamatan_code],
        ['Luas', hectares(s.area_ha)], ['Skor sekarang', kotaku.number(s.total_score) + ' (' + kotaku.levelName(s.level) + ')'],
        ['Proyeksi setelah kegiatan', kotaku.number(s.projected_total) + ' (' + kotaku.levelName(s.projected_level) + ')'],
        ['Putaran survei', s.round], ['Kegiatan (selesai)', kotaku.number(s.activities) + ' (' +
          kotaku.number(s.activities_completed) + ')'],
        ['Tahun', (s.year_first || '-') + ' - ' + (s.year_last || '-')], ['Usulan belum dianggarkan', kotaku.rupiah(s.proposed_cost)],
        ['Pagu anggaran', kotaku.rupiah(s.budgeted)], ['Realisasi', kotaku.rupiah(s.realised)],
        ['Kolaborasi', kotaku.number(s.collaborations)]]));
      detailBody.appendChild(bars('Kegiatan per program', s.programs, 'program', kotaku.number));
      moneyBars(s);
      detailBody.appendChild(criteriaChips('Kriteria yang ditangani kegiatan', s.criteria_addressed, 'ditangani'));
      detailBody.appendChild(criteriaChips('Kriteria masih bernilai 3 atau 5', s.criteria_remaining, 'tersisa'));
      if (s.criteria_gap) {
        detailBody.appendChild(criteriaChips('Belum ditangani kegiatan apa pun', s.criteria_gap, 'tersisa'));
      }
      kotaku.api('GET', '/collections/keterpaduan/items/' + encodeURIComponent(s.slum_area_id)).then(function (r) {
        if (!r.ok || !r.body.geometry) return;
        var layer = kotaku.highlight(map, selected, r.body.geometry,
                                     {color: '#00bcd4', weight: 4, fill: false, className: 'kotaku-terpilih'});
        map.fitBounds(layer.getBounds(), {maxZoom: 17, padding: [20, 20]});
        activitiesOf(s);
      });
    }

    /* Money per funding source, one bar chart per state: proposed, budgeted and realised are never added up. */
    function moneyBars(x) {
      [['Usulan belum dianggarkan per sumber dana', x.proposed_by_source],
       ['Pagu anggaran per sumber dana', x.budgeted_by_source],
       ['Realisasi per sumber dana', x.realised_by_source]].forEach(function (pair) {
        if (pair[1] && Object.keys(pair[1]).length) {
          detailBody.appendChild(bars(pair[0], pair[1], 'sumber', kotaku.rupiah));
        }
      });
    }

    function chooseRegion(r, row) {
      remember('wilayah', r.code);
      mark(row);
      selected.clearLayers();
      detail.hidden = false;
      detail.scrollIntoView({block: 'nearest'});
      detailTitle.textContent = (r.name || r.code) + ' (' + r.code + ')';
      kotaku.clear(detailBody);
      detailBody.appendChild(kotaku.rows([
        ['Kawasan kumuh', kotaku.number(r.slum_areas) + ' (' + hectares(r.slum_area_ha) + ')'],
        ['Luas kumuh sekarang', hectares(r.slum_ha)], ['Proyeksi luas kumuh', hectares(r.projected_slum_ha)],
        ['Keluar dari kumuh', hectares(r.leaving_slum_ha)],
        ['Kegiatan (selesai)', kotaku.number(r.activities) + ' (' + kotaku.number(r.activities_completed) + ')'],
        ['Usulan belum dianggarkan', kotaku.rupiah(r.proposed_cost)], ['Pagu anggaran', kotaku.rupiah(r.budgeted)],
        ['Realisasi', kotaku.rupiah(r.realised)], ['Kolaborasi', kotaku.number(r.collaborations)]]));
      detailBody.appendChild(bars('Kegiatan per program', r.programs, 'program', kotaku.number));
      moneyBars(r);
      kotaku.api('GET', '/collections/regions/items/' + encodeURIComponent(r.code)).then(function (res) {
        if (!res.ok || !res.body.geometry) return;
        var layer = kotaku.highlight(map, selected, res.body.geometry, {color: '#00bcd4', weight: 4, fill: false});
        map.fitBounds(layer.getBounds(), {padding: [20, 20]});
      });
    }

    // -- load ---------------------------------------------------------------------------------------------------
    if (!config.tenant) {
      kotaku.clear(tableBox).appendChild(el('p', {className: 'catatan', text: 'Belum ada kawasan kumuh yang dapat dilihat.'}));
      return;
    }
    kotaku.api('GET', '/tenants/' + encodeURIComponent(config.tenant) + '/keterpaduan').then(function (r) {
      if (!r.ok) {
        kotaku.clear(tableBox).appendChild(el('p', {className: 'pesan gagal',
          text: (r.body && r.body.description) || ('Ringkasan tidak dapat dimuat (' + r.status + ').')}));
        return;
      }
      summary = r.body;
      kabkotaSummary(summary.kabkota);
      showTable();
      chooseWanted();
    });

    /* The kawasan or region a permalink names, chosen as a click on its row would (no row if not on this page). */
    function chooseWanted() {
      var area = wanted.kawasan && (summary.slum_areas || []).filter(function (s) {
        return String(s.slum_area_id) === wanted.kawasan;
      })[0];
      if (area) return chooseSlumArea(area, tableBox.querySelector('tr[data-id="' + area.slum_area_id + '"]'));
      var regions = [].concat(summary.kelurahan || [], summary.kecamatan || []);
      var region = wanted.wilayah && regions.filter(function (x) { return x.code === wanted.wilayah; })[0];
      if (region) chooseRegion(region, null);
    }
  };
})();
