/* kotaku-gis pages: what every page shares. Vector-tile styles from the page config (the same legends the
 * server's PNG tiles use), popups that fetch the clicked feature from the OGC API, the legend control, the
 * login box, and a JSON fetch that sends the session's CSRF token.
 *
 * Rule: text from the database reaches the page only through textContent (kotaku.el), never innerHTML. */
(function () {
  'use strict';

  // Leaflet.VectorGrid 1.3 calls L.DomEvent.fakeStop, which Leaflet 1.8 removed; this is what it did since then.
  if (!L.DomEvent.fakeStop) {
    L.DomEvent.fakeStop = function (e) { e._stopped = true; };
  }

  // Leaflet.VectorGrid ignores GridLayer's zoomOffset when it builds a tile URL; every layer needs it (below).
  if (L.VectorGrid && L.VectorGrid.Protobuf) {
    var fetchTile = L.VectorGrid.Protobuf.prototype._getVectorTilePromise;
    L.VectorGrid.Protobuf.prototype._getVectorTilePromise = function (coords, bounds) {
      var offset = this.options.zoomOffset || 0;
      return fetchTile.call(this, offset ? {x: coords.x, y: coords.y, z: coords.z + offset} : coords, bounds);
    };
  }

  var kotaku = window.kotaku = {pages: {}, filters: {year: null, stage: null}};
  var config = null;
  var me = null;
  var rupiah = new Intl.NumberFormat('id-ID', {maximumFractionDigits: 0});
  var number = new Intl.NumberFormat('id-ID', {maximumFractionDigits: 2});

  kotaku.config = function () {
    if (!config) config = JSON.parse(document.getElementById('kotaku-config').textContent);
    return config;
  };

  /* A DOM element: el('li', {className: 'x', text: 'data'}, [children]); text is always textContent. */
  kotaku.el = function (tag, options, children) {
    var node = document.createElement(tag);
    options = options || {};
    Object.keys(options).forEach(function (key) {
      var value = options[key];
      if (value === undefined || value === null) return;
      if (key === 'text') node.textContent = String(value);
      else if (key === 'className') node.className = value;
      else if (key === 'style') node.setAttribute('style', value);
      else if (key.slice(0, 2) === 'on') node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value);
    });
    (children || []).forEach(function (child) {
      if (child === null || child === undefined) return;
      node.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
    });
    return node;
  };

  kotaku.clear = function (node) {
    while (node.firstChild) node.removeChild(node.firstChild);
    return node;
  };

  kotaku.rupiah = function (value) {
    return value === null || value === undefined ? '-' : 'Rp ' + rupiah.format(value);
  };
  /* Rupiah for narrow tables: 1,10 M (miliar), 116,2 jt (juta). */
  kotaku.rupiahShort = function (value) {
    if (value === null || value === undefined) return '-';
    if (Math.abs(value) >= 1e9) return 'Rp ' + number.format(Math.round(value / 1e7) / 100) + ' M';
    if (Math.abs(value) >= 1e6) return 'Rp ' + number.format(Math.round(value / 1e5) / 10) + ' jt';
    return 'Rp ' + rupiah.format(value);
  };
  kotaku.number = function (value) {
    return value === null || value === undefined ? '-' : number.format(value);
  };
  /* An ISO date ('2026-12-06', or a timestamp) as 6 Desember 2026; '-' when unknown. */
  var tanggal = new Intl.DateTimeFormat('id-ID', {day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC'});
  kotaku.date = function (value) {
    if (!value) return '-';
    var day = new Date(String(value).slice(0, 10) + 'T00:00:00Z');
    return isNaN(day.getTime()) ? String(value) : tanggal.format(day);
  };
  kotaku.percent = function (share) {
    return share === null || share === undefined ? '-' : number.format(share * 100) + ' %';
  };
  kotaku.name = function (table, code) {
    if (code === null || code === undefined || code === '') return '-';
    var names = kotaku.config().names[table] || {};
    return names[code] ? code + ' (' + names[code] + ')' : String(code);
  };
  kotaku.stageName = function (code) {
    var found = kotaku.config().stages.filter(function (s) { return s.code === code; })[0];
    return found ? found.name : (code || '-');
  };
  kotaku.levelName = function (code) {
    return (code && kotaku.config().levels[code]) ? kotaku.config().levels[code] + ' (' + code + ')' : (code || '-');
  };

  /* fetch JSON; a write made with a session carries the session's CSRF token (GET /auth/me). The API's error
   * messages (`description`) come in Indonesian whatever the browser's language: the pages show them as they are. */
  kotaku.api = function (method, url, body) {
    var headers = {'Accept': 'application/json', 'Accept-Language': 'id'};
    var ready = Promise.resolve();
    if (method !== 'GET') {
      headers['Content-Type'] = 'application/json';
      ready = kotaku.me().then(function (who) {
        if (who && who.csrf_token) headers['X-CSRF-Token'] = who.csrf_token;
      });
    }
    return ready.then(function () {
      return fetch(url, {method: method, headers: headers, credentials: 'same-origin',
                         body: body === undefined ? undefined : JSON.stringify(body)});
    }).then(function (response) {
      if (response.status === 204) return {status: 204, ok: true, body: null};
      return response.json().then(function (data) {
        return {status: response.status, ok: response.ok, body: data};
      }, function () { return {status: response.status, ok: response.ok, body: null}; });
    });
  };

  kotaku.me = function () {
    if (!me) {
      me = fetch('/auth/me', {credentials: 'same-origin', headers: {'Accept': 'application/json'}})
        .then(function (r) { return r.ok ? r.json() : {role: 'publik'}; })
        .catch(function () { return {role: 'publik'}; });
    }
    return me;
  };

  /* A <select> of the kab/kota the caller may see (the page config's tenants); choosing one opens the page on that
   * kab/kota's whole view (without the permalink's hash, which holds the old one's view). */
  kotaku.tenantChooser = function (chooser) {
    if (!chooser) return;
    var config = kotaku.config();
    config.tenants.forEach(function (t) {  // the kab/kota shown among them (maps/pages/context.py with_shown)
      chooser.appendChild(kotaku.el('option', {value: t.code, text: t.name + ' (' + t.code + ')'}));
    });
    if (config.tenant) chooser.value = config.tenant;
    chooser.addEventListener('change', function () {
      location.assign(location.pathname + '?tenant=' + encodeURIComponent(chooser.value));
    });
  };

  /* The login box in the panel: who is logged in, and a way in or out. */
  kotaku.accountBox = function () {
    var box = document.getElementById('akun');
    if (!box) return;
    kotaku.me().then(function (who) {
      kotaku.clear(box);
      if (!who || who.role === 'publik') {
        box.appendChild(kotaku.el('a', {href: '/auth/login?next=' + encodeURIComponent(location.pathname),
                                        text: 'Masuk'}));
        box.appendChild(kotaku.el('span', {text: ' (pengunjung umum)'}));
        return;
      }
      box.appendChild(kotaku.el('span', {className: 'pengguna', text: who.username + ' - ' + who.role +
        (who.tenant ? ' ' + who.tenant : '')}));
      if (who.auth === 'session') {
        box.appendChild(kotaku.el('button', {type: 'button', text: 'Keluar', className: 'tautan', onclick: function () {
          kotaku.api('POST', '/auth/logout').then(function () { location.reload(); });
        }}));
      }
    });
  };

  /* -- vector-tile styles ------------------------------------------------------------------------------- */
  function classColour(legend, value) {
    var classes = legend.classes;
    if (legend.kind === 'rentang') {
      var chosen = null;
      if (value !== null && value !== undefined) {
        classes.forEach(function (c) { if (c.value !== null && value >= c.value) chosen = c.colour; });
      }
      return chosen || classes[classes.length - 1].colour;
    }
    for (var i = 0; i < classes.length; i++) {
      if (classes[i].value !== null && classes[i].value === value) return classes[i].colour;
    }
    return classes[classes.length - 1].colour;
  }
  kotaku.classColour = classColour;

  function yearMatches(props) {
    var year = kotaku.filters.year;
    if (!year) return true;
    var start = props.year !== undefined ? props.year : props.year_min;
    var end = props.year_end !== undefined ? props.year_end : (props.year_max !== undefined ? props.year_max : start);
    if (start === undefined || start === null) return false;
    return start <= year && year <= (end === null || end === undefined ? start : end);
  }

  function activityVisible(props) {
    if (!yearMatches(props)) return false;
    if (props.aggregate) return true; // the stage is not known per aggregate
    if (kotaku.filters.stage && props.stage !== kotaku.filters.stage) return false;
    if (kotaku.config().liveOnly && (props.status === 'ditolak' || props.status === 'dibatalkan')) return false;
    return true;
  }

  var REGION_WEIGHT = {kabkota: 2.5, kecamatan: 1.6, desa_kelurahan: 0.8, provinsi: 3};

  function styleFunction(spec) {
    var legends = kotaku.config().legends;
    var legend = spec.legend ? legends[spec.legend] : null;
    if (spec.kind === 'region') {
      return function (props) {
        return {weight: REGION_WEIGHT[props.level] || 1, color: '#555555', opacity: 0.9, fill: false,
                dashArray: props.level === 'desa_kelurahan' ? '3 3' : null};
      };
    }
    if (spec.kind === 'slum') {
      return function (props) {
        return {weight: props.aggregate ? 0.6 : 1, color: legend.outline, opacity: 0.9, fill: true,
                fillColor: classColour(legend, props[legend.property]), fillOpacity: props.aggregate ? 0.55 : 0.7};
      };
    }
    if (spec.kind === 'keterpaduan') {  // fill: programmes; outline: level, over a dark casing
      var levels = legends.tingkat;
      return function (props) {
        var fill = {weight: 5, color: '#263238', opacity: 0.9, fill: true, fillOpacity: 0.6,
                    fillColor: classColour(legend, props[legend.property])};
        if (props.aggregate) return L.extend(fill, {weight: 0.8, color: '#555555'});
        return [fill, {weight: 3, color: classColour(levels, props.level), opacity: 1, fill: false}];
      };
    }
    if (spec.kind === 'asset') {  // handed-over works by condition, features at every zoom (no aggregates)
      return function (props) {
        var colour = classColour(legend, props[legend.property]);
        return {weight: 5, color: colour, opacity: 1, fill: true, fillColor: colour, fillOpacity: 0.45, radius: 6};
      };
    }
    var aggregates = legends.agregat;
    return function (props, zoom, geometryType) {
      if (!activityVisible(props)) return [];
      if (props.aggregate) {  // a region's count: hatched look (outline + light fill) over the slum colours
        return {weight: 1.5, color: classColour(aggregates, props.activities), opacity: 1, dashArray: '2 3',
                fill: true, fillOpacity: 0.25, fillColor: classColour(aggregates, props.activities)};
      }
      var colour = classColour(legend, props[legend.property]);
      return {weight: 4, color: colour, opacity: 0.95, fill: true, fillColor: colour, fillOpacity: 0.5, radius: 5};
    };
  }

  /* Leaflet.VectorGrid options of one layer of the page (the folium layer calls this). */
  kotaku.vectorOptions = function (key) {
    var spec = kotaku.config().layers[key];
    var styles = {};
    styles[spec.collection] = styleFunction(spec);
    var order = Object.keys(kotaku.config().layers).indexOf(key);
    // Every layer comes as 512-pixel tiles of one zoom less, the size the server makes them for (geometry
    // generalised to half a pixel of a 512-pixel tile) and the zooms MapLibre and the published styles read them
    // at: a quarter as many tiles (a city view: 27 instead of 59, each a request, a canvas and a parse), and at
    // map zoom 12 the light per-kelurahan aggregates of zoom 11 instead of every activity of a city (megabytes).
    var coarse = {tileSize: 512, zoomOffset: -1};
    return L.extend({
      zIndex: spec.kind === 'region' ? 100 : 10 + order,  // boundaries over the fills
      vectorTileLayerStyles: styles,
      interactive: spec.interactive,
      rendererFactory: L.canvas.tile,
      maxNativeZoom: 19,
      className: 'kotaku-lapisan kotaku-lapisan-' + key,
      getFeatureId: function (f) { return f.properties.id; }
    }, coarse);
  };

  /* The map zoom from which the layers' tiles hold features rather than per-region aggregates (the tiles are of
   * one zoom less: vectorOptions). */
  kotaku.featureZoom = function () {
    return kotaku.config().featureMinZoom + 1;
  };

  /* -- popups -------------------------------------------------------------------------------------------- */
  function rows(pairs) {
    return kotaku.el('table', {className: 'rincian'}, [kotaku.el('tbody', {}, pairs.filter(function (p) {
      return p[1] !== undefined;
    }).map(function (pair) {
      return kotaku.el('tr', {}, [kotaku.el('th', {text: pair[0]}),
        kotaku.el('td', {text: pair[1] === null ? '-' : pair[1], 'data-kelurahan': pair[0] === 'Kelurahan' ? '' : null})]);
    }))]);
  }
  kotaku.rows = rows;

  /* Put 'Name (code)' of a kelurahan into a cell that holds its code. */
  kotaku.regionName = function (code, cell) {
    if (!code || !cell) return;
    kotaku.api('GET', '/peta/cari?limit=1&q=' + encodeURIComponent(code)).then(function (r) {
      var found = r.ok && r.body.results[0];
      if (found && found.code === code) cell.textContent = found.name + ' (' + code + ')';
    });
  };

  function aggregateContent(props, collection, zoom) {
    var title = props.name + ' (' + props.code + ')';
    var pairs = [['Tingkat agregasi', props.aggregate]];
    if (collection === 'activities') {
      pairs.push(['Jumlah kegiatan', kotaku.number(props.activities)], ['Perkiraan biaya usulan', kotaku.rupiah(props.total_cost)],
                 ['Jumlah program', kotaku.number(props.program_count)],
                 ['Jumlah sumber dana', kotaku.number(props.funding_source_count)],
                 ['Tahun', (props.year_min || '-') + ' - ' + (props.year_max || '-')]);
    } else {
      pairs.push(['Jumlah kawasan kumuh', kotaku.number(props.slum_areas)], ['Luas (ha)', kotaku.number(props.area_ha)],
                 ['Tingkat terberat', kotaku.levelName(props.level)]);
      if (props.score !== undefined) pairs.push(['Rata-rata skor', kotaku.number(props.score)]);
      if (props.priority !== undefined) pairs.push(['Prioritas paling mendesak', props.priority || '-']);
      if (props.program_count !== undefined) pairs.push(['Jumlah program', kotaku.number(props.program_count)]);
    }
    return kotaku.el('div', {className: 'popup'}, [kotaku.el('h3', {text: title}), rows(pairs),
      kotaku.el('p', {className: 'catatan', text: 'Perbesar peta (zoom ' + zoom + ') untuk melihat tiap fitur.'})]);
  }

  function slumContent(p) {
    return [kotaku.el('h3', {text: p.kawasan || ('Kawasan ' + p.id)}), rows([
      ['Kelurahan', p.kelurahan_code], ['RT/RW, lingkungan', p.unit_label], ['Luas (ha)', kotaku.number(p.area_ha)],
      ['Tingkat kekumuhan', kotaku.levelName(p.level)], ['Skor total', kotaku.number(p.score)],
      ['Kelas prioritas', p.priority], ['Legalitas lahan', p.legality], ['Tipologi', p.typology],
      ['SK Kumuh', p.decree],
      ['Kegiatan', p.activities !== undefined ? kotaku.number(p.activities) : undefined],
      ['Program', p.programs !== undefined ? (p.programs.join(', ') || '-') : undefined],
      ['Sumber dana', p.funding_sources !== undefined ? (p.funding_sources.join(', ') || '-') : undefined],
      ['Usulan belum dianggarkan', p.proposed_cost !== undefined ? kotaku.rupiah(p.proposed_cost) : undefined],
      ['Pagu anggaran', p.budgeted !== undefined ? kotaku.rupiah(p.budgeted) : undefined],
      ['Realisasi', p.realised !== undefined ? kotaku.rupiah(p.realised) : undefined]
    ])];
  }

  function scoreHistory(id, into) {
    kotaku.api('GET', '/slum-areas/' + encodeURIComponent(id) + '/scores').then(function (r) {
      if (!r.ok || !r.body || !r.body.history || !r.body.history.length) return;
      into.appendChild(kotaku.el('h4', {text: 'Skor per putaran survei'}));
      into.appendChild(kotaku.el('ul', {className: 'skor'}, r.body.history.map(function (h) {
        return kotaku.el('li', {text: h.round + ': ' + kotaku.number(h.total) + ' (' + kotaku.levelName(h.level) + ')'});
      })));
    });
  }

  function activityContent(p) {
    return [kotaku.el('h3', {text: p.title || ('Kegiatan ' + p.id)}), rows([
      ['Nomor', String(p.id)], ['Jenis', kotaku.name('kinds', p.kind)], ['Kriteria', (p.criteria || []).join(', ')],
      ['Volume', kotaku.number(p.volume) + ' ' + (p.unit || '')], ['Biaya', kotaku.rupiah(p.cost)],
      ['Tahun', p.year === p.year_end || !p.year_end ? String(p.year) : p.year + ' - ' + p.year_end],
      ['Program', kotaku.name('programs', p.program)], ['Sumber dana', kotaku.name('funding_sources', p.funding_source)],
      ['Tahap', kotaku.stageName(p.stage)], ['Status', p.status], ['Progres fisik', kotaku.number(p.progress) + ' %'],
      ['Pengusul', p.proposer_area], ['OPD tujuan', p.target_agency], ['Kelurahan', p.kelurahan_code]
    ])];
  }

  function assetContent(p) {
    return [kotaku.el('h3', {text: p.title || ('Aset ' + p.id)}), rows([
      ['Nomor aset', String(p.id)], ['Kegiatan asal', String(p.activity_id)], ['Jenis', kotaku.name('kinds', p.kind)],
      ['Penerima', p.recipient], ['Serah terima', kotaku.date(p.handover_date)], ['Berita acara', p.handover_number || '-'],
      ['Nilai', p.value !== null ? kotaku.rupiah(p.value) : '-'],
      ['Kondisi', (p.condition || '').replace('_', ' ')],
      ['Umur layanan', p.service_life_years + ' tahun (s.d. ' + p.life_ends_year + ', sisa ' +
        p.remaining_life_years + ' tahun)'],
      ['Pemeriksaan terakhir', p.last_inspected_on ? kotaku.date(p.last_inspected_on) : 'belum pernah'],
      ['Perlu diperiksa', p.due_for_inspection ? 'ya' : 'tidak']
    ])];
  }

  /* Open a popup for a click on a vector-tile feature: the aggregate from the tile, a feature from the API. */
  kotaku.featurePopup = function (map, spec, event) {
    var props = (event.layer && event.layer.properties) || {};
    var popup = L.popup({maxWidth: 360, className: 'kotaku-popup'}).setLatLng(event.latlng);
    if (props.aggregate) {
      popup.setContent(aggregateContent(props, spec.collection, kotaku.featureZoom())).openOn(map);
      return;
    }
    var box = kotaku.el('div', {className: 'popup'}, [kotaku.el('p', {text: 'Memuat...'})]);
    popup.setContent(box).openOn(map);
    var url = '/collections/' + spec.collection + '/items/' + encodeURIComponent(props.id);
    kotaku.api('GET', url).then(function (r) {
      kotaku.clear(box);
      if (!r.ok) {
        box.appendChild(kotaku.el('p', {text: (r.body && r.body.description) ||
                                                ('Fitur tidak dapat dimuat (' + r.status + ').')}));
        return;
      }
      var p = r.body.properties;
      var parts = spec.collection === 'activities' ? activityContent(p) :
        (spec.collection === 'assets' ? assetContent(p) : slumContent(p));
      parts.forEach(function (part) { box.appendChild(part); });
      if (spec.collection !== 'activities' && spec.collection !== 'assets') scoreHistory(p.id, box);
      kotaku.regionName(p.kelurahan_code, box.querySelector('td[data-kelurahan]'));
      popup.update();
    });
  };

  /* The feature of a vector-tile layer under a point, found in the layer's drawn tile.
   *
   * Every layer's tiles are canvases stacked on each other; a canvas taking clicks would hide the layers below
   * it, so canvases take none (kotaku.css) and one map click asks each layer, top first. Reads Leaflet.VectorGrid
   * internals (tiles kept by `getFeatureId`, shapes' `_containsPoint` hit test of Leaflet's canvas renderer). */
  kotaku.featureAt = function (map, layer, latlng) {
    if (!map.hasLayer(layer) || !layer._vectorTiles || layer._tileZoom === undefined) return null;
    var size = layer.getTileSize();
    var pixel = map.project(latlng, layer._tileZoom);
    var coords = pixel.unscaleBy(size).floor();
    coords.z = layer._tileZoom;
    var tile = layer._vectorTiles[layer._tileCoordsToKey(coords)];
    if (!tile || !tile._layers) return null;
    var point = pixel.subtract(coords.scaleBy(size));
    var hit = null;
    Object.keys(tile._layers).forEach(function (id) {
      var shape = tile._layers[id];
      if (shape._containsPoint && shape._pxBounds && shape._containsPoint(point)) hit = shape; // last drawn is on top
    });
    return hit;
  };

  kotaku.bindPopups = function (map, refs) {
    var layers = kotaku.config().layers;
    var keys = Object.keys(layers).filter(function (key) { return layers[key].interactive && refs[key]; }).reverse();
    function find(latlng) {
      for (var i = 0; i < keys.length; i++) {
        var shape = kotaku.featureAt(map, refs[keys[i]], latlng);
        if (shape) return {key: keys[i], shape: shape};
      }
      return null;
    }
    map.on('click', function (e) {
      if (kotaku.busyDrawing) return;
      var found = find(e.latlng);
      if (found) kotaku.featurePopup(map, layers[found.key], {latlng: e.latlng, layer: found.shape});
    });
    var pending = false;
    map.on('mousemove', function (e) {
      if (pending) return;
      pending = true;
      setTimeout(function () {
        pending = false;
        map.getContainer().classList.toggle('kotaku-di-atas-fitur', !kotaku.busyDrawing && !!find(e.latlng));
      }, 80);
    });
  };

  /* -- legend -------------------------------------------------------------------------------------------- */
  function legendBlock(legend, swatchClass) {
    return kotaku.el('div', {className: 'legenda-blok'}, [kotaku.el('h4', {text: legend.title}),
      kotaku.el('ul', {}, legend.classes.map(function (c) {
        var swatch = swatchClass === 'tepi' ? 'border-color:' + c.colour : 'background:' + c.colour;
        return kotaku.el('li', {title: c.title}, [kotaku.el('span', {className: 'warna ' + (swatchClass || ''),
                                                                     style: swatch}), c.label]);
      }))]);
  }
  kotaku.legendBlock = legendBlock;

  /* A legend control listing the legends of the layers on the map (`extra`: blocks always shown); it folds. */
  kotaku.legendControl = function (map, refs, extra) {
    var control = L.control({position: 'bottomright'});
    var box, body;
    function redraw() {
      kotaku.clear(body);
      var layers = kotaku.config().layers;
      var lowZoom = map.getZoom() < kotaku.featureZoom();
      var shown = {};
      Object.keys(layers).forEach(function (key) {
        var spec = layers[key];
        if (!spec.legend || !refs[key] || !map.hasLayer(refs[key]) || shown[spec.legend]) return;
        shown[spec.legend] = true;
        if (spec.kind === 'activity' && lowZoom) {
          if (!shown.agregat) body.appendChild(legendBlock(kotaku.config().legends.agregat));
          shown.agregat = true;
          return;
        }
        body.appendChild(legendBlock(kotaku.config().legends[spec.legend],
                                     spec.kind === 'activity' || spec.kind === 'asset' ? 'garis' : ''));
      });
      (extra || []).forEach(function (block) { body.appendChild(block()); });
    }
    control.onAdd = function () {
      body = kotaku.el('div', {className: 'legenda-isi'});
      var toggle = kotaku.el('button', {type: 'button', className: 'legenda-tombol', text: 'Legenda \u25be',
                                        'aria-expanded': 'true'});
      box = kotaku.el('div', {className: 'legenda leaflet-bar', id: 'legenda'}, [toggle, body]);
      toggle.addEventListener('click', function () {
        var closed = box.classList.toggle('tertutup');
        toggle.setAttribute('aria-expanded', String(!closed));
        toggle.textContent = closed ? 'Legenda \u25b8' : 'Legenda \u25be';
      });
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      redraw();
      return box;
    };
    control.addTo(map);
    map.on('overlayadd overlayremove zoomend', redraw);
    return control;
  };

  /* Redraw the activity layers after a filter changed (tiles revalidate with their ETag: 304, no new query). */
  kotaku.redrawActivities = function (refs) {
    var layers = kotaku.config().layers;
    Object.keys(layers).forEach(function (key) {
      if (layers[key].kind === 'activity' && refs[key]) refs[key].redraw();
    });
  };

  /* Highlight a GeoJSON geometry (search result, selected area, conflicting activity) on its own layer. */
  kotaku.highlight = function (map, group, geometry, style) {
    var layer = L.geoJSON(geometry, {
      style: function () { return style; },
      pointToLayer: function (f, latlng) { return L.circleMarker(latlng, L.extend({radius: 9}, style)); }
    });
    group.addLayer(layer);
    return layer;
  };

  kotaku.start = function (page, map, refs) {
    kotaku.map = map;
    kotaku.refs = refs;
    kotaku.accountBox();
    kotaku.pages[page](map, refs);
  };
})();
