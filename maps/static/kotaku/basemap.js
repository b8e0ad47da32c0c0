/* The basemap under the page's layers (maps/pages/basemap.py): our OpenStreetMap data, in two parts.
 *
 * The ground (landuse, water, buildings, roads) is drawn by the server as PNG tiles (/tiles/basemap/{z}/{x}/{y}.png,
 * maps/basemap_png.py, from the style's own colours and widths) in the tile pane under the slum areas and
 * activities: a browser without a usable GPU (headless, many phones) draws WebGL on the CPU, 100-300 ms a frame,
 * and the page would wait for each; an image costs it a decode in a background thread.
 * The names (kelurahan, kecamatan, places; streets from zoom STREET_NAMES_FROM + 1 of Leaflet) lie in a pane of
 * their own above the fills, where they take no clicks: PNG tiles of the names below that zoom, where names are
 * points, and from there on the symbol layers of the MapLibre style (/styles/basemap.json, the one the API
 * publishes), drawn by MapLibre GL JS (vendored) inside Leaflet through @maplibre/maplibre-gl-leaflet, so the
 * street names follow the streets. The style's `glyphs` URL is dropped: kotaku ships no glyph PBFs, and without it
 * MapLibre draws the letters with the browser's own fonts (TinySDF). Label collision stays on in both: no two
 * names overlap. MapLibre is loaded some seconds after the first view is drawn (or at the first street zoom, if
 * sooner); should it or the style fail, the PNG names stay. Online basemaps (raster layers `online-*` of the
 * style, present only when KOTAKU_ONLINE_BASEMAPS is set) are Leaflet tile layers under the ground, offered in the
 * layer control, off until chosen. */
