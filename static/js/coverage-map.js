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

  /* Communes and districts: one TopoJSON (shared, quantised arcs) when cfg.urls.topology is
   * set and topojson-client is loaded, else the two GeoJSON layers. */
  function boundaryLoads(cfg) {
    if (!cfg.urls.topology || !window.topojson) {
      return { communes: fetchJson(cfg.urls.communes), districts: fetchJson(cfg.urls.districts) };
    }
    var topology = fetchJson(cfg.urls.topology);
    function layer(name) {
      return topology.then(function (topo) {
        return window.topojson.feature(topo, topo.objects[name]);
      });
    }
    return { communes: layer("communes"), districts: layer("districts") };
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
  var LAYER_KEYS = ["communes", "districts", "labels", "producers", "outlets"];

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
    var shown = LAYER_KEYS.filter(function (k) { return map.hasLayer(layers[k]); });
    if (shown.length === LAYER_KEYS.length) params.delete("layers");
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
    if (view.center) map.setView(view.center, view.zoom);
    if (cfg.embed) {  // inside another page: the wheel scrolls that page until the map is clicked
      map.scrollWheelZoom.disable();
      map.once("click", function () { map.scrollWheelZoom.enable(); });
    }
    map.attributionControl.addAttribution(esc(cfg.dataAttribution));

    var communes = L.geoJSON(null, {
      style: function (f) {
        var noData = f.properties.status === "no_data";
        var outside = outsideFocus(cfg, f.properties);
        return {
          className: "commune-shape status-" + f.properties.status +
            (outside ? " outside-focus" : ""),
          fillColor: cfg.statusColours[f.properties.status] || "#ffffff",
          fillOpacity: outside ? 0.15 : noData ? 0.45 : 0.72,
          color: "#4d4d4d",
          weight: 0.6,
          dashArray: noData ? "3 3" : null,
        };
      },
      onEachFeature: function (f, layer) {
        layer.bindTooltip(communeTooltip(cfg, f.properties), { sticky: true });
        layer.bindPopup(communePopup(cfg, f.properties));
      },
    });
    var districts = L.geoJSON(null, {
      interactive: false,
      style: { className: "district-shape", fill: false, color: "#1a1a1a", weight: 2 },
    });
    var districtLabels = L.layerGroup();
    var producers = L.markerClusterGroup({ maxClusterRadius: 40, showCoverageOnHover: false });
    var outlets = L.layerGroup();

    var boundaries = boundaryLoads(cfg);
    var loads = [
      boundaries.communes.then(function (data) {
        communes.addData(data);
      }),
      boundaries.districts.then(function (data) {
        districts.addData(data);
        data.features.forEach(function (f) {
          var p = f.properties;
          L.marker([p.label_lat, p.label_lon], {
            icon: L.divIcon({ className: "district-label", html: esc(p.district_name), iconSize: null }),
            keyboard: false,
          }).bindTooltip(districtTooltip(cfg, p)).addTo(districtLabels);
        });
      }),
      fetchJson(cfg.urls.producers).then(function (data) {
        data.features.forEach(function (f) {
          var p = f.properties;
          var c = f.geometry.coordinates;
          var colour = cfg.groupColours[p.main_group] || cfg.otherGroupColour;
          L.circleMarker([c[1], c[0]], {
            radius: 7, color: "#222", weight: 1, fillColor: colour, fillOpacity: 0.95,
            className: "producer-marker",
          }).bindPopup(producerPopup(cfg, p)).addTo(producers);
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
    LAYER_KEYS.forEach(function (k) {
      if (!view.layers || view.layers.indexOf(k) >= 0) byKey[k].addTo(map);
    });
    map.on("moveend overlayadd overlayremove", function () { writeView(map, byKey); });
    var overlays = {};
    overlays[esc(label(cfg, "layer_communes"))] = communes;
    overlays[esc(label(cfg, "layer_districts"))] = districts;
    overlays[esc(label(cfg, "layer_district_labels"))] = districtLabels;
    overlays[esc(label(cfg, "layer_producers"))] = producers;
    overlays[esc(label(cfg, "layer_outlets"))] = outlets;
    L.control.layers(null, overlays, { collapsed: true }).addTo(map);
    state.layers = { communes: communes, districts: districts, producers: producers, outlets: outlets };

    Promise.all(loads).then(function () {
      var keep = view.center || (cfg.focus && (cfg.focus.district || cfg.focus.commune));
      if (!keep && communes.getLayers().length) map.fitBounds(scoredBounds(communes));
      document.body.setAttribute("data-map-ready", "true");
    }).catch(function (err) {
      showError(map, label(cfg, "load_error") + " " + err.message);
      document.body.setAttribute("data-map-ready", "error");
    });
  }

  window.OcopMap = { init: init, esc: esc };
})();
