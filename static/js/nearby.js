/* /nearby: the nearest places selling OCOP products, on a phone first.
 * The position comes from the browser's geolocation, a tap on the map or a search result.
 * Every text that comes from data goes through esc() (OcopMap.esc) before it reaches HTML. */
(function () {
  "use strict";

  var esc = window.OcopMap.esc;
  var cfg = JSON.parse(document.getElementById("nearby-config").textContent);
  var labels = cfg.labels || {};
  var KIND_COLOURS = { centre: "#b2182b", sales_point: "#2166ac", producer: "#1b7837" };

  function label(key, values) {
    var text = labels[key] || key;
    Object.keys(values || {}).forEach(function (name) {
      text = text.split("{" + name + "}").join(String(values[name]));
    });
    return text;
  }

  function stars(n) {
    return n ? new Array(Number(n) + 1).join("\u2605") : "";
  }

  var els = {
    list: document.getElementById("nearby-list"),
    status: document.getElementById("nearby-status"),
    locate: document.getElementById("locate"),
    searchForm: document.getElementById("search-form"),
    searchInput: document.getElementById("search-q"),
    searchBox: document.getElementById("search-results"),
    searchStatus: document.getElementById("search-status"),
    searchList: document.getElementById("search-list"),
    filters: document.getElementById("filter-form"),
    map: document.getElementById("nearby-map"),
  };

  var map = L.map(els.map, { scrollWheelZoom: false, zoomControl: true });
  if (cfg.tileUrl && cfg.tileUrl !== "none") {
    L.tileLayer(cfg.tileUrl, { attribution: esc(cfg.tileAttribution), maxZoom: 19 }).addTo(map);
  }
  map.fitBounds(cfg.bounds);
  var placesLayer = L.layerGroup().addTo(map);
  var positionLayer = L.layerGroup().addTo(map);

  var state = {
    map: map,
    position: null,
    places: [],
    markers: [],
    selected: null,
    request: 0,
  };
  window.nearbyPage = state;

  function setStatus(text, isError) {
    els.status.textContent = text;
    els.status.classList.toggle("error", Boolean(isError));
  }

  function filterParams() {
    var params = new URLSearchParams();
    var kinds = Array.prototype.slice
      .call(els.filters.querySelectorAll("input[name=kind]"))
      .filter(function (box) { return box.checked; })
      .map(function (box) { return box.value; });
    var all = els.filters.querySelectorAll("input[name=kind]").length;
    if (kinds.length && kinds.length < all) params.set("kind", kinds.join(","));
    var group = els.filters.querySelector("[name=group]").value;
    if (group) params.set("group", group);
    var minStars = els.filters.querySelector("[name=min_stars]").value;
    if (minStars) params.set("min_stars", minStars);
    return { params: params, noKind: kinds.length === 0 };
  }

  function rememberInUrl(params) {
    var current = new URLSearchParams(window.location.search);
    var next = new URLSearchParams(params.toString());
    if (current.get("lang")) next.set("lang", current.get("lang"));
    next.delete("limit");
    var url = window.location.pathname + "?" + next.toString();
    window.history.replaceState(null, "", url);
    // The language switch keeps the position and the filters.
    document.querySelectorAll(".lang-switch a[hreflang]").forEach(function (link) {
      var query = new URLSearchParams(next.toString());
      query.set("lang", link.getAttribute("hreflang"));
      link.setAttribute("href", window.location.pathname + "?" + query.toString());
    });
  }

  function sourceText(position) {
    if (position.source === "device") return label("position_from_device");
    if (position.source === "map") return label("position_from_map");
    if (position.source === "search") return label("position_from_search", { name: position.name });
    return label("position_from_link");
  }

  function drawPosition(position) {
    positionLayer.clearLayers();
    L.circleMarker([position.lat, position.lon], {
      radius: 9, color: "#fff", weight: 3, fillColor: "#1a1a1a", fillOpacity: 1,
      className: "visitor-position",
    }).bindTooltip(esc(label("your_position"))).addTo(positionLayer);
  }

  function productsHtml(place) {
    if (!place.products.length) {
      return '<p class="basis">' + esc(label("no_products")) + "</p>";
    }
    var html = "";
    ["own", "operator", "same_commune"].forEach(function (basis) {
      var items = place.products.filter(function (p) { return p.basis === basis; });
      if (!items.length) return;
      html += '<p class="basis">' + esc(label("basis_" + basis)) + ":</p><ul class=\"products\">";
      items.forEach(function (p) {
        // Only a product valid today is shown with its OCOP stars; any other says why not.
        var rating = p.ocop_status === "ocop" && p.stars
          ? '<span aria-label="' + esc(label("stars", { n: p.stars })) + '">' + stars(p.stars) + "</span>"
          : "";
        if (p.status_text) {
          rating += ' <small class="product-status product-status-' + esc(p.ocop_status) + '">(' +
            esc(p.status_text) + ")</small>";
        }
        var by = basis === "same_commune" && p.producer_name
          ? " <small>" + esc(label("by")) + " " + esc(p.producer_name) + "</small>"
          : "";
        html += '<li data-product-id="' + esc(p.product_id) + '" data-ocop-status="' +
          esc(p.ocop_status) + '">' + esc(p.name) + " " + rating + by + "</li>";
      });
      html += "</ul>";
    });
    return html;
  }

  function approximateText(place) {
    return label(place.location_precision === "district" ? "approximate_district" : "approximate");
  }

  function placeHtml(place, i) {
    var meta = esc(label("kind_" + place.kind));
    if (place.status && place.status !== "open") {
      meta += " · <strong>" + esc(label("status_" + place.status)) + "</strong>";
    }
    var where = [place.commune_name, place.district_name].filter(Boolean).map(esc).join(", ");
    var html =
      '<button type="button" class="place-main" aria-label="' +
      esc((i + 1) + ". " + place.name + ", " + place.distance_text + ". " + label("show_on_map")) + '">' +
      '<span class="place-number kind-' + esc(place.kind) + '" aria-hidden="true">' + (i + 1) + "</span>" +
      '<span class="place-name">' + esc(place.name) + "</span>" +
      '<span class="place-distance">' + esc(place.distance_text) + "</span></button>";
    html += '<p class="place-meta">' + meta + "</p>";
    if (place.address) html += '<p class="address">' + esc(place.address) + "</p>";
    if (where) html += '<p class="where">' + where + "</p>";
    if (place.operator) html += '<p class="operator">' + esc(label("operator")) + " " + esc(place.operator) + "</p>";
    if (place.runs_outlets && place.runs_outlets.length) {
      html += '<p class="runs">' + esc(label("runs_outlet")) + " " +
        place.runs_outlets.map(function (o) { return esc(o.name); }).join(", ") + "</p>";
    }
    if (place.approximate) html += '<p class="approximate">' + esc(approximateText(place)) + "</p>";
    if (place.illustrative) html += '<p class="approximate">' + esc(label("illustrative")) + "</p>";
    html += productsHtml(place);
    html += '<p class="links"><a class="osm-directions" target="_blank" rel="noopener" href="' +
      esc(place.directions.osm) + '">' + esc(label("directions")) + "</a>" +
      '<a class="geo-link" href="' + esc(place.directions.geo) + '">' + esc(label("geo")) + "</a>";
    if (place.directions.osm_search) {
      html += '<a class="osm-search" target="_blank" rel="noopener" href="' +
        esc(place.directions.osm_search) + '">' + esc(label("find_address")) + "</a>";
    }
    html += "</p>";
    return html;
  }

  function markerIcon(place, i, selected) {
    return L.divIcon({
      className: "nearby-marker kind-" + place.kind + (selected ? " selected" : ""),
      html: String(i + 1),
      iconSize: [28, 28],
    });
  }

  function selectPlace(i, fromMap) {
    var place = state.places[i];
    if (!place) return;
    if (state.selected !== null && state.markers[state.selected]) {
      var old = state.places[state.selected];
      state.markers[state.selected].setIcon(markerIcon(old, state.selected, false));
      var oldItem = els.list.children[state.selected];
      if (oldItem) oldItem.classList.remove("selected");
    }
    state.selected = i;
    state.markers[i].setIcon(markerIcon(place, i, true));
    var item = els.list.children[i];
    item.classList.add("selected");
    if (fromMap) {
      item.scrollIntoView({ block: "nearest" });
      return;
    }
    map.setView([place.lat, place.lon], Math.max(map.getZoom(), 14));
    state.markers[i].openPopup();
    var box = els.map.getBoundingClientRect();
    if (box.top < 0 || box.bottom > window.innerHeight) {
      els.map.scrollIntoView({ block: "nearest" });
    }
  }

  function render(places, position) {
    state.places = places;
    state.markers = [];
    state.selected = null;
    placesLayer.clearLayers();
    els.list.innerHTML = "";
    places.forEach(function (place, i) {
      var li = document.createElement("li");
      li.className = "place";
      li.setAttribute("data-id", place.id);
      li.setAttribute("data-distance-m", place.distance_m);
      li.innerHTML = placeHtml(place, i);
      li.querySelector(".place-main").addEventListener("click", function () { selectPlace(i, false); });
      els.list.appendChild(li);
      var marker = L.marker([place.lat, place.lon], {
        icon: markerIcon(place, i, false), title: place.name, alt: place.name, keyboard: false,
      }).bindPopup(
        "<strong>" + esc(place.name) + "</strong><br>" + esc(place.distance_text) +
        (place.approximate ? '<br><em class="approximate">' + esc(approximateText(place)) + "</em>" : "")
      );
      marker.on("click", function () { selectPlace(i, true); });
      marker.addTo(placesLayer);
      state.markers.push(marker);
    });
    var points = places.map(function (p) { return [p.lat, p.lon]; });
    points.push([position.lat, position.lon]);
    // Not animated: Leaflet drops a setView made while a zoom animation runs, so a place tapped
    // right after the list appears would not be centred.
    if (points.length > 1) {
      map.fitBounds(points, { padding: [24, 24], maxZoom: 15, animate: false });
    } else {
      map.setView(points[0], 13, { animate: false });
    }
    var text = places.length ? label("count", { n: places.length }) : label("none_found");
    setStatus(text + " · " + sourceText(position));
    document.body.setAttribute("data-nearby-ready", "true");
  }

  function load() {
    var position = state.position;
    if (!position) return;
    drawPosition(position);
    var filter = filterParams();
    var params = filter.params;
    params.set("lat", position.lat.toFixed(6));
    params.set("lon", position.lon.toFixed(6));
    rememberInUrl(params);
    if (filter.noKind) {
      render([], position);
      return;
    }
    params.set("limit", String(cfg.limit));
    params.set("lang", cfg.lang);
    var ticket = ++state.request;
    document.body.setAttribute("data-nearby-ready", "loading");
    setStatus(label("loading"));
    fetch(cfg.nearbyUrl + "?" + params.toString(), { credentials: "same-origin" })
      .then(function (response) {
        return response.json().then(function (body) {
          if (!response.ok) throw new Error(body.message || "HTTP " + response.status);
          return body;
        });
      })
      .then(function (places) {
        if (ticket === state.request) render(places, position);
      })
      .catch(function (err) {
        if (ticket !== state.request) return;
        setStatus(label("load_error") + " " + err.message, true);
        document.body.setAttribute("data-nearby-ready", "error");
      });
  }

  function setPosition(lat, lon, source, name) {
    state.position = { lat: lat, lon: lon, source: source, name: name || "" };
    load();
  }

  function locate() {
    if (!navigator.geolocation) {
      setStatus(label("geo_unsupported"), true);
      return;
    }
    setStatus(label("locating"));
    navigator.geolocation.getCurrentPosition(
      function (pos) { setPosition(pos.coords.latitude, pos.coords.longitude, "device"); },
      function (err) {
        setStatus(label(err.code === 1 ? "geo_denied" : "geo_failed"), true);
      },
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 0 }
    );
  }

  function searchResultText(hit) {
    var ocop = hit.type !== "product" || hit.ocop_status === "ocop";
    var parts = [label(ocop ? "type_" + hit.type : "type_product_other")];
    if (hit.type === "commune" && hit.edition === "2025") parts.push(label("edition_2025"));
    if (hit.district_name && hit.type !== "district") parts.push(hit.district_name);
    if (hit.type === "product") {
      if (ocop && hit.stars) parts.push(stars(hit.stars));
      if (hit.status_text) parts.push(hit.status_text);
      if (hit.producer_name) parts.push(hit.producer_name);
    }
    if (!hit.location) parts.push(label("no_location"));
    return parts.map(esc).join(" · ");
  }

  function search(text) {
    var params = new URLSearchParams({ q: text, limit: "10", lang: cfg.lang });
    els.searchBox.hidden = false;
    els.searchList.innerHTML = "";
    els.searchStatus.textContent = label("searching");
    fetch(cfg.searchUrl + "?" + params.toString(), { credentials: "same-origin" })
      .then(function (response) {
        return response.json().then(function (body) {
          if (!response.ok) throw new Error(body.message || "HTTP " + response.status);
          return body;
        });
      })
      .then(function (hits) {
        els.searchStatus.textContent = hits.length
          ? label("search_results", { n: hits.length })
          : label("search_none");
        hits.forEach(function (hit) {
          var li = document.createElement("li");
          var button = document.createElement("button");
          button.type = "button";
          button.className = "search-hit";
          button.setAttribute("data-type", hit.type);
          button.innerHTML = esc(hit.name) + '<span class="type">' + searchResultText(hit) + "</span>";
          if (!hit.location) {
            button.disabled = true;
          } else {
            button.addEventListener("click", function () {
              els.searchBox.hidden = true;
              setPosition(hit.location.lat, hit.location.lon, "search", hit.name);
              els.status.setAttribute("tabindex", "-1");
              els.status.focus();
            });
          }
          li.appendChild(button);
          els.searchList.appendChild(li);
        });
      })
      .catch(function (err) {
        els.searchStatus.textContent = label("load_error") + " " + err.message;
      });
  }

  els.locate.addEventListener("click", locate);
  map.on("click", function (e) {
    setPosition(e.latlng.lat, L.Util.wrapNum(e.latlng.lng, [-180, 180], true), "map");
  });
  els.filters.addEventListener("change", load);
  els.filters.addEventListener("submit", function (e) { e.preventDefault(); load(); });
  els.searchForm.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = els.searchInput.value.trim();
    if (text) search(text);
  });

  if (cfg.start) {
    setPosition(cfg.start.lat, cfg.start.lon, "link");
  } else if (navigator.permissions && navigator.geolocation) {
    navigator.permissions.query({ name: "geolocation" }).then(function (result) {
      if (result.state === "granted" && !state.position) locate();
    }).catch(function () {});
  }
  var initialQuery = new URLSearchParams(window.location.search).get("q");
  if (initialQuery) {
    els.searchInput.value = initialQuery;
    search(initialQuery);
  }
  document.body.setAttribute("data-nearby-page", "ready");
})();
