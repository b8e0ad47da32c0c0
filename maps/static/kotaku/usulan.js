/* /peta/usulan: draw a proposal, fill the form, check it (POST /overlap-check) and send it
 * (POST /collections/activities/items: 201 saved, 409 blocked with the conflicts). The verdict is drawn on the
 * map: conflicting activities highlighted (red), the shared part drawn (magenta), measures listed. Planners
 * whose role may override send it again with a reason. Database text only through textContent (kotaku.el).
 * On the ground (issue 13): a finished or edited drawing is snapped to the nearest road or activity within
 * SNAP_PIXELS on screen (POST /drawing/snap, PostGIS; the "Tempel" box, on by default; unticking it puts back the
 * drawing as drawn); a phone's track file becomes the drawing (POST /drawing/track, GDAL); "Lokasi saya" centres
 * the map on the device (map.locate); a camera photo is sent after the proposal is saved, with the device's
 * position and time at capture (the server prefers the photo's own EXIF position). */
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

  var SNAP_PIXELS = 20;  // a vertex this close to a road or an activity on screen lands on it
  var DRAWN_STYLE = {color: '#111111', weight: 5};

  function note(id, text, failed) {
    var node = document.getElementById(id);
    node.className = 'catatan' + (failed ? ' gagal' : '');
    node.textContent = text || '';
  }

  /* A multipart upload (FormData) with the session's CSRF token; {status, ok, body} like kotaku.api. */
  function upload(url, data) {
    return kotaku.me().then(function (who) {
      var headers = {'Accept': 'application/json', 'Accept-Language': 'id'};
      if (who && who.csrf_token) headers['X-CSRF-Token'] = who.csrf_token;
      return fetch(url, {method: 'POST', headers: headers, credentials: 'same-origin', body: data});
    }).then(function (response) {
      return response.json().then(function (body) { return {status: response.status, ok: response.ok, body: body}; },
                                  function () { return {status: response.status, ok: response.ok, body: null}; });
    });
  }

  function failure(r, what) {
    if (r.status === 401) return 'Masuk dahulu untuk ' + what + '.';
    return (r.body && r.body.description) || ('Gagal ' + what + ' (' + r.status + ').');
  }

  function megabytes(bytes) { return kotaku.number(Math.round(bytes / 104857.6) / 10) + ' MB'; }

  /* The drawing in the permalink, 'gambar=garis~106.8272_-6.1754~...': a type word, then lon_lat per vertex to
   * six decimals (10 cm), characters encodeURIComponent leaves alone. A polygon keeps its outer ring (drawn
   * polygons have no other). */
  var LINK_TYPES = {Point: 'titik', LineString: 'garis', Polygon: 'poligon'};
  var LINK_POINT = /^-?\d{1,3}(\.\d+)?_-?\d{1,2}(\.\d+)?$/;

  function drawingText(geometry) {
    if (!geometry || !LINK_TYPES[geometry.type]) return '';
    var points = geometry.type === 'Point' ? [geometry.coordinates]
      : geometry.type === 'LineString' ? geometry.coordinates : geometry.coordinates[0];
    return [LINK_TYPES[geometry.type]].concat(points.map(function (p) {
      return Number(p[0].toFixed(6)) + '_' + Number(p[1].toFixed(6));
    })).join('~');
  }

  function drawingFrom(text) {  // the geometry of a permalink's 'gambar', or null when it is not one
    var parts = String(text).split('~');
    var type = Object.keys(LINK_TYPES).filter(function (t) { return LINK_TYPES[t] === parts[0]; })[0];
    var points = parts.slice(1);
    if (!type || !points.length || !points.every(function (p) { return LINK_POINT.test(p); })) return null;
    points = points.map(function (p) { return p.split('_').map(Number); });
    if (!points.every(function (p) { return Math.abs(p[0]) <= 180 && Math.abs(p[1]) <= 90; })) return null;
    if (type === 'Point') return points.length === 1 ? {type: type, coordinates: points[0]} : null;
    if (type === 'LineString') return points.length >= 2 ? {type: type, coordinates: points} : null;
    var first = points[0], last = points[points.length - 1];
    var closed = points.length >= 4 && first[0] === last[0] && first[1] === last[1];
    return closed ? {type: type, coordinates: [points]} : null;
  }

  /* The drawing on the ground: snapping, track files and the device's location. `changed` is called whenever the
   * drawing in `drawn` was replaced; `tenant()` names the kab/kota whose roads are used. */
  function groundTools(map, drawn, changed, tenant) {
    var config = kotaku.config();
    var box = document.getElementById('tempel');
    var trackInput = document.getElementById('jejak');
    var asDrawn = null;  // the geometry as the user drew it (or the track file gave it), before snapping
    var pending = Promise.resolve();
    var locationMark = L.featureGroup().addTo(map);

    function place(geometry) {
      drawn.clearLayers();
      if (geometry) {
        var layer = L.GeoJSON.geometryToLayer({type: 'Feature', properties: {}, geometry: geometry},
                                               {style: function () { return DRAWN_STYLE; }});
        if (layer.setStyle) layer.setStyle(DRAWN_STYLE);
        drawn.addLayer(layer);
      }
      changed();
    }

    function tolerance() {  // SNAP_PIXELS at the map's centre, in metres
      var centre = map.getCenter();
      var beside = map.containerPointToLatLng(map.latLngToContainerPoint(centre).add([SNAP_PIXELS, 0]));
      return Math.min(config.snapMaxMetres, Math.max(0.5, map.distance(centre, beside)));
    }

    function targetsText(targets) {
      var names = targets.map(function (t) {
        return t.source === 'jalan' ? (t.name ? 'jalan ' + t.name : 'jalan tanpa nama')
                                    : 'kegiatan #' + t.id + (t.name ? ' ' + t.name : '');
      });
      return names.slice(0, 3).join(', ') + (names.length > 3 ? ' dan ' + (names.length - 3) + ' lainnya' : '');
    }

    function snap() {
      var asked = asDrawn;
      if (!asked) { note('info-tempel', ''); place(null); return Promise.resolve(); }
      if (!box.checked) {
        place(asked);
        note('info-tempel', 'Gambar tidak ditempel: titik-titiknya tetap seperti digambar.');
        return Promise.resolve();
      }
      var metres = tolerance();
      note('info-tempel', 'Menempelkan gambar ke jalan/kegiatan terdekat...');
      var body = {geometry: asked, tolerance_m: Math.round(metres * 10) / 10};
      if (tenant()) body.tenant = tenant();
      return kotaku.api('POST', '/drawing/snap', body).then(function (r) {
        if (asked !== asDrawn || !box.checked) return;  // drawn again or unticked meanwhile
        if (!r.ok) {
          place(asked);
          note('info-tempel', 'Gambar tidak dapat ditempel: ' + failure(r, 'menempelkan gambar'), true);
          return;
        }
        var p = r.body.properties;
        place(p.snapped ? r.body.geometry : asked);
        note('info-tempel', p.snapped
          ? 'Ditempel ke ' + targetsText(p.targets) + ': ' + p.snapped + ' dari ' + p.vertices + ' titik' +
            (p.followed ? ', mengikuti alur jalan/kegiatan.' : '.')
          : 'Tidak ada jalan atau kegiatan dalam ' + kotaku.number(Math.round(metres)) + ' m: gambar tetap ' +
            'seperti digambar.');
      }, function () {
        if (asked === asDrawn) { place(asked); note('info-tempel', 'Gambar tidak dapat ditempel (jaringan).', true); }
      });
    }

    function drawnAs(geometry) {
      asDrawn = geometry;
      pending = snap();
    }

    function fromLink(text) {  // a permalink's drawing, placed as it was shared (snapped already, or not)
      var geometry = drawingFrom(text);
      if (!geometry) {
        note('info-tempel', 'Gambar pada tautan tidak terbaca: gambar lokasinya lagi.', true);
        return;
      }
      asDrawn = geometry;
      place(geometry);
      note('info-tempel', 'Gambar dari tautan, seperti saat dibagikan.');
    }
    box.addEventListener('change', function () { pending = snap(); });

    // -- a track file from a phone ----------------------------------------------------------------------------
    trackInput.addEventListener('change', function () {
      var file = trackInput.files[0];
      if (!file) return;
      if (file.size > config.trackMaxBytes) {
        note('info-jejak', file.name + ' berukuran ' + megabytes(file.size) + ', melebihi batas ' +
             megabytes(config.trackMaxBytes) + ' untuk berkas jejak.', true);
        trackInput.value = '';
        return;
      }
      var data = new FormData();
      data.append('file', file, file.name);
      note('info-jejak', 'Membaca ' + file.name + '...');
      pending = upload('/drawing/track', data).then(function (r) {
        trackInput.value = '';
        if (!r.ok) { note('info-jejak', failure(r, 'membaca berkas jejak'), true); return; }
        var p = r.body.properties;
        note('info-jejak', 'Dari ' + p.file + ' (' + p.format + '): ' + (r.body.geometry.type === 'Polygon'
          ? 'poligon' : 'garis') + ' dengan ' + kotaku.number(p.vertices) + ' titik' +
          (p.parts > 1 ? ' dari ' + p.parts + ' bagian' : '') +
          (p.simplified_m ? ', disederhanakan dari ' + kotaku.number(p.vertices_read) + ' titik (toleransi ' +
                            kotaku.number(p.simplified_m) + ' m)' : '') + '.');
        map.fitBounds(L.geoJSON(r.body.geometry).getBounds(), {maxZoom: 18, animate: false});
        asDrawn = r.body.geometry;
        return snap();
      }, function () { note('info-jejak', 'Berkas jejak tidak terkirim (jaringan).', true); });
    });

    // -- the device's location -----------------------------------------------------------------------------------
    var Locate = L.Control.extend({
      options: {position: 'topleft'},
      onAdd: function () {
        var button = L.DomUtil.create('button', 'kotaku-lokasi leaflet-bar');
        button.type = 'button';
        button.id = 'lokasi-saya';
        button.textContent = 'Lokasi saya';
        button.title = 'Pusatkan peta pada lokasi perangkat ini';
        L.DomEvent.disableClickPropagation(button);
        L.DomEvent.on(button, 'click', function () {
          note('info-lokasi', 'Mencari lokasi perangkat...');
          map.locate({setView: true, maxZoom: 18, enableHighAccuracy: true, timeout: 15000});
        });
        return button;
      }
    });
    new Locate().addTo(map);
    map.on('locationfound', function (e) {
      locationMark.clearLayers();
      L.circle(e.latlng, {radius: e.accuracy, color: '#1a73e8', weight: 1, fillOpacity: 0.1, interactive: false})
        .addTo(locationMark);
      L.circleMarker(e.latlng, {radius: 6, color: '#ffffff', weight: 2, fillColor: '#1a73e8', fillOpacity: 1,
                                className: 'kotaku-lokasi-saya', interactive: false}).addTo(locationMark);
      note('info-lokasi', 'Lokasi Anda: ' + e.latlng.lat.toFixed(6) + ', ' + e.latlng.lng.toFixed(6) +
           ' (ketelitian ± ' + kotaku.number(Math.round(e.accuracy)) + ' m).');
    });
    map.on('locationerror', function (e) {
      note('info-lokasi', LOCATION_ERRORS[e.code] || LOCATION_ERRORS[2], true);
    });

    return {
      drawnAs: drawnAs,
      fromLink: fromLink,
      settled: function () { return pending.then(function () {}, function () {}); }
    };
  }

  var LOCATION_ERRORS = {
    1: 'Izin lokasi ditolak: izinkan akses lokasi untuk situs ini di pengaturan peramban, lalu tekan ' +
       '"Lokasi saya" lagi.',
    2: 'Lokasi perangkat tidak tersedia: nyalakan GPS/layanan lokasi, lalu coba lagi.',
    3: 'Lokasi perangkat tidak ditemukan dalam 15 detik: coba lagi di tempat terbuka.'
  };

  /* A camera photo for the proposal: where and when it was taken (the device's position at capture; the server
   * prefers the photo's EXIF position), sent once the proposal is saved (POST /activities/{id}/attachments). */
  function photoTools() {
    var config = kotaku.config();
    var input = document.getElementById('foto');
    var capture = null;

    input.addEventListener('change', function () {
      var file = input.files[0];
      capture = null;
      if (!file) { note('info-foto', ''); return; }
      if (file.size > config.photoMaxBytes) {
        note('info-foto', file.name + ' berukuran ' + megabytes(file.size) + ', melebihi batas ' +
             megabytes(config.photoMaxBytes) + ' untuk foto.', true);
        input.value = '';
        return;
      }
      capture = {at: new Date().toISOString()};
      var chosen = capture;
      note('info-foto', 'Foto ' + file.name + ' siap; membaca lokasi perangkat...');
      if (!navigator.geolocation) {
        note('info-foto', 'Foto ' + file.name + ' siap; perangkat tidak memberi lokasi: posisi foto dari EXIF ' +
             'bila ada.');
        return;
      }
      navigator.geolocation.getCurrentPosition(function (position) {
        if (chosen !== capture) return;
        capture.lon = position.coords.longitude;
        capture.lat = position.coords.latitude;
        capture.accuracy = position.coords.accuracy;
        note('info-foto', 'Foto ' + file.name + ' siap; lokasi perangkat ' + capture.lat.toFixed(6) + ', ' +
             capture.lon.toFixed(6) + ' (± ' + kotaku.number(Math.round(capture.accuracy)) + ' m) dipakai bila ' +
             'foto tidak membawa posisi GPS (EXIF). Foto dikirim bersama usulan.');
      }, function (error) {
        if (chosen !== capture) return;
        note('info-foto', 'Foto ' + file.name + ' siap, tetapi lokasi perangkat tidak terbaca (' +
             (LOCATION_ERRORS[error.code] || LOCATION_ERRORS[2]) + ') Posisi foto hanya dari EXIF bila ada.', true);
      }, {enableHighAccuracy: true, timeout: 15000, maximumAge: 60000});
    });

    function send(activityId) {
      var file = input.files[0];
      if (!file || !capture) return Promise.resolve();
      var data = new FormData();
      data.append('file', file, file.name);
      if (capture.lon !== undefined) {
        data.append('capture_lon', String(capture.lon));
        data.append('capture_lat', String(capture.lat));
        data.append('capture_accuracy_m', String(capture.accuracy));
      }
      data.append('captured_at', capture.at);
      note('info-foto', 'Mengirim foto...');
      return upload('/activities/' + encodeURIComponent(activityId) + '/attachments', data).then(function (r) {
        if (!r.ok) { note('info-foto', 'Foto tidak tersimpan: ' + failure(r, 'mengirim foto'), true); return; }
        var a = r.body;
        var source = a.position_source === 'exif' ? 'posisi dari EXIF foto'
          : a.position_source === 'perangkat' ? 'posisi dari lokasi perangkat' : 'tanpa posisi';
        note('info-foto', 'Foto tersimpan untuk usulan ' + activityId + ': ' + source +
             (a.distance_m !== null && a.distance_m !== undefined
               ? ', ' + kotaku.number(a.distance_m) + ' m dari lokasi usulan' : '') +
             (a.flagged ? '; perlu diperiksa: ' + a.flag_reason : '') + '.', !!a.flagged);
        input.value = '';
        capture = null;
      }, function () { note('info-foto', 'Foto tidak terkirim (jaringan).', true); });
    }

    return {send: send};
  }

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
      kotaku.viewChanged();
    }
    // the drawing in the permalink (tampilan.js restores it once this page is set up, when `ground` is there)
    kotaku.viewState('gambar', function () {
      var layer = drawnLayer();
      return layer ? drawingText(layer.toGeoJSON().geometry) : '';
    }, function (value) { ground.fromLink(value); });
    map.on(L.Draw.Event.CREATED, function (e) {
      drawn.getLayers().forEach(function (l) { if (l !== e.layer) drawn.removeLayer(l); }); // one location
      drawn.addLayer(e.layer);
      ground.drawnAs(e.layer.toGeoJSON().geometry);
    });
    map.on(L.Draw.Event.EDITED, function () {
      var layer = drawnLayer();
      ground.drawnAs(layer ? layer.toGeoJSON().geometry : null);
    });
    map.on(L.Draw.Event.DELETED, function () { ground.drawnAs(null); });
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
          photo.send(r.body.id);
          drawn.clearLayers();
          ground.drawnAs(null);
          reason.value = '';
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

    document.getElementById('periksa').addEventListener('click', function () { ground.settled().then(check); });
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      ground.settled().then(function () { send(); });
    });
    document.getElementById('setujui').addEventListener('click', function () {
      var text = reason.value.trim();
      if (!lastVerdictBlocked) return;
      if (!text) {
        say('gagal', 'Tulis alasan menyetujui tumpang tindih.');
        reason.focus();
        return;
      }
      ground.settled().then(function () { send({override_reason: text}); });
    });

    // the chosen file's name beside each file button (the browser's own text is hidden: it follows its language)
    Array.prototype.forEach.call(document.querySelectorAll('[data-berkas]'), function (label) {
      var input = document.getElementById(label.getAttribute('data-berkas'));
      var none = label.textContent;
      input.addEventListener('change', function () {
        label.textContent = input.files && input.files.length ? input.files[0].name : none;
      });
    });
    var ground = groundTools(map, drawn, geometryChanged, function () { return config.tenant || who.tenant; });
    var photo = photoTools(map);

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