(function () {
  'use strict';

  var NAMES = {base: 'Peta dasar OpenStreetMap', labels: 'Nama jalan dan wilayah'};
  var LABEL_PANE = 'kotaku-nama';
  var PRELOAD_AFTER_MS = 3000;  // MapLibre is loaded this long after the first view is drawn (see basemap.add)
  // layers: the MapLibre maps (labels); holdMs: see paintLess
  var basemap = window.kotakuBasemap = {layers: {}, online: {}, styled: false, failed: null, holdMs: 1500};

  function copy(value) { return JSON.parse(JSON.stringify(value)); }

  /* The names of the style (its symbol layers), the part MapLibre draws, and its online raster sources. */
  function split(style) {
    delete style.glyphs;
    // No paint-property transitions (300 ms by default, from the style's load on): each asks for frames after the
    // first full one, and with software WebGL a frame of the whole map costs 100-200 ms.
    style.transition = {duration: 0, delay: 0};
    var online = style.layers.filter(function (l) { return l.type === 'raster' && l.id.indexOf('online-') === 0; })
      .map(function (l) { return {id: l.id.slice(7), source: style.sources[l.source]}; });
    var above = copy(style);
    above.layers = style.layers.filter(function (l) { return l.type === 'symbol'; });
    var used = {};
    above.layers.forEach(function (l) { used[l.source] = true; });
    Object.keys(above.sources).forEach(function (id) { if (!used[id]) delete above.sources[id]; });
    return {above: above, online: online};
  }

  /* The style with each vector source's TileJSON read once and put in its place (tiles, zooms, bounds, credit):
   * both MapLibre maps would each fetch it again, after the style, before their first tile. A TileJSON that cannot
   * be read leaves its source as it was (MapLibre then reports it). */
  function inlineSources(style) {
    var ids = Object.keys(style.sources || {}).filter(function (id) {
      var source = style.sources[id];
      return source.type === 'vector' && source.url && !source.tiles;
    });
    return Promise.all(ids.map(function (id) {
      var source = style.sources[id];
      return fetch(source.url, {credentials: 'same-origin'})
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (tilejson) {
          if (!tilejson || !tilejson.tiles) return;
          var inline = {type: 'vector', tiles: tilejson.tiles};
          ['minzoom', 'maxzoom', 'bounds', 'attribution', 'scheme'].forEach(function (k) {
            if (tilejson[k] !== undefined) inline[k] = tilejson[k];
          });
          style.sources[id] = inline;
        })
        .catch(function () { return null; });
    })).then(function () { return style; });
  }

  /* Leaflet's tile layer of one online basemap (its URL template and credit from the style), under the ground. */
  function onlineLayer(source) {
    return L.tileLayer(source.tiles[0], {tileSize: source.tileSize || 256, zIndex: 0, maxZoom: 19,
                                         attribution: source.attribution || ''});
  }

  /* MapLibre GL JS and its Leaflet plugin, loaded once, a while after the first view is drawn or when the map first
   * reaches street zoom: a kab/kota's view needs neither (about 1 MB of script, 280 KB gzipped, run on the page's
   * main thread, and a worker that reads it all again). */
  var maplibre = null;
  function loadMaplibre(urls) {
    if (maplibre) return maplibre;
    var css = document.createElement('link');
    css.rel = 'stylesheet';
    css.href = urls.css;
    document.head.appendChild(css);
    maplibre = urls.scripts.reduce(function (ready, src) {
      return ready.then(function () {
        return new Promise(function (resolve, reject) {
          var script = document.createElement('script');
          script.src = src;
          script.onload = resolve;
          script.onerror = function () { reject(new Error(src + ' tidak dapat dimuat')); };
          document.head.appendChild(script);
        });
      });
    }, Promise.resolve());
    return maplibre;
  }

  /* The names: PNG tiles below `from` (Leaflet's zoom), MapLibre's symbol layers from there on (`make` builds their
   * layer once MapLibre is loaded), added when the map reaches that zoom (a MapLibre map costs the page a WebGL
   * context) and removed below it; the PNG names stay if MapLibre or the style cannot be had. The PNG layer is
   * switched here rather than by its maxZoom: Leaflet would take that for the whole map's limit once the ground is
   * turned off. The credit is the switch's own, so it stays whichever layer draws. */
  var NameSwitch = L.Layer.extend({
    initialize: function (raster, make, from, options) {
      this._raster = raster;
      this._make = make;
      this._vector = null;
      this._from = from;
      L.setOptions(this, options);
    },
    onAdd: function (map) {
      map.on('zoomend', this._check, this);
      this._check();
    },
    onRemove: function (map) {
      map.off('zoomend', this._check, this);
      [this._raster, this._vector].forEach(function (layer) {
        if (layer && map.hasLayer(layer)) map.removeLayer(layer);
      });
    },
    vector: function () { return Boolean(this._map) && this._map.getZoom() >= this._from && !basemap.failed; },
    _check: function () {
      var map = this._map;
      if (!map) return;
      var vector = this.vector();
      if (vector && map.hasLayer(this._raster)) map.removeLayer(this._raster);
      if (!vector && !map.hasLayer(this._raster)) map.addLayer(this._raster);
      var gl = this._vector;
      if (!vector && gl && map.hasLayer(gl)) map.removeLayer(gl);
      if (!vector || !basemap.styled) return;
      if (gl) {
        if (!map.hasLayer(gl)) map.addLayer(gl);
        return;
      }
      if (this._making) return;
      var self = this;
      this._making = this._make().then(function (layer) { self._vector = layer; self._check(); }, function (error) {
        basemap.failed = error.message;
        console.warn('Nama jalan tidak ditampilkan: ' + error.message);
        self._check();
      });
    }
  });

  function viewKey(zoom, lng, lat) {
    return zoom.toFixed(3) + '/' + lng.toFixed(6) + '/' + lat.toFixed(6);
  }

  /* MapLibre paints a frame for every tile that arrives. With software WebGL (SwiftShader: headless browsers, phones
   * without a usable GPU) each frame blocks the page for as long as the GPU process takes to draw and read back the
   * whole canvas (100-300 ms at 1400x900 on two busy cores), and the page's own layers wait behind it. A map here
   * paints when its view has moved (its canvas must follow Leaflet's), when every tile it needs is in and its names
   * are placed for good (MapLibre places the names of new tiles again in the next frame), or when it has waited
   * `holdMs` for them (a slow network still sees the basemap come in parts); the frames asked for in
   * between are dropped, and so are those of a map that has drawn nothing yet (its canvas is transparent). A
   * dropped frame still hands the style to the painter, as MapLibre's render does first: MapLibre 5.24 builds a
   * tile's buckets from the painter's style when the tile arrives, and a tile that came before any frame would
   * never be drawn.
   * After a jump of more than one zoom level (a search result, a permalink) the map is hidden until its tiles are
   * in, instead of painting the tiles of the old zoom scaled up (a few blurred names). */
  function settled(gl) {
    // _placementDirty: MapLibre placed the names of tiles that just came and will place them again next frame
    return gl.areTilesLoaded() && !gl._placementDirty;
  }

  function paintLess(gl) {
    var painter = gl.painter;
    var render = painter.render;
    var canvas = gl.getCanvas();
    var painted = null;  // the view last painted; null: nothing yet
    var zoom = null;
    var waiting = null;  // when the first frame was dropped since the last one painted
    var timer = null;
    // Hidden until its first frame: without a GPU (software compositing: headless browsers, weak phones) a shown
    // WebGL canvas is read back by the page after each frame drawn into it, and a new one, cleared, once before
    // anything is drawn (50-100 ms of the page at 1400x900, for a transparent canvas).
    canvas.style.visibility = 'hidden';
    painter.render = function (style) {
      painter.style = style;
      if (painted === null && !(style && style._order && style._order.length)) return;
      var c = gl.getCenter();
      var view = viewKey(gl.getZoom(), c.lng, c.lat) + '/' + canvas.width + 'x' + canvas.height;
      var jump = zoom !== null && Math.abs(gl.getZoom() - zoom) > 1;
      var now = performance.now();
      if (waiting === null) waiting = now;
      if ((painted === null || view === painted || jump) && now - waiting < basemap.holdMs && !settled(gl)) {
        if (jump) canvas.style.visibility = 'hidden';
        if (!timer) timer = setTimeout(function () { timer = null; if (!gl._removed) gl.triggerRepaint(); }, basemap.holdMs - (now - waiting));
        return;
      }
      painted = view;
      zoom = gl.getZoom();
      waiting = null;
      clearTimeout(timer);
      timer = null;
      canvas.style.visibility = '';
      return render.apply(this, arguments);
    };
  }

  /* Remember the view each MapLibre map last finished drawing ('idle': every tile loaded and painted). */
  function watch(layer) {
    var gl = layer._glMap;
    paintLess(gl);
    gl.on('idle', function () {
      var c = gl.getCenter();
      layer._kotakuDrawn = viewKey(gl.getZoom(), c.lng, c.lat);
    });
    gl.on('error', function (e) {
      console.warn('Peta dasar: ' + (e && e.error && e.error.message ? e.error.message : 'galat tanpa keterangan'));
    });
  }

  function addLayer(key, pane, style) {
    // No margin around the view (the plugin's default draws 10 % more on each side, 1.44x the pixels, so that a
    // drag shows more at once): names come once the move ends anyway, and every frame of software WebGL (weak
    // phones) costs by the pixel.
    // No credit of its own (the names' switch gives it); validateStyle: our own style, checked by the tests
    var layer = L.maplibreGL({style: style, pane: pane, fadeDuration: 0, interactive: false, padding: 0,
                              attributionControl: false, validateStyle: false,
                              className: 'kotaku-peta-dasar kotaku-peta-dasar-' + key});
    layer.on('add', function () {  // a new MapLibre map each time the layer is added
      layer._kotakuDrawn = null;
      watch(layer);
    });
    basemap.layers[key] = layer;
    return layer;
  }

  /* The plugin follows Leaflet's moves, but a resize of the map (a phone's layout settling) can leave MapLibre a
   * few pixels off Leaflet's centre, the basemap shifted under the layers: after each resize and move, once the
   * plugin is done, a layer whose MapLibre view is not Leaflet's jumps to it. */
  function sync() {
    var map = basemap.map;
    var c = map.getCenter();
    var wanted = viewKey(map.getZoom() - 1, c.lng, c.lat);
    Object.keys(basemap.layers).forEach(function (key) {
      var layer = basemap.layers[key];
      var gl = layer._glMap;
      if (!gl || !map.hasLayer(layer) || layer._zooming) return;
      var g = gl.getCenter();
      if (viewKey(gl.getZoom(), g.lng, g.lat) !== wanted) layer._update();
    });
  }

  /* True when a tile layer's tiles of the current view are in and have faded in (Leaflet's `active`). */
  function shown(layer) {
    if (layer.isLoading()) return false;
    return Object.keys(layer._tiles).every(function (key) {
      var tile = layer._tiles[key];
      return !tile.current || tile.active;
    });
  }

  /* True when the basemap has drawn the map's current view: the ground's tiles, and the names' tiles or MapLibre's
   * names, all shown in full (tests and bench/pages.py). */
  basemap.ready = function () {
    var map = basemap.map;
    if (!map) return false;
    var online = Object.keys(basemap.online).map(function (id) { return basemap.online[id]; });
    var rasters = [basemap.ground].concat(online);
    if (rasters.some(function (layer) { return map.hasLayer(layer) && !shown(layer); })) return false;
    var names = basemap.names;
    if (!names || !map.hasLayer(names)) return true;
    if (!names.vector()) return shown(names._raster);
    var layer = basemap.layers.labels;
    if (!basemap.styled || !layer || !map.hasLayer(layer)) return false;
    var c = map.getCenter();
    return Boolean(layer._glMap) && layer._kotakuDrawn === viewKey(map.getZoom() - 1, c.lng, c.lat);
  };

  /* The MapLibre map of the names ('labels'), once the map has been at their zoom; for tests. */
  basemap.gl = function (key) {
    var layer = basemap.layers[key];
    return layer && layer._glMap;
  };

  basemap.add = function (map, control, options) {
    basemap.map = map;
    var pane = map.createPane(LABEL_PANE);
    pane.style.zIndex = 450;  // over the overlay pane (400: fills, drawings), under markers and popups
    pane.style.pointerEvents = 'none';
    map.on('resize moveend', function () {
      L.Util.requestAnimFrame(function () { L.Util.requestAnimFrame(sync); });
    });
    setInterval(sync, 500);  // and whatever moved the map without telling (a few comparisons)
    // 512-px tiles of MapLibre's zoom (Leaflet's less one, as the page's layers), twice as many pixels on a screen
    // of two device pixels per CSS pixel (phones), so lines and letters stay sharp
    var scale = (window.devicePixelRatio || 1) >= 1.5 ? 2 : 1;
    var tiles = {tileSize: 512, zoomOffset: -1, minZoom: 1, maxZoom: options.maxZoom, className: 'kotaku-peta-dasar'};
    var png = function (part) {
      return options.png + (options.png.indexOf('?') < 0 ? '?' : '&') + 'part=' + part + '&scale=' + scale;
    };
    var ground = basemap.ground = L.tileLayer(png('ground'), L.extend({}, tiles, {
      pane: 'tilePane', zIndex: 1, attribution: options.credit,
      className: tiles.className + ' kotaku-peta-dasar-base'}));
    // the ground's PNG is transparent where nothing is drawn (online basemaps show through): the style's
    // background colour is the map's own while the basemap is on
    ground.on('add', function () { map.getContainer().style.backgroundColor = options.background; });
    ground.on('remove', function () { map.getContainer().style.backgroundColor = ''; });
    ground.addTo(map);
    var rasterNames = L.tileLayer(png('names'), L.extend({}, tiles, {
      pane: LABEL_PANE, className: tiles.className + ' kotaku-peta-dasar-labels'}));
    var makeNames = function () {
      return loadMaplibre(options.maplibre).then(function () {
        return addLayer('labels', LABEL_PANE, basemap.namesStyle);
      });
    };
    var names = basemap.names = new NameSwitch(rasterNames, makeNames, options.streetNamesFrom,
                                               {attribution: options.credit});
    names.addTo(map);
    // Some seconds after the first view is drawn, when the page is idle, MapLibre is loaded and its worker started,
    // so that a later zoom to the streets does not wait for them; the first view never does.
    ground.once('load', function () {
      setTimeout(function () {
        (window.requestIdleCallback || setTimeout)(function () {
          var warm = function () { window.maplibregl.prewarm(); };
          loadMaplibre(options.maplibre).then(warm, function () { return null; });  // said at street zoom
        });
      }, PRELOAD_AFTER_MS);
    });
    control.addOverlay(ground, NAMES.base);
    control.addOverlay(names, NAMES.labels);
    fetch(options.style, {credentials: 'same-origin', headers: {'Accept': 'application/json'}})
      .then(function (response) {
        if (!response.ok) throw new Error('gaya peta dasar tidak dapat dimuat (' + response.status + ')');
        return response.json();
      })
      .then(inlineSources)
      .then(function (style) {
        var parts = split(style);
        basemap.namesStyle = parts.above;
        basemap.styled = true;
        names._check();
        parts.online.forEach(function (online) {
          var layer = basemap.online[online.id] = onlineLayer(online.source);
          control.addOverlay(layer, 'Peta daring: ' + online.id + ' (internet)');
        });
      })
      .catch(function (error) {
        basemap.failed = error.message;
        console.warn('Nama jalan tidak ditampilkan: ' + error.message);
        names._check();
      });
  };
})();
