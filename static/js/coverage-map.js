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

  function fetchJson(url) {
    return fetch(url, { credentials: "same-origin" }).then(function (response) {
      if (!response.ok) throw new Error(url + ": HTTP " + response.status);
      return response.json();
    });
  }

  function showError(map, message) {
    var box = document.getElementById("map-error");
    if (box) {
      box.textContent = message;
      box.hidden = false;
    }
  }

  function init(map, cfg) {
    var state = { map: map, layers: {} };
    window.ocopMap = state;
    map.attributionControl.addAttribution(esc(cfg.dataAttribution));

    var communes = L.geoJSON(null, {
      style: function (f) {
        var noData = f.properties.status === "no_data";
        return {
          className: "commune-shape status-" + f.properties.status,
          fillColor: cfg.statusColours[f.properties.status] || "#ffffff",
          fillOpacity: noData ? 0.45 : 0.72,
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

    var loads = [
      fetchJson(cfg.urls.communes).then(function (data) {
        communes.addData(data);
      }),
      fetchJson(cfg.urls.districts).then(function (data) {
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

    communes.addTo(map);
    districts.addTo(map);
    districtLabels.addTo(map);
    producers.addTo(map);
    outlets.addTo(map);
    var overlays = {};
    overlays[esc(label(cfg, "layer_communes"))] = communes;
    overlays[esc(label(cfg, "layer_districts"))] = districts;
    overlays[esc(label(cfg, "layer_district_labels"))] = districtLabels;
    overlays[esc(label(cfg, "layer_producers"))] = producers;
    overlays[esc(label(cfg, "layer_outlets"))] = outlets;
    L.control.layers(null, overlays, { collapsed: true }).addTo(map);
    state.layers = { communes: communes, districts: districts, producers: producers, outlets: outlets };

    Promise.all(loads).then(function () {
      if (communes.getLayers().length) map.fitBounds(communes.getBounds());
      document.body.setAttribute("data-map-ready", "true");
    }).catch(function (err) {
      showError(map, label(cfg, "load_error") + " " + err.message);
      document.body.setAttribute("data-map-ready", "error");
    });
  }

  window.OcopMap = { init: init, esc: esc };
})();
