/* /peta/usulan: draw a proposal, fill the form, check it (POST /overlap-check) and send it
 * (POST /collections/activities/items: 201 saved, 409 blocked with the conflicts). The verdict is drawn on the
 * map: conflicting activities highlighted (red), the shared part drawn (magenta), measures listed. Planners
 * whose role may override send it again with a reason. Database text only through textContent (kotaku.el). */
(function () {
  'use strict';
  var kotaku = window.kotaku;

  // Leaflet.draw in Bahasa Indonesia (read when the draw control is made, so set here, before the page script).
  if (window.L && L.drawLocal) {
    var d = L.drawLocal.draw, e = L.drawLocal.edit;
    d.toolbar.actions = {title: 'Batalkan menggambar', text: 'Batal'};
    d.toolbar.finish = {title: 'Selesai menggambar', text: 'Selesai'};
    d.toolbar.undo = {title: 'Hapus titik terakhir', text: 'Hapus titik terakhir'};
    d.toolbar.buttons.polyline = 'Gambar garis (jalan, saluran)';
    d.toolbar.buttons.polygon = 'Gambar poligon (kawasan)';
    d.toolbar.buttons.marker = 'Tandai titik (fasilitas)';
    d.handlers.marker.tooltip.start = 'Klik peta untuk menandai titik.';
    d.handlers.polyline.tooltip = {start: 'Klik untuk mulai menggambar garis.',
                                   cont: 'Klik untuk melanjutkan garis.',
                                   end: 'Klik titik terakhir atau Selesai untuk mengakhiri.'};
    d.handlers.polyline.error = '<strong>Galat:</strong> garis tidak boleh berpotongan!';
    d.handlers.polygon.tooltip = {start: 'Klik untuk mulai menggambar poligon.',
                                  cont: 'Klik untuk melanjutkan poligon.',
                                  end: 'Klik titik pertama untuk menutup poligon.'};
    e.toolbar.actions.save = {title: 'Simpan perubahan', text: 'Simpan'};
    e.toolbar.actions.cancel = {title: 'Batalkan perubahan', text: 'Batal'};
    e.toolbar.actions.clearAll = {title: 'Hapus semua gambar', text: 'Hapus semua'};
    e.toolbar.buttons = {edit: 'Ubah gambar', editDisabled: 'Belum ada gambar untuk diubah',
                         remove: 'Hapus gambar', removeDisabled: 'Belum ada gambar untuk dihapus'};
    e.handlers.edit.tooltip = {text: 'Seret titik untuk mengubah gambar.', subtext: 'Batal untuk mengembalikan.'};
    e.handlers.remove.tooltip = {text: 'Klik gambar untuk menghapusnya.'};
  }

  var MEASURES = {shared_length_m: ['Panjang tumpang tindih', ' m'], shared_area_m2: ['Luas tumpang tindih', ' m²'],
                  distance_m: ['Jarak', ' m']};
  var GEOMETRY_TYPES = {Point: 'point', LineString: 'line', Polygon: 'polygon'};
  var GEOMETRY_NAMES = {point: 'titik', line: 'garis', polygon: 'poligon'};

  function option(value, text) { return kotaku.el('option', {value: value, text: text}); }

  kotaku.pages.usulan = function (map, refs) {
    var config = kotaku.config();
    var form = document.getElementById('form-usulan');
    var info = document.getElementById('info-geometri');
    var message = document.getElementById('pesan');
    var conflictList = document.getElementById('daftar-konflik');
    var collaborationList = document.getElementById('daftar-kolaborasi');
    var override = document.getElementById('persetujuan');
    var reason = document.getElementById('alasan');
    var drawn = refs.gambar;
    var verdictLayers = L.featureGroup().addTo(map);
    var kinds = {};
    var lastVerdictBlocked = false;
    var who = {role: 'publik'};

    kotaku.bindPopups(map, refs);
    kotaku.legendControl(map, refs, [function () {
      return kotaku.legendBlock({title: 'Hasil pemeriksaan', classes: [
        {label: 'Kegiatan yang bertumpang tindih', colour: '#d50000'},
        {label: 'Bagian yang tumpang tindih', colour: '#ff00ff'},
        {label: 'Kegiatan yang menyambung (kolaborasi)', colour: '#00a152'}]}, 'garis');
    }]);

    // -- the form's options, from the reference tables ------------------------------------------------------
    config.kinds.forEach(function (k) { kinds[k.code] = k; });
    function fillKinds(geometryType) {
      var select = form.elements.kind;
      var current = select.value;
      kotaku.clear(select).appendChild(option('', geometryType ? '- pilih jenis ' + GEOMETRY_NAMES[geometryType] + ' -'
                                                                : '- gambar lokasi dahulu -'));
      config.kinds.filter(function (k) { return !geometryType || k.geometry_type === geometryType; })
        .forEach(function (k) { select.appendChild(option(k.code, k.name)); });
      if (kinds[current] && (!geometryType || kinds[current].geometry_type === geometryType)) select.value = current;
      kindChanged();
    }
    [['program', config.programs], ['funding_source', config.funding_sources]].forEach(function (pair) {
      var select = form.elements[pair[0]];
      select.appendChild(option('', '- pilih -'));
      pair[1].forEach(function (row) { select.appendChild(option(row.code, row.code + ': ' + row.name)); });
    });
    config.years.forEach(function (y) {
      form.elements.year_start.appendChild(option(String(y), String(y)));
    });
    form.elements.year_end.appendChild(option('', 'sama'));
    config.years.forEach(function (y) { form.elements.year_end.appendChild(option(String(y), String(y))); });
    form.elements.year_start.value = String(config.defaultYear);

    // -- the drawing ------------------------------------------------------------------------------------------
    function drawnLayer() { return drawn.getLayers()[0] || null; }
    function measureOf(layer) {
      var geometry = layer.toGeoJSON().geometry;
      var type = GEOMETRY_TYPES[geometry.type];
      if (type === 'line') {
        var points = layer.getLatLngs(), total = 0;
        for (var i = 1; i < points.length; i++) total += map.distance(points[i - 1], points[i]);
        return {type: type, volume: total, text: 'Garis sepanjang ' + kotaku.number(total) + ' m'};
      }
      if (type === 'polygon') {
        var area = L.GeometryUtil.geodesicArea(layer.getLatLngs()[0]);
        return {type: type, volume: area, text: 'Poligon seluas ' + kotaku.number(area) + ' m²'};
      }
      return {type: type, volume: 1, text: 'Titik di ' + geometry.coordinates[1].toFixed(6) + ', ' +
                                           geometry.coordinates[0].toFixed(6)};
    }
    function geometryChanged() {
      var layer = drawnLayer();
      var measure = layer ? measureOf(layer) : null;
      info.textContent = measure ? measure.text : 'Belum ada gambar.';
      fillKinds(measure ? measure.type : null);
    }
    map.on(L.Draw.Event.CREATED, function (e) {
      drawn.getLayers().forEach(function (l) { if (l !== e.layer) drawn.removeLayer(l); }); // one location
      drawn.addLayer(e.layer);
      geometryChanged();
    });
    map.on(L.Draw.Event.EDITED + ' ' + L.Draw.Event.DELETED, geometryChanged);
    map.on('draw:drawstart draw:editstart draw:deletestart', function () { kotaku.busyDrawing = true; });
    map.on('draw:drawstop draw:editstop draw:deletestop', function () { kotaku.busyDrawing = false; });

    function kindChanged() {
      var kind = kinds[form.elements.kind.value];
      var layer = drawnLayer();
      form.elements.unit.value = kind ? kind.unit : '';
      var volume = layer && kind ? measureOf(layer).volume : null;
      form.elements.volume.placeholder = volume !== null ? 'otomatis: ' + kotaku.number(volume) : '';
      form.elements.cost.placeholder = volume !== null ? 'otomatis: ' + kotaku.rupiah(volume * kind.unit_price) : '';
    }
    form.elements.kind.addEventListener('change', kindChanged);

    // -- sending and the verdict -------------------------------------------------------------------------------
    function feature(extra) {
      var layer = drawnLayer();
      var properties = {};
      ['title', 'kind', 'program', 'funding_source', 'proposer_area', 'target_agency'].forEach(function (name) {
        var value = form.elements[name].value.trim();
        if (value) properties[name] = value;
      });
      ['volume', 'cost', 'year_start', 'year_end'].forEach(function (name) {
        var value = form.elements[name].value;
        if (value !== '') properties[name] = Number(value);
      });
      if (config.tenant && (!who.tenant)) properties.tenant = config.tenant;
      return {type: 'Feature', geometry: layer ? layer.toGeoJSON().geometry : null,
              properties: L.extend(properties, extra || {})};
    }

    function say(kind, text, items) {
      document.getElementById('hasil').scrollIntoView({block: 'start'});
      message.className = 'pesan ' + kind;
      kotaku.clear(message).appendChild(kotaku.el('p', {text: text}));
      if (items && items.length) {
        message.appendChild(kotaku.el('ul', {}, items.map(function (t) { return kotaku.el('li', {text: t}); })));
      }
    }

    function clearVerdict() {
      verdictLayers.clearLayers();
      kotaku.clear(conflictList);
      kotaku.clear(collaborationList);
      override.hidden = true;
      lastVerdictBlocked = false;
    }

    function describe(item, conflict) {
      var measure = MEASURES[item.measure] || [item.measure, ''];
      var amount = item[item.measure];
      var years = item.year_start === item.year_end || !item.year_end ? String(item.year_start)
                                                                        : item.year_start + ' - ' + item.year_end;
      return kotaku.el('li', {className: conflict ? 'konflik' : 'kolaborasi', 'data-id': String(item.id)}, [
        kotaku.el('h3', {text: '#' + item.id + ' ' + (item.title || '')}),
        kotaku.el('p', {text: kotaku.name('kinds', item.kind) + ', ' + years + ', ' + kotaku.stageName(item.stage)}),
        kotaku.el('p', {text: 'Program ' + kotaku.name('programs', item.program) + '; sumber dana ' +
                              kotaku.name('funding_sources', item.funding_source) +
                              (item.tenant ? '; kab/kota ' + item.tenant : '')}),
        kotaku.el('p', {className: 'ukuran', text: measure[0] + ': ' + kotaku.number(amount) + measure[1] +
          (item.share_of_new !== null && item.share_of_new !== undefined
            ? '; ' + kotaku.percent(item.share_of_new) + ' dari usulan baru' : '') +
          (item.share_of_existing !== null && item.share_of_existing !== undefined
            ? ', ' + kotaku.percent(item.share_of_existing) + ' dari kegiatan lama' : '')})
      ]);
    }

    function drawRelated(item, style) {
      kotaku.api('GET', '/collections/activities/items/' + encodeURIComponent(item.id)).then(function (r) {
        if (!r.ok || !r.body.geometry) return;
        kotaku.highlight(map, verdictLayers, r.body.geometry, style).bringToBack();
        if (item.overlap) kotaku.highlight(map, verdictLayers, item.overlap, OVERLAP).bringToFront();
      });
    }
    var CONFLICT = {color: '#d50000', weight: 18, opacity: 0.55, fillOpacity: 0.25, className: 'kotaku-konflik'};
    var OVERLAP = {color: '#ff00ff', weight: 5, opacity: 1, dashArray: '6 4', fillOpacity: 0.5,
                   className: 'kotaku-tumpang'};
    var COLLABORATION = {color: '#00a152', weight: 7, opacity: 0.7, fillOpacity: 0.2, className: 'kotaku-kolaborasi'};

    function showVerdict(verdict) {
      clearVerdict();
      (verdict.conflicts || []).forEach(function (c) {
        conflictList.appendChild(describe(c, true));
        drawRelated(c, CONFLICT);
      });
      (verdict.collaborations || []).forEach(function (c) {
        collaborationList.appendChild(describe(c, false));
        drawRelated(c, COLLABORATION);
      });
      lastVerdictBlocked = !!verdict.blocked;
      override.hidden = !(verdict.blocked && config.overrideRoles.indexOf(who.role) >= 0);
    }

    function problems(body) {
      var details = body && body.details;
      if (!Array.isArray(details)) return [];
      return details.map(function (p) { return (p.field ? p.field + ': ' : '') + (p.reason || JSON.stringify(p)); });
    }

    function ready() {
      if (!drawnLayer()) {
        say('gagal', 'Gambar lokasi usulan di peta dahulu.');
        return false;
      }
      return true;
    }

    function check() {
      if (!ready()) return;
      say('info', 'Memeriksa...');
      kotaku.api('POST', '/overlap-check', feature()).then(function (r) {
        if (!r.ok) {
          say('gagal', (r.body && r.body.description) || ('Pemeriksaan gagal (' + r.status + ').'), problems(r.body));
          return;
        }
        showVerdict(r.body);
        if (r.body.blocked) {
          say('gagal', 'Tumpang tindih dengan ' + r.body.conflicts.length + ' kegiatan: ubah gambar, jenis atau tahun, ' +
                       'lalu periksa lagi.');
        } else {
          say('berhasil', 'Tidak ada tumpang tindih' + (r.body.collaborations.length
            ? '; menyambung dengan ' + r.body.collaborations.length + ' kegiatan (kolaborasi).' : '.'));
        }
      });
    }

    function send(extra) {
      if (!ready()) return;
      say('info', 'Mengirim...');
      kotaku.api('POST', '/collections/activities/items', feature(extra)).then(function (r) {
        if (r.status === 201) {
          clearVerdict();
          say('berhasil', 'Usulan tersimpan dengan nomor ' + r.body.id + (extra ? ' (tumpang tindih disetujui).' : '.'));
          drawn.clearLayers();
          reason.value = '';
          geometryChanged();
          kotaku.redrawActivities(refs);
          return;
        }
        if (r.status === 409 && r.body && r.body.details && r.body.details.conflicts) {
          showVerdict(r.body.details);
          say('gagal', 'Ditolak: tumpang tindih dengan ' + r.body.details.conflicts.length + ' kegiatan. Ubah gambar atau ' +
                       'isian lalu kirim lagi' + (override.hidden ? '.' : ', atau simpan dengan persetujuan.'));
          return;
        }
        if (r.status === 401) {
          say('gagal', 'Masuk dahulu untuk mengirim usulan.');
          message.appendChild(kotaku.el('a', {href: '/auth/login?next=' + encodeURIComponent(location.pathname),
                                              text: 'Masuk'}));
          return;
        }
        say('gagal', (r.body && r.body.description) || ('Gagal (' + r.status + ').'), problems(r.body));
      });
    }

    document.getElementById('periksa').addEventListener('click', check);
    form.addEventListener('submit', function (e) { e.preventDefault(); send(); });
    document.getElementById('setujui').addEventListener('click', function () {
      var text = reason.value.trim();
      if (!lastVerdictBlocked) return;
      if (!text) {
        say('gagal', 'Tulis alasan menyetujui tumpang tindih.');
        reason.focus();
        return;
      }
      send({override_reason: text});
    });

    kotaku.me().then(function (me) {
      who = me || who;
      var label = who.role === 'kepling' && who.area_code ? who.area_code.split('/')[1] : null;
      if (label && !form.elements.proposer_area.value) form.elements.proposer_area.value = label;
      if (config.createRoles.indexOf(who.role) < 0) {
        say('info', who.role === 'publik' ? 'Anda belum masuk: pemeriksaan tumpang tindih dapat dicoba, pengiriman ' +
            'usulan perlu masuk sebagai kepala lingkungan, Bappeda atau Pokja PKP.'
                                          : 'Peran ' + who.role + ' tidak mengirim usulan; pemeriksaan tetap dapat dicoba.');
      }
    });
    geometryChanged();
  };
})();
