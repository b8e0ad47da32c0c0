/* kotaku-gis pages: the view every map page shares, set up after the page's own script (kotaku.start is wrapped).
 *
 * - Phones (max-width 760px, as kotaku.css): the layer list and the legend fold behind buttons, closed at first,
 *   so the map and its zoom and draw buttons stay uncovered.
 * - A metric scale bar only (folium's control_scale would add miles and feet).
 * - A permalink: centre, zoom, visible layers and the filters in the URL hash (the kab/kota in ?tenant=), and what a
 *   page adds with kotaku.viewState (the chosen kawasan of /peta/keterpaduan, the drawing of /peta/usulan), kept
 *   up to date with history.replaceState; opening it restores the view.
 * - Download links for what the page shows: GeoJSON of each visible layer with the page's kab/kota and filters
 *   (OGC API items), and the kab/kota's keterpaduan exports (GET /exports/keterpaduan.{format}).
 * Text only through textContent (kotaku.el). */
(function () {
  'use strict';
  var kotaku = window.kotaku;
  var PHONE = '(max-width: 760px)';
  var MAX_ITEMS = 10000;  // layers/serving/filters.py MAX_LIMIT
  var GEOJSON = 'application/geo+json';
  // the page controls a permalink keeps: hash key -> element id
  var CONTROLS = {tahun: 'filter-tahun', tahap: 'filter-tahap'};
  var BUNDLES = [['gpkg', 'GeoPackage', 'application/geopackage+sqlite3'],
                 ['shp', 'Shapefile (zip)', 'application/zip'],
                 ['kml', 'KML', 'application/vnd.google-earth.kml+xml'],
                 ['xlsx', 'Excel', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'],
                 ['csv', 'CSV', 'text/csv'],
                 ['pdf', 'Lembar PDF', 'application/pdf']];
  var ITEM_COLLECTIONS = ['regions', 'slum-areas', 'activities', 'assets'];

  kotaku.isPhone = function () { return window.matchMedia(PHONE).matches; };

  /* -- phones: the layer list behind a button, the legend closed ------------------------------------------ */
  function foldControls(map) {
    var container = map.getContainer();
    var control = L.control({position: 'topright'});
    control.onAdd = function () {
      var button = kotaku.el('button', {type: 'button', id: 'tombol-lapisan', className: 'tombol-peta',
                                        'aria-expanded': 'false', text: 'Lapisan'});
      button.addEventListener('click', function () {
        var open = container.classList.toggle('lapisan-terbuka');
        button.setAttribute('aria-expanded', String(open));
        button.textContent = open ? 'Tutup lapisan' : 'Lapisan';
      });
      var box = kotaku.el('div', {className: 'leaflet-bar kotaku-lipat'}, [button]);
      L.DomEvent.disableClickPropagation(box);
      return box;
    };
    control.addTo(map);
    var corner = control.getContainer().parentNode;
    corner.insertBefore(control.getContainer(), corner.firstChild);  // above the layer list it opens
    var credits = container.querySelector('.leaflet-control-attribution');
    if (credits) {  // folded to one line on phones (kotaku.css); a tap shows it whole
      credits.addEventListener('click', function (e) {
        if (e.target.tagName !== 'A') credits.classList.toggle('terbuka');
      });
    }
    var legend = document.querySelector('#legenda');
    var toggle = legend && legend.querySelector('.legenda-tombol');
    if (toggle && kotaku.isPhone() && !legend.classList.contains('tertutup')) toggle.click();
  }

  /* -- permalink ----------------------------------------------------------------------------------------- */
  // what pages add to the view: hash key -> {get: value or '', set: called with the hash's value on opening}
  var pageState = {};
  kotaku.viewState = function (key, get, set) { pageState[key] = {get: get, set: set}; };
  kotaku.viewChanged = function () {};  // the share panel's update once it is there

  function layerKeys() {
    var layers = kotaku.config().layers;
    return Object.keys(layers).filter(function (key) { return kotaku.refs[key]; });
  }

  function readHash() {
    var found = {};
    location.hash.replace(/^#/, '').split('&').forEach(function (part) {
      var at = part.indexOf('=');
      if (at > 0) found[decodeURIComponent(part.slice(0, at))] = decodeURIComponent(part.slice(at + 1));
    });
    return found;
  }

  function viewHash(map) {
    var centre = map.getCenter();
    var zoom = map.getZoom();
    var digits = Math.max(4, Math.ceil(Math.log(Math.pow(2, zoom)) / Math.LN10) + 1);
    var parts = ['peta=' + zoom + '/' + centre.lat.toFixed(digits) + '/' + centre.lng.toFixed(digits),
                 'lapisan=' + layerKeys().filter(function (key) { return map.hasLayer(kotaku.refs[key]); }).join(',')];
    Object.keys(CONTROLS).forEach(function (key) {
      var control = document.getElementById(CONTROLS[key]);
      if (control && control.value) parts.push(key + '=' + encodeURIComponent(control.value));
    });
    Object.keys(pageState).forEach(function (key) {
      var value = pageState[key].get();
      if (value) parts.push(key + '=' + encodeURIComponent(value));
    });
    return '#' + parts.join('&');
  }

  kotaku.permalink = function (map) {
    var tenant = kotaku.config().tenant;
    return location.origin + location.pathname + (tenant ? '?tenant=' + encodeURIComponent(tenant) : '') +
      viewHash(map || kotaku.map);
  };

  function restore(map) {
    var wanted = readHash();
    var view = (wanted.peta || '').split('/').map(Number);
    if (view.length === 3 && view.every(isFinite)) map.setView([view[1], view[2]], view[0], {animate: false});
    if (wanted.lapisan !== undefined) {
      var shown = wanted.lapisan ? wanted.lapisan.split(',') : [];
      layerKeys().forEach(function (key) {
        var layer = kotaku.refs[key];
        if (shown.indexOf(key) >= 0 && !map.hasLayer(layer)) map.addLayer(layer);
        if (shown.indexOf(key) < 0 && map.hasLayer(layer)) map.removeLayer(layer);
      });
    }
    Object.keys(CONTROLS).forEach(function (key) {
      var control = document.getElementById(CONTROLS[key]);
      if (!control || wanted[key] === undefined) return;
      control.value = wanted[key];
      control.dispatchEvent(new Event('change'));
    });
    Object.keys(pageState).forEach(function (key) {
      if (wanted[key]) pageState[key].set(wanted[key]);
    });
  }

  /* -- downloads ----------------------------------------------------------------------------------------- */
  function itemsUrl(collection) {
    var params = ['f=geojson', 'limit=' + MAX_ITEMS];
    var tenant = kotaku.config().tenant;
    if (tenant) params.push('tenant=' + encodeURIComponent(tenant));
    if (collection === 'activities') {
      if (kotaku.filters.year) {
        params.push('datetime=' + kotaku.filters.year + '-01-01/' + kotaku.filters.year + '-12-31');
      }
      if (kotaku.filters.stage) params.push('stage=' + encodeURIComponent(kotaku.filters.stage));
      if (kotaku.config().liveOnly) {  // /peta/keterpaduan draws live activities only (common.js activityVisible)
        params.push('filter=' + encodeURIComponent("NOT (status IN ('ditolak', 'dibatalkan'))"));
      }
    }
    return '/collections/' + collection + '/items?' + params.join('&');
  }

  function downloadLinks(map) {
    var links = [];
    var layers = kotaku.config().layers;
    var seen = {};
    layerKeys().forEach(function (key) {
      var spec = layers[key];
      if (!map.hasLayer(kotaku.refs[key]) || ITEM_COLLECTIONS.indexOf(spec.collection) < 0) return;
      if (seen[spec.collection]) return;
      seen[spec.collection] = true;
      links.push({href: itemsUrl(spec.collection), type: GEOJSON, text: spec.name + ' (GeoJSON)',
                  file: spec.collection + '.geojson'});
    });
    var tenant = kotaku.config().tenant;
    if (tenant) {
      BUNDLES.forEach(function (b) {
        links.push({href: '/exports/keterpaduan.' + b[0] + '?tenant=' + encodeURIComponent(tenant), type: b[2],
                    text: 'Keterpaduan kab/kota ' + tenant + ': ' + b[1]});
      });
    }
    return links;
  }

  function sharePanel(map) {
    var panel = document.getElementById('panel');
    if (!panel) return;
    var list = kotaku.el('ul', {className: 'unduhan', id: 'daftar-unduhan'});
    var note = kotaku.el('p', {className: 'catatan', id: 'catatan-unduhan'});
    var link = kotaku.el('input', {id: 'tautan-tampilan', type: 'url', readonly: 'readonly',
                                   'aria-label': 'Tautan tampilan ini'});
    var said = kotaku.el('span', {className: 'catatan', role: 'status'});
    var copy = kotaku.el('button', {type: 'button', id: 'salin-tautan', text: 'Salin tautan', onclick: function () {
      link.select();
      var copied = navigator.clipboard && window.isSecureContext
        ? navigator.clipboard.writeText(link.value) : Promise.reject(new Error('tanpa clipboard'));
      copied.then(function () { said.textContent = ' Tautan disalin.'; },
                  function () { said.textContent = ' Tautan sudah dipilih: salin dengan menu atau Ctrl+C.'; });
    }});
    var section = kotaku.el('section', {className: 'bagikan'}, [
      kotaku.el('details', {id: 'unduh'}, [kotaku.el('summary', {className: 'tombol-unduh', text: 'Unduh data'}),
                                           note, list]),
      kotaku.el('label', {}, ['Tautan tampilan ini (pusat, zoom, lapisan, filter)', link]),
      kotaku.el('div', {className: 'tombol'}, [copy, said])]);
    var header = panel.querySelector('header');
    panel.insertBefore(section, header ? header.nextSibling : panel.firstChild);

    function update() {
      var url = kotaku.permalink(map);
      link.value = url;
      history.replaceState(null, '', url.slice(location.origin.length));
      kotaku.clear(list);
      var links = downloadLinks(map);
      links.forEach(function (l) {
        list.appendChild(kotaku.el('li', {}, [kotaku.el('a', {href: l.href, type: l.type, download: l.file || '',
                                                              text: l.text})]));
      });
      note.textContent = links.length ? 'Data yang tampil di peta, dengan kab/kota dan filter yang dipilih.'
                                      : 'Tidak ada lapisan yang dapat diunduh: pilih lapisan atau kab/kota.';
    }
    var pending = false;
    function later() {  // once after a burst of events (a layer switch fires several)
      if (pending) return;
      pending = true;
      setTimeout(function () { pending = false; update(); }, 50);
    }
    map.on('moveend overlayadd overlayremove layeradd layerremove', later);
    Object.keys(CONTROLS).forEach(function (key) {
      var control = document.getElementById(CONTROLS[key]);
      if (control) control.addEventListener('change', later);
    });
    kotaku.viewChanged = later;
    update();
  }

  /* Leaflet's own titles are English: the zoom buttons, the popups' close button, the attribution's prefix. */
  function indonesian(map) {
    map.on('popupopen', function (e) {
      var close = e.popup.getElement() && e.popup.getElement().querySelector('.leaflet-popup-close-button');
      if (close) {
        close.title = 'Tutup';
        close.setAttribute('aria-label', 'Tutup');
      }
    });
    if (map.attributionControl) {  // a fixed string (no data): the prefix is HTML
      map.attributionControl.setPrefix('<a href="https://leafletjs.com" title="Pustaka JavaScript untuk peta ' +
                                       'interaktif">Leaflet</a>');
    }
    [['.leaflet-control-zoom-in', 'Perbesar'], ['.leaflet-control-zoom-out', 'Perkecil']].forEach(function (pair) {
      var button = map.getContainer().querySelector(pair[0]);
      if (button) {
        button.title = pair[1];
        button.setAttribute('aria-label', pair[1]);
      }
    });
  }

  var start = kotaku.start;
  kotaku.start = function (page, map, refs) {
    start(page, map, refs);
    L.control.scale({imperial: false, metric: true, position: 'bottomleft'}).addTo(map);
    indonesian(map);
    foldControls(map);
    restore(map);
    sharePanel(map);
  };
})();
