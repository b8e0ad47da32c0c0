/* The basemap under the page's layers (maps/pages/basemap.py): our OpenStreetMap vector tiles drawn by MapLibre GL JS
 * (vendored) inside Leaflet through @maplibre/maplibre-gl-leaflet.
 *
 * One MapLibre style (/styles/basemap.json, the one the API publishes) is drawn as two Leaflet layers: the
 * geometry (landuse, water, buildings, roads, any online raster) in the tile pane under the slum areas and
 * activities, and the names (symbol layers: streets, kelurahan, kecamatan, places) in a pane of their own above
 * the fills, where they take no clicks. The style's `glyphs` URL is dropped: kotaku ships no glyph PBFs, and
 * without it MapLibre draws the letters with the browser's own fonts (TinySDF). MapLibre's label collision stays
 * on, so names never overlap. Online basemaps (raster layers `online-*`, present only when KOTAKU_ONLINE_BASEMAPS
 * is set) are offered in the layer control, off until chosen. */
(function () {
  'use strict';

  var NAMES = {base: 'Peta dasar OpenStreetMap', labels: 'Nama jalan dan wilayah'};
  var LABEL_PANE = 'kotaku-nama';
  var EMPTY = {version: 8, sources: {}, layers: []};
  // holdMs: see paintLess
  var basemap = window.kotakuBasemap = {layers: {}, online: {}, styled: false, failed: null, holdMs: 1500};

  function copy(value) { return JSON.parse(JSON.stringify(value)); }

  /* The style split in two: everything but names (under the layers) and the names alone (over them). */
  function split(style) {
    delete style.glyphs;
    // No paint-property transitions (300 ms by default, from the style's load on): each asks for frames after the
    // first full one, and with software WebGL a frame of the whole map costs 100-200 ms.
    style.transition = {duration: 0, delay: 0};
    var below = copy(style);
    below.layers = style.layers.filter(function (l) { return l.type !== 'symbol'; });
    var above = copy(style);
    above.layers = style.layers.filter(function (l) { return l.type === 'symbol'; });
    var used = {};
    above.layers.forEach(function (l) { used[l.source] = true; });
    Object.keys(above.sources).forEach(function (id) { if (!used[id]) delete above.sources[id]; });
    return {below: below, above: above};
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

  /* A layer-control entry that shows or hides one online raster layer inside the basemap's MapLibre map. */
  var OnlineToggle = L.Layer.extend({
    initialize: function (base, id) { this._base = base; this._id = id; },
    _show: function (visible) {
      var gl = this._base.getMaplibreMap && this._base._glMap;
      if (gl && gl.getLayer(this._id)) gl.setLayoutProperty(this._id, 'visibility', visible ? 'visible' : 'none');
    },
    onAdd: function (map) {
      if (!map.hasLayer(this._base)) this._base.addTo(map);  // its style shows it once loaded (addLayer below)
      else if (this._base._glMap.isStyleLoaded()) this._show(true);
    },
    onRemove: function () { this._show(false); }
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
   * in, instead of painting the tiles of the old zoom scaled up (a few blurred roads, no names).
   * The two maps wait for each other the same way (`holdMs` at most): while one paints, the page waits for the
   * GPU, and the other's tiles, whose names need the page (MapLibre draws the letters there), would wait behind
   * it; held, the names are placed meanwhile and both paint in the next frames. */
  function settled(gl) {
    // _placementDirty: MapLibre placed the names of tiles that just came and will place them again next frame
    return gl.areTilesLoaded() && !gl._placementDirty;
  }

  /* The basemap's other MapLibre maps shown on the page: those still loading tiles or placing names, or all. */
  function others(gl, unsettledOnly) {
    return Object.keys(basemap.layers).map(function (key) {
      var layer = basemap.layers[key];
      return basemap.map && basemap.map.hasLayer(layer) && layer._glMap;
    }).filter(function (other) {
      return other && other !== gl && !other._removed && !(unsettledOnly && settled(other));
    });
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
    // anything is drawn (50-100 ms of the page per map at 1400x900, for a transparent canvas).
    canvas.style.visibility = 'hidden';
    painter.render = function (style) {
      painter.style = style;
      if (painted === null && !(style && style._order && style._order.length)) return;
      var c = gl.getCenter();
      var view = viewKey(gl.getZoom(), c.lng, c.lat) + '/' + canvas.width + 'x' + canvas.height;
      var jump = zoom !== null && Math.abs(gl.getZoom() - zoom) > 1;
      var now = performance.now();
      if (waiting === null) waiting = now;
      var unsettled = !settled(gl) || others(gl, true).length > 0;
      if ((painted === null || view === painted || jump) && now - waiting < basemap.holdMs && unsettled) {
        if (jump) canvas.style.visibility = 'hidden';
        gl._kotakuHeld = true;
        if (!timer) timer = setTimeout(function () { timer = null; if (!gl._removed) gl.triggerRepaint(); }, basemap.holdMs - (now - waiting));
        return;
      }
      painted = view;
      zoom = gl.getZoom();
      waiting = null;
      clearTimeout(timer);
      timer = null;
      gl._kotakuHeld = false;
      canvas.style.visibility = '';
      others(gl, false).forEach(function (other) {  // a map that held its frame for this one paints now too
        if (other._kotakuHeld) other.triggerRepaint();
      });
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

  function addLayer(map, key, pane) {
    // The names' map draws no margin around the view (the plugin's default draws 10 % more on each side, 1.44x
    // the pixels, so that a drag shows roads beyond the edge at once): names come once the move ends anyway, and
    // every frame of software WebGL (SwiftShader, weak phones) costs by the pixel.
    var layer = L.maplibreGL({style: EMPTY, pane: pane, fadeDuration: 0, interactive: false,
                              padding: key === 'base' ? 0.1 : 0,
                              className: 'kotaku-peta-dasar kotaku-peta-dasar-' + key});
    layer.on('add', function () {  // a new MapLibre map each time the layer is turned on
      layer._kotakuDrawn = null;
      layer.getContainer().style.zIndex = key === 'base' ? 1 : '';
      watch(layer);
      if (key !== 'base') return;
      layer._glMap.once('load', function () {  // the online basemaps chosen in the layer control
        Object.keys(basemap.online).forEach(function (id) {
          var toggle = basemap.online[id];
          if (basemap.map.hasLayer(toggle)) toggle._show(true);
        });
      });
    });
    basemap.layers[key] = layer;
    return layer;
  }

  /* The layer's part of the style, now and for every MapLibre map it makes when turned on again. */
  function setStyle(layer, style) {
    layer.options.style = style;
    layer._kotakuDrawn = null;
    if (!layer._glMap) return;
    layer._glMap.setStyle(style, {diff: false, validate: false});  // our own style, checked by the tests
    layer._glMap.once('idle', function () {  // the plugin credits the sources of the first style only
      var credit = layer.getAttribution();  // the OSM data's "(c) OpenStreetMap contributors" (ODbL)
      if (credit && basemap.map.attributionControl) basemap.map.attributionControl.addAttribution(credit);
    });
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

  /* True when every basemap layer on the map has drawn the map's current view (tests and bench/pages.py). */
  basemap.ready = function () {
    var map = basemap.map;
    if (basemap.failed) return true;
    if (!map || !basemap.styled) return false;
    var c = map.getCenter();
    var wanted = viewKey(map.getZoom() - 1, c.lng, c.lat);
    return Object.keys(basemap.layers).every(function (key) {
      var layer = basemap.layers[key];
      return !map.hasLayer(layer) || (layer._glMap && layer._kotakuDrawn === wanted);
    });
  };

  /* The MapLibre map of a layer ('base' or 'labels'), for tests. */
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
    // in the layer control at once (its entries never move), drawn once the style has come
    var base = addLayer(map, 'base', 'tilePane').addTo(map);
    var labels = addLayer(map, 'labels', LABEL_PANE).addTo(map);
    control.addOverlay(base, NAMES.base);
    control.addOverlay(labels, NAMES.labels);
    fetch(options.style, {credentials: 'same-origin', headers: {'Accept': 'application/json'}})
      .then(function (response) {
        if (!response.ok) throw new Error('gaya peta dasar tidak dapat dimuat (' + response.status + ')');
        return response.json();
      })
      .then(inlineSources)
      .then(function (style) {
        var parts = split(style);
        setStyle(base, parts.below);
        setStyle(labels, parts.above);
        basemap.styled = true;
        parts.below.layers.filter(function (l) { return l.id.indexOf('online-') === 0; }).forEach(function (l) {
          var toggle = new OnlineToggle(base, l.id);
          basemap.online[l.id.slice(7)] = toggle;
          control.addOverlay(toggle, 'Peta daring: ' + l.id.slice(7) + ' (internet)');
        });
      })
      .catch(function (error) {
        basemap.failed = error.message;
        console.warn('Peta dasar tidak ditampilkan: ' + error.message);
      });
  };
})();
