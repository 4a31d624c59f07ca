/* OCOP coverage map layers: loads the GeoJSON resources and draws them on a folium map.
 * Every text that comes from data goes through esc() before it reaches HTML. */
(function () {
  "use strict";

  var ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

  function esc(value) {
    if (value === null || value === undefined) return "";
    return String(value).replace(/[&<>"']/g, function (c) { return ESCAPES[c]; });
  }

  function label(cfg, key) {
    return (cfg.labels && cfg.labels[key]) || key;
  }

  function stars(n) {
    return n ? new Array(Number(n) + 1).join("\u2605") : "";
  }

  function communeTooltip(cfg, p) {
    var lines = ["<strong>" + esc(p.commune_full_name) + "</strong>"];
    if (p.district_name) lines.push(esc(p.district_name));
    if (p.status === "no_data") {
      lines.push(esc(label(cfg, "no_data")));
    } else {
      lines.push(esc(label(cfg, "products")) + ": " + esc(p.n_products) + " / " + esc(p.target));
      if (p.product_names && p.product_names.length) {
        lines.push(p.product_names.map(esc).join(", "));
      }
      if (p.district_published !== undefined && p.district_published !== null) {
        lines.push(esc(label(cfg, "completeness")) + ": " + esc(p.district_named) + " / " +
          esc(p.district_published));
      }
      if (p.completeness_low) lines.push("<em>" + esc(label(cfg, "completeness_low")) + "</em>");
    }
    return lines.join("<br>");
  }

  function communePopup(cfg, p) {
    var html = communeTooltip(cfg, p);
    html += "<br>" + esc(label(cfg, "status")) + ": " + esc(label(cfg, "status_" + p.status));
    if (p.missing) html += "<br>" + esc(label(cfg, "missing")) + ": " + esc(p.missing);
    html += "<br><small>" + esc(label(cfg, "code")) + " " + esc(p.commune_code) + "</small>";
    return html;
  }

  function approximateNote(cfg, p) {
    return p.approximate
      ? '<br><em class="approximate">' + esc(label(cfg, "approximate")) + "</em>"
      : "";
  }

  function producerPopup(cfg, p) {
    var html = "<strong>" + esc(p.name || label(cfg, "producer_not_stated")) + "</strong>";
    html += "<br>" + esc(label(cfg, "type_" + p.producer_type));
    var place = [p.commune_name, p.district_name].filter(Boolean).map(esc).join(", ");
    if (place) html += "<br>" + place;
    if (p.products && p.products.length) {
      html += "<ul>" + p.products.map(function (item) {
        return "<li>" + esc(item.name) + " " + esc(stars(item.stars)) + "</li>";
      }).join("") + "</ul>";
    }
    html += approximateNote(cfg, p);
    if (p.illustrative) html += '<br><em>' + esc(label(cfg, "illustrative")) + "</em>";
    return html;
  }

  function candidatePopup(cfg, p) {
    var html = "<strong>" + esc(label(cfg, "layer_candidates")) + "</strong>";
    html += "<br>" + esc(p.area_name) + " · " + esc(p.n_candidates);
    if (p.area_kind === "district") html += " (" + esc(label(cfg, "candidates_district_only")) + ")";
    html += "<ul>" + (p.names || []).map(function (name) {
      return "<li>" + esc(name) + "</li>";
    }).join("") + "</ul>";
    return html + "<em>" + esc(label(cfg, "candidates_note")) + "</em>";
  }

  /* Products in the pipeline: off by default and fetched the first time the layer is shown,
   * so the map's first load does not grow. Never part of the coverage colours. */
  function candidateLayer(cfg) {
    var layer = L.layerGroup();
    var loaded = false;
    layer.on("add", function () {
      if (loaded) return;
      loaded = true;
      // Above the communes (drawn once their data arrives) so that a marker takes the tap;
      // the pane itself lets taps through to the communes around the markers.
      var map = layer._map;
      if (!map.getPane("candidates")) {
        var pane = map.createPane("candidates");
        pane.style.zIndex = 450;
        pane.style.pointerEvents = "none";
      }
      fetchJson(cfg.urls.candidates).then(function (data) {
        data.features.forEach(function (f) {
          var p = f.properties;
          var c = f.geometry.coordinates;
          L.circleMarker([c[1], c[0]], {
            pane: "candidates",
            radius: 5 + Math.min(Number(p.n_candidates) || 1, 6), color: "#6a3d9a", weight: 2,
            dashArray: "3 2", fillColor: "#ffffff", fillOpacity: 0.7,
            className: "candidate-marker candidate-" + p.area_kind,
          }).bindPopup(candidatePopup(cfg, p)).addTo(layer);
        });
        document.body.setAttribute("data-candidates-ready", "true");
      }).catch(function (err) {
        loaded = false;
        document.body.setAttribute("data-candidates-ready", "error");
        showError(layer._map, label(cfg, "load_error") + " " + err.message);
      });
    });
    return layer;
  }

  function outletPopup(cfg, p) {
    var html = "<strong>" + esc(p.name) + "</strong>";
    html += "<br>" + esc(label(cfg, "kind_" + p.kind));
    if (p.status && p.status !== "open") html += " (" + esc(label(cfg, "outlet_" + p.status)) + ")";
    if (p.address) html += "<br>" + esc(p.address);
    var place = [p.commune_name, p.district_name].filter(Boolean).map(esc).join(", ");
    if (place) html += "<br>" + place;
    html += approximateNote(cfg, p);
    return html;
  }

  function districtTooltip(cfg, p) {
    var html = "<strong>" + esc(p.district_full_name) + "</strong>";
    html += "<br>" + esc(label(cfg, "products")) + ": " + esc(p.n_products);
    html += "<br>" + esc(label(cfg, "communes_met")) + ": " + esc(p.communes_met) + " / " +
      esc(p.n_communes);
    if (p.n_products_district_only) {
      html += "<br>" + esc(label(cfg, "district_only")) + ": " + esc(p.n_products_district_only);
    }
    return html;
  }

  /* The hatch drawn over communes of districts where few published products are named: an
   * SVG pattern in an SVG of its own (zero size) in the map's container, which every path of
   * the page (the communes' layer or the vector tiles' SVGs) can fill with. */
  var HATCH_ID = "ocop-completeness-hatch";

  function ensureHatchPattern(map) {
    if (document.getElementById(HATCH_ID)) return;
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("width", "0");
    svg.setAttribute("height", "0");
    svg.setAttribute("aria-hidden", "true");
    svg.style.position = "absolute";
    var defs = document.createElementNS(ns, "defs");
    var pattern = document.createElementNS(ns, "pattern");
    pattern.setAttribute("id", HATCH_ID);
    pattern.setAttribute("patternUnits", "userSpaceOnUse");
    pattern.setAttribute("width", "7");
    pattern.setAttribute("height", "7");
    pattern.setAttribute("patternTransform", "rotate(45)");
    var line = document.createElementNS(ns, "line");
    line.setAttribute("x1", "0");
    line.setAttribute("y1", "0");
    line.setAttribute("x2", "0");
    line.setAttribute("y2", "7");
    line.setAttribute("stroke", "#1a1a1a");
    line.setAttribute("stroke-width", "1.4");
    line.setAttribute("stroke-opacity", "0.55");
    pattern.appendChild(line);
    defs.appendChild(pattern);
    svg.appendChild(defs);
    map.getContainer().appendChild(svg);
  }

  function outletIcon(kind) {
    var centre = kind === "centre";
    return L.divIcon({
      className: "outlet-icon " + (centre ? "outlet-centre" : "outlet-sales-point"),
      html: centre ? "\u2605" : "\u25CF",
      iconSize: centre ? [26, 26] : [20, 20],
    });
  }

  // The communes that have coverage (not "no data"): in edition 2025 this leaves out former
  // Da Nang and its far-off Hoang Sa islands, which would otherwise shrink the province.
  function scoredBounds(communes) {
    var bounds = L.latLngBounds([]);
    communes.eachLayer(function (layer) {
      if (layer.feature.properties.status !== "no_data") bounds.extend(layer.getBounds());
    });
    return bounds.isValid() ? bounds : communes.getBounds();
  }

  function fetchJson(url) {
    return fetch(url, { credentials: "same-origin" }).then(function (response) {
      if (!response.ok) throw new Error(url + ": HTTP " + response.status);
      return response.json();
    });
  }

  /* One object of the boundaries (standard TopoJSON, read by topojson-client), each feature's
   * properties (its code alone) replaced by its coverage status: the status JSON, by code. */
  function joinStatus(topo, name, status, code) {
    var object = topo.objects[name];  // absent: the communes of a map by area (vector tiles)
    var collection = object
      ? topojson.feature(topo, object)
      : { type: "FeatureCollection", features: [] };
    collection.features.forEach(function (f) {
      f.properties = status[f.properties[code]] || f.properties;
    });
    return collection;
  }

  /* The geometry (cached for good under the boundary build's version) and the status (per
   * data version): an import changes only the second. */
  function boundaryLoads(cfg) {
    var both = Promise.all([fetchJson(cfg.urls.boundaries), fetchJson(cfg.urls.status)]);
    return {
      status: both.then(function (r) { return r[1]; }),
      communes: both.then(function (r) {
        return joinStatus(r[0], "communes", r[1].communes, "commune_code");
      }),
      districts: both.then(function (r) {
        return joinStatus(r[0], "districts", r[1].districts, "district_code");
      }),
    };
  }

  function communeStyle(cfg, p) {
    var noData = p.status === "no_data";
    var outside = outsideFocus(cfg, p);
    return {
      className: "commune-shape status-" + p.status + (outside ? " outside-focus" : ""),
      fillColor: cfg.statusColours[p.status] || "#ffffff",
      fillOpacity: outside ? 0.15 : noData ? 0.45 : 0.72,
      color: "#4d4d4d",
      weight: 0.6,
      dashArray: noData ? "3 3" : null,
    };
  }

  var HATCH_STYLE = {
    className: "completeness-hatch", fillColor: "url(#" + HATCH_ID + ")", fillOpacity: 1,
    stroke: false, fill: true,
  };

  /* A map by area (too many communes to send at once): the communes come as Mapbox Vector
   * Tiles (Leaflet.VectorGrid) from cfg.byArea.minZoom on, styled by the status joined by
   * commune code. ``hatch``: the layer of hatches over low-completeness communes instead. */
  function communeTiles(map, cfg, statusByCode, hatch) {
    function style(properties) {
      var p = statusByCode[properties.commune_code];
      if (!p) return [];  // not in the status: not drawn
      if (hatch) return p.completeness_low ? HATCH_STYLE : [];
      var s = communeStyle(cfg, p);
      s.fill = true;
      return s;
    }
    var layer = L.vectorGrid.protobuf(cfg.byArea.tiles, {
      pane: "overlayPane",
      interactive: !hatch,
      minZoom: cfg.byArea.minZoom,
      rendererFactory: L.svg.tile,
      vectorTileLayerStyles: { communes: style },
    });
    if (hatch) return layer;
    var tooltip = L.tooltip({ sticky: true });
    function status(e) { return statusByCode[e.layer.properties.commune_code]; }
    layer.on("mouseover", function (e) {
      tooltip.setContent(communeTooltip(cfg, status(e))).setLatLng(e.latlng);
      map.openTooltip(tooltip);
    });
    layer.on("mousemove", function (e) { tooltip.setLatLng(e.latlng); });
    layer.on("mouseout", function () { map.closeTooltip(tooltip); });
    layer.on("click", function (e) {
      L.popup().setLatLng(e.latlng).setContent(communePopup(cfg, status(e))).openOn(map);
    });
    return layer;
  }

  /* A district on a map by area. Zoomed out: filled by the status its communes add up to
   * (when they nest in it: cfg.byArea.fill). Zoomed in: not drawn, the communes are (these
   * district lines are simplified for the low zoom, hundreds of metres off at commune zoom). */
  function districtArea(cfg, map, p) {
    var status = !p.n_communes ? "no_data"
      : p.communes_met === p.n_communes ? "met"
      : p.communes_met + p.communes_below > 0 ? "below" : "none";
    var zoomedOut = map.getZoom() < cfg.byArea.minZoom;
    return {
      stroke: zoomedOut,
      fill: zoomedOut && cfg.byArea.fill,
      fillColor: cfg.statusColours[status] || "#ffffff",
      fillOpacity: 0.6,
      color: "#1a1a1a",
      weight: 1,
    };
  }

  /* Leaflet.markercluster, fetched only when a map has more producers than
   * cluster.fromPoints: a first visit to a small map does not pay for it. */
  var clusterPlugin = null;

  function loadClusterPlugin(cluster) {
    if (window.L && L.markerClusterGroup) return Promise.resolve();
    if (clusterPlugin) return clusterPlugin;
    cluster.css.forEach(function (href) {
      var link = document.createElement("link");
      link.rel = "stylesheet";
      link.href = href;
      document.head.appendChild(link);
    });
    clusterPlugin = new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = cluster.js;
      script.onload = function () { resolve(); };
      script.onerror = function () { reject(new Error(cluster.js + ": not loaded")); };
      document.head.appendChild(script);
    });
    return clusterPlugin;
  }

  function showError(map, message) {
    var box = document.getElementById("map-error");
    if (box) {
      box.textContent = message;
      box.hidden = false;
    }
  }

  /* Permalinks: the view lives in the URL (?center=lat,lon&zoom=z&layers=a,b&lang=..),
   * next to the filters the server reads; replaceState keeps it current. */
  var LAYER_KEYS = ["communes", "districts", "labels", "producers", "outlets", "candidates"];
  var HIDDEN_BY_DEFAULT = ["candidates"];

  function shownByDefault(key) {
    return HIDDEN_BY_DEFAULT.indexOf(key) < 0;
  }

  function readView() {
    var params = new URLSearchParams(window.location.search);
    var view = {};
    var centre = (params.get("center") || "").split(",").map(Number);
    var zoom = Number(params.get("zoom"));
    if (centre.length === 2 && centre.every(isFinite) && params.get("zoom") && isFinite(zoom)) {
      view.center = centre;
      view.zoom = zoom;
    }
    if (params.has("layers")) {
      view.layers = params.get("layers").split(",").filter(function (k) {
        return LAYER_KEYS.indexOf(k) >= 0;
      });
    }
    return view;
  }

  function writeView(map, layers) {
    if (!window.history || !window.history.replaceState) return;
    var params = new URLSearchParams(window.location.search);
    var c = map.getCenter();
    params.set("center", c.lat.toFixed(5) + "," + c.lng.toFixed(5));
    params.set("zoom", String(map.getZoom()));
    var keys = LAYER_KEYS.filter(function (k) { return layers[k]; });
    var shown = keys.filter(function (k) { return map.hasLayer(layers[k]); });
    var usual = keys.filter(shownByDefault);
    if (shown.join(",") === usual.join(",")) params.delete("layers");
    else params.set("layers", shown.join(","));
    var lang = document.documentElement.lang;
    if (lang && !params.has("lang")) params.set("lang", lang);
    window.history.replaceState(window.history.state, "",
      window.location.pathname + "?" + params.toString() + window.location.hash);
  }

  function outsideFocus(cfg, p) {
    var focus = cfg.focus || {};
    if (focus.commune) return p.commune_code !== focus.commune;
    if (focus.district) return p.district_code !== focus.district;
    return false;
  }

  function init(map, cfg) {
    var state = { map: map, layers: {} };
    window.ocopMap = state;
    var view = readView();
    // No animation: the page opens on this view (an animated zoom would still be running
    // when the layers arrive, and then reset any zoom made meanwhile).
    if (view.center) map.setView(view.center, view.zoom, { animate: false });
    if (cfg.embed) {  // inside another page: the wheel scrolls that page until the map is clicked
      map.scrollWheelZoom.disable();
      map.once("click", function () { map.scrollWheelZoom.enable(); });
    }
    map.attributionControl.addAttribution(esc(cfg.dataAttribution));

    // A map by area: layer groups that take the communes' vector tiles once the status is in.
    var communes = cfg.byArea ? L.layerGroup() : L.geoJSON(null, {
      style: function (f) { return communeStyle(cfg, f.properties); },
      onEachFeature: function (f, layer) {
        layer.bindTooltip(communeTooltip(cfg, f.properties), { sticky: true });
        layer.bindPopup(communePopup(cfg, f.properties));
      },
    });
    var districts = cfg.byArea
      ? L.geoJSON(null, {
        className: "district-shape district-area",
        style: function (f) { return districtArea(cfg, map, f.properties); },
        onEachFeature: function (f, layer) {
          layer.bindTooltip(districtTooltip(cfg, f.properties), { sticky: true });
        },
      })
      : L.geoJSON(null, {
        interactive: false,
        style: { className: "district-shape", fill: false, color: "#1a1a1a", weight: 2 },
      });
    var hatches = cfg.byArea ? L.layerGroup() : L.geoJSON(null, {
      interactive: false,
      filter: function (f) { return Boolean(f.properties.completeness_low); },
      style: HATCH_STYLE,
    });
    var districtLabels = L.layerGroup();
    var producers = L.layerGroup();  // holds the markers, or a cluster group when many
    var outlets = L.layerGroup();

    var boundaries = boundaryLoads(cfg);
    var loads = [
      cfg.byArea ? boundaries.status : boundaries.communes.then(function (data) {
        communes.addData(data);
        hatches.addData(data);
      }),
      boundaries.districts.then(function (data) {
        districts.addData(data);
        if (cfg.byArea) return;  // hundreds of districts: their own tooltips name them
        data.features.forEach(function (f) {
          var p = f.properties;
          L.marker([p.label_lat, p.label_lon], {
            icon: L.divIcon({ className: "district-label", html: esc(p.district_name), iconSize: null }),
            keyboard: false,
          }).bindTooltip(districtTooltip(cfg, p)).addTo(districtLabels);
        });
      }),
      fetchJson(cfg.urls.producers).then(function (data) {
        var many = data.features.length > cfg.cluster.fromPoints;
        return (many ? loadClusterPlugin(cfg.cluster) : Promise.resolve()).then(function () {
          var target = many
            ? L.markerClusterGroup({ maxClusterRadius: 40, showCoverageOnHover: false })
            : producers;
          data.features.forEach(function (f) {
            var p = f.properties;
            var c = f.geometry.coordinates;
            var colour = cfg.groupColours[p.main_group] || cfg.otherGroupColour;
            L.circleMarker([c[1], c[0]], {
              radius: 7, color: "#222", weight: 1, fillColor: colour, fillOpacity: 0.95,
              className: "producer-marker",
            }).bindPopup(producerPopup(cfg, p)).addTo(target);
          });
          if (many) producers.addLayer(target);
        });
      }),
      fetchJson(cfg.urls.outlets).then(function (data) {
        data.features.forEach(function (f) {
          var p = f.properties;
          var c = f.geometry.coordinates;
          L.marker([c[1], c[0]], { icon: outletIcon(p.kind), title: p.name, alt: p.name })
            .bindPopup(outletPopup(cfg, p)).addTo(outlets);
        });
      }),
    ];

    var byKey = {
      communes: communes, districts: districts, labels: districtLabels, producers: producers,
      outlets: outlets,
    };
    if (cfg.urls.candidates) byKey.candidates = candidateLayer(cfg);
    hatches.addTo(map);
    LAYER_KEYS.forEach(function (k) {
      if (!byKey[k]) return;
      if (view.layers ? view.layers.indexOf(k) >= 0 : shownByDefault(k)) byKey[k].addTo(map);
    });
    map.on("moveend overlayadd overlayremove", function () { writeView(map, byKey); });
    var overlays = {};
    overlays[esc(label(cfg, "layer_communes"))] = communes;
    overlays[esc(label(cfg, "completeness_low"))] = hatches;
    overlays[esc(label(cfg, "layer_districts"))] = districts;
    overlays[esc(label(cfg, "layer_district_labels"))] = districtLabels;
    overlays[esc(label(cfg, "layer_producers"))] = producers;
    overlays[esc(label(cfg, "layer_outlets"))] = outlets;
    if (byKey.candidates) overlays[esc(label(cfg, "layer_candidates"))] = byKey.candidates;
    L.control.layers(null, overlays, { collapsed: true }).addTo(map);
    state.layers = { communes: communes, districts: districts, producers: producers, outlets: outlets,
      candidates: byKey.candidates };

    Promise.all(loads).then(function () {
      var keep = view.center || (cfg.focus && (cfg.focus.district || cfg.focus.commune));
      if (!keep && communes.getLayers().length) map.fitBounds(scoredBounds(communes));
      else if (!keep && cfg.byArea && districts.getLayers().length) {
        // at once: the tiles in view are asked for from this view
        map.fitBounds(districts.getBounds(), { animate: false });
      }
      ensureHatchPattern(map);
      if (cfg.byArea) {
        return boundaries.status.then(function (status) {
          communes.addLayer(communeTiles(map, cfg, status.communes, false));
          hatches.addLayer(communeTiles(map, cfg, status.communes, true));
          map.on("zoomend", function () {
            districts.setStyle(function (f) { return districtArea(cfg, map, f.properties); });
          });
          document.body.setAttribute("data-map-ready", "true");
        });
      }
      document.body.setAttribute("data-map-ready", "true");
    }).catch(function (err) {
      showError(map, label(cfg, "load_error") + " " + err.message);
      document.body.setAttribute("data-map-ready", "error");
    });
  }

  window.OcopMap = { init: init, esc: esc, joinStatus: joinStatus };
})();
