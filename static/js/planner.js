/* OCOP planner workbench: filters in the URL, map + commune table + district drill-down,
 * commune details, progress chart and download links.
 * Every text that comes from data goes through esc() (OcopMap.esc) before it reaches HTML. */
(function () {
  "use strict";

  var esc = window.OcopMap.esc;
  var cfg = JSON.parse(document.getElementById("planner-config").textContent);
  var L_ = cfg.labels;
  var COVERAGE_KEYS = ["edition", "target", "min_stars", "as_of", "group", "group_taxonomy",
    "producer_type"];
  var TABLE_KEYS = ["district", "status", "q", "sort"];
  var ALL_KEYS = COVERAGE_KEYS.concat(TABLE_KEYS, ["commune"]);
  var STATUS_RANK = { none: 0, below: 1, met: 2, no_data: 3 };
  var TEXT_FIELDS = { commune_code: 1, commune_full_name: 1, district_code: 1, district_name: 1,
    former_province: 1 };
  var LIST_FIELDS = { groups: 1, product_names: 1 };
  var TABLE_COLUMNS = {
    "2020": ["commune_full_name", "district_name", "n_products", "target", "missing", "status",
      "groups", "n_candidates"],
    "2025": ["commune_full_name", "former_province", "n_products", "target", "missing", "status",
      "groups", "n_candidates"],
  };
  var COLUMN_LABELS = { commune_full_name: "commune", district_name: "district",
    former_province: "former_province", n_products: "n_products", target: "target",
    missing: "missing", status: "status", groups: "groups", n_candidates: "n_candidates" };
  var NUMERIC_COLUMNS = { n_products: 1, target: 1, missing: 1, n_candidates: 1 };

  /* Search key: the same rule as normalize_text in geoapp/domain/names.py (lower case, "đ" ->
   * "d", diacritics dropped by NFD decomposition, punctuation and spaces collapsed). Keep the
   * two in step. */
  function normalizeText(text) {
    if (text === null || text === undefined) return "";
    return String(text).normalize("NFC").toLowerCase().replace(/đ/g, "d")
      .normalize("NFD").replace(/[\u0300-\u036f]/g, "")
      .replace(/[^\p{L}\p{N}]+/gu, " ").trim();
  }

  // -- state <-> URL ----------------------------------------------------------------------------

  function stateFromUrl() {
    var params = new URLSearchParams(window.location.search);
    var state = {};
    ALL_KEYS.forEach(function (key) {
      var value = params.get(key);
      if (value !== null && value.trim() !== "") state[key] = value.trim();
    });
    if (!state.edition) state.edition = cfg.defaults.edition;
    return state;
  }

  function queryOf(state, keys, explicitStatus) {
    var params = new URLSearchParams();
    keys.forEach(function (key) {
      var value = state[key];
      if (key === "status") {
        value = value || cfg.defaults.status;
        if (!explicitStatus && value === cfg.defaults.status) return;
      } else if (key !== "edition" && value !== undefined && String(value) === defaultOf(key)) {
        return;
      }
      if (value !== undefined && value !== null && value !== "") params.set(key, value);
    });
    return params.toString();
  }

  function pageUrl(state) {
    var query = queryOf(state, ALL_KEYS, false);
    return window.location.pathname + (query ? "?" + query : "");
  }

  function statuses(state) {
    var value = state.status || cfg.defaults.status;
    return value === "all" ? null : value.split(",");
  }

  // -- data ------------------------------------------------------------------------------------

  var cache = {};

  function fetchJson(url) {
    if (cache[url]) return cache[url];
    var promise = fetch(url, { credentials: "same-origin" }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (!response.ok) {
          delete cache[url];
          throw new Error(body.message || url + ": HTTP " + response.status);
        }
        return body;
      });
    });
    cache[url] = promise;
    return promise;
  }

  function fetchText(url) {
    return fetch(url, { credentials: "same-origin" }).then(function (response) {
      if (!response.ok) {
        return response.json().catch(function () { return {}; }).then(function (body) {
          throw new Error(body.message || url + ": HTTP " + response.status);
        });
      }
      return response.text();
    });
  }

  function showMessage(text) {
    var box = document.getElementById("planner-message");
    box.textContent = text || "";
    box.hidden = !text;
  }

  // -- map -------------------------------------------------------------------------------------

  var map = L.map("planner-map", { zoomControl: true, preferCanvas: false });
  map.fitBounds([[14.95, 107.2], [16.1, 108.75]]);
  if (cfg.tileUrl && cfg.tileUrl !== "none") {
    L.tileLayer(cfg.tileUrl, { attribution: esc(cfg.tileAttribution) }).addTo(map);
  }
  L.control.scale().addTo(map);
  map.attributionControl.addAttribution(esc(cfg.dataAttribution));
  var communeLayer = L.geoJSON(null, { style: communeStyle, onEachFeature: bindCommune });
  var districtLayer = L.geoJSON(null, {
    interactive: false,
    style: { className: "district-shape", fill: false, color: "#1a1a1a", weight: 2 },
  });
  communeLayer.addTo(map);
  districtLayer.addTo(map);
  var shapes = {};        // commune code -> Leaflet layer
  var districtShapes = {}; // district code -> Leaflet layer
  var geometryEdition = null;
  var coverage = null;    // the /api/coverage answer of the current coverage filters
  var rowsByCode = {};
  var state = {};
  var generation = 0;

  function communeStyle(feature) {
    var code = feature.properties.commune_code;
    var row = rowsByCode[code];
    var status = row ? row.status : "no_data";
    var selected = state.commune === code;
    var outside = state.district && row && row.district_code !== state.district;
    return {
      className: "commune-shape",  // status and selection: data-status, .selected (below)
      fillColor: cfg.statusColours[status] || "#ffffff",
      fillOpacity: outside ? 0.25 : (status === "no_data" ? 0.45 : 0.75),
      color: selected ? "#000000" : "#4d4d4d",
      weight: selected ? 3.5 : 0.6,
      dashArray: status === "no_data" ? "3 3" : null,
    };
  }

  function tooltipOf(code) {
    var row = rowsByCode[code];
    if (!row) return "";
    var html = "<strong>" + esc(row.commune_full_name) + "</strong>";
    if (row.district_name) html += "<br>" + esc(row.district_name);
    if (row.status === "no_data") return html + "<br>" + esc(L_.status_no_data);
    html += "<br>" + esc(L_.n_products) + ": " + esc(row.n_products) + " / " + esc(row.target);
    html += "<br>" + esc(L_["status_" + row.status]);
    return html;
  }

  function bindCommune(feature, layer) {
    var code = feature.properties.commune_code;
    shapes[code] = layer;
    layer.bindTooltip(function () { return tooltipOf(code); }, { sticky: true });
    layer.on("click", function () { selectCommune(code, { zoom: false, scroll: true }); });
  }

  function loadGeometry(edition) {
    if (geometryEdition === edition) return Promise.resolve();
    var communes = fetchJson(cfg.urls.communes + "?edition=" + encodeURIComponent(edition));
    var districts = fetchJson(cfg.urls.districts);
    return Promise.all([communes, districts]).then(function (answers) {
      communeLayer.clearLayers();
      districtLayer.clearLayers();
      shapes = {};
      districtShapes = {};
      communeLayer.addData(answers[0]);
      districtLayer.addData(answers[1]);
      districtLayer.eachLayer(function (layer) {
        districtShapes[layer.feature.properties.district_code] = layer;
      });
      geometryEdition = edition;
    });
  }

  /* Fit the map to the open commune, else the chosen district, else everything; resolves
   * when the map has stopped moving. */
  function zoomToView() {
    var bounds = null;
    var options = {};
    if (state.commune && shapes[state.commune]) {
      bounds = shapes[state.commune].getBounds();
      options = { maxZoom: 13, padding: [20, 20] };
    } else if (state.district && districtShapes[state.district] && state.edition === "2020") {
      bounds = districtShapes[state.district].getBounds();
      options = { padding: [10, 10] };
    } else if (communeLayer.getLayers().length) {
      bounds = communeLayer.getBounds();
    }
    if (!bounds) return Promise.resolve();
    return new Promise(function (resolve) {
      map.once("moveend", function () { resolve(); });
      setTimeout(resolve, 2000);
      map.fitBounds(bounds, options);
    });
  }

  // -- tables ----------------------------------------------------------------------------------

  function compareText(a, b) {
    return a < b ? -1 : a > b ? 1 : 0;
  }

  /* The same order as geoapp.services.planner.sort_rows. */
  function sortRows(rows, sort) {
    var copy = rows.slice();
    if (!sort) {
      return copy.sort(function (a, b) {
        return (STATUS_RANK[a.status] - STATUS_RANK[b.status]) ||
          compareText(normalizeText(a.district_name || a.former_province),
            normalizeText(b.district_name || b.former_province)) ||
          compareText(normalizeText(a.commune_full_name), normalizeText(b.commune_full_name)) ||
          compareText(a.commune_code, b.commune_code);
      });
    }
    var descending = sort.charAt(0) === "-";
    var column = sort.replace(/^-/, "");
    function key(row) {
      var value = row[column];
      if (column === "status") return STATUS_RANK[value];
      if (LIST_FIELDS[column]) return normalizeText((value || []).join("; "));
      if (TEXT_FIELDS[column]) return normalizeText(value);
      return value === null || value === undefined ? null : Number(value);
    }
    var present = copy.filter(function (r) { return key(r) !== null; });
    var absent = copy.filter(function (r) { return key(r) === null; });
    present.sort(function (a, b) {
      var order = compareText(key(a), key(b));
      return (descending ? -order : order) || compareText(a.commune_code, b.commune_code);
    });
    absent.sort(function (a, b) { return compareText(a.commune_code, b.commune_code); });
    return present.concat(absent);
  }

  function visibleRows() {
    var wanted = statuses(state);
    var words = normalizeText(state.q).split(" ").filter(Boolean);
    var rows = coverage.communes.filter(function (row) {
      if (state.district && row.district_code !== state.district) return false;
      if (wanted && wanted.indexOf(row.status) < 0) return false;
      if (words.length) {
        var key = normalizeText([row.commune_code, row.commune_full_name, row.district_name,
          row.former_province].filter(Boolean).join(" "));
        for (var i = 0; i < words.length; i++) if (key.indexOf(words[i]) < 0) return false;
      }
      return true;
    });
    return sortRows(rows, state.sort);
  }

  function renderCommuneHead() {
    var head = document.querySelector("#commune-table thead tr");
    var columns = TABLE_COLUMNS[state.edition];
    var column = (state.sort || "").replace(/^-/, "");
    var descending = (state.sort || "").charAt(0) === "-";
    head.innerHTML = columns.map(function (name) {
      var sorted = name === column ? (descending ? "descending" : "ascending") : "none";
      return '<th scope="col" aria-sort="' + sorted + '"><button type="button" class="sort" ' +
        'data-column="' + esc(name) + '">' + esc(L_[COLUMN_LABELS[name]]) +
        (sorted === "ascending" ? " ▲" : sorted === "descending" ? " ▼" : "") + "</button></th>";
    }).join("");
  }

  function cell(value) {
    return value === null || value === undefined ? "–" : esc(value);
  }

  function renderCommuneTable() {
    renderCommuneHead();
    var rows = visibleRows();
    var columns = TABLE_COLUMNS[state.edition];
    var body = document.querySelector("#commune-table tbody");
    body.innerHTML = rows.map(function (row) {
      var cells = columns.map(function (name) {
        if (name === "status") {
          return '<td><span class="swatch" style="background:' +
            esc(cfg.statusColours[row.status]) + '"></span> ' + esc(L_["status_" + row.status]) +
            "</td>";
        }
        if (name === "groups") return "<td>" + esc((row.groups || []).join(", ")) + "</td>";
        if (name === "n_candidates") {
          // Products in the pipeline: a column of their own, never part of the coverage.
          return '<td class="num candidates">' + (row.n_candidates ? esc(row.n_candidates) : "–") +
            "</td>";
        }
        var numeric = NUMERIC_COLUMNS[name] === 1;
        return "<td" + (numeric ? ' class="num"' : "") + ">" + cell(row[name]) + "</td>";
      });
      var selected = row.commune_code === state.commune;
      return '<tr tabindex="0" data-code="' + esc(row.commune_code) + '" data-status="' +
        esc(row.status) + '"' +
        (selected ? ' class="selected" aria-selected="true"' : "") + ">" + cells.join("") +
        "</tr>";
    }).join("");
    document.getElementById("commune-empty").hidden = rows.length > 0;
    document.getElementById("commune-count").textContent =
      "(" + rows.length + " " + L_.of + " " + coverage.communes.length + " " + L_.rows + ")";
  }

  function renderDistrictTable() {
    var section = document.getElementById("district-section");
    section.hidden = state.edition !== "2020";
    var body = document.querySelector("#district-table tbody");
    var allRow = '<tr tabindex="0" data-district=""' + (state.district ? "" : ' class="selected"') +
      '><td colspan="8"><em>' + esc(L_.all_districts) + "</em></td></tr>";
    body.innerHTML = allRow + coverage.districts.map(function (d) {
      var selected = d.district_code === state.district;
      return '<tr tabindex="0" data-district="' + esc(d.district_code) + '"' +
        (selected ? ' class="selected" aria-selected="true"' : "") + "><td>" +
        esc(d.district_name) + "</td><td class=\"num\">" + esc(d.n_products) +
        (d.n_products_district_only ? ' <small title="' + esc(L_.district_only) + '">(' +
          esc(d.n_products_district_only) + ")</small>" : "") +
        '</td><td class="num">' + esc(d.communes_met) + '</td><td class="num">' +
        esc(d.communes_below) + '</td><td class="num">' + esc(d.communes_none) +
        '</td><td class="num">' + esc(Math.round(d.share_met * 100)) + "%</td>" +
        namedCell(d) +
        '<td class="num candidates">' + (d.n_candidates ? esc(d.n_candidates) : "–") +
        (d.n_candidates_district_only ? ' <small title="' + esc(L_.candidates_district_only
          .replace("{n}", d.n_candidates_district_only)) + '">(' +
          esc(d.n_candidates_district_only) + ")</small>" : "") + "</td></tr>";
    }).join("");
  }

  /* Products named here of the district's published total ("21 / 27"), marked when low:
   * there "no product recorded" may well not mean "no product". */
  function namedCell(d) {
    var published = d.n_published === null || d.n_published === undefined ? "–" : d.n_published;
    var low = d.completeness_low ? ' class="num completeness-low" title="' +
      esc(L_.completeness_low) + '"' : ' class="num"';
    return "<td" + low + ">" + esc(d.n_named) + " / " + esc(published) + "</td>";
  }

  function figure(id, label, value) {
    return '<div id="' + id + '"><dt>' + esc(label) + "</dt><dd>" + esc(value) + "</dd></div>";
  }

  function renderFigures() {
    var p = coverage.province;
    var html = figure("figure-met", L_.status_met, p.communes_met + " / " + p.communes + " (" +
      Math.round(p.share_met * 100) + "%)");
    html += figure("figure-below", L_.status_below, p.communes_below);
    html += figure("figure-none", L_.status_none, p.communes_none);
    html += figure("figure-products", L_.products, p.products_counted);
    if (coverage.district) {
      var d = coverage.district;
      html += figure("figure-district", d.district_name, L_.district_figure
        .replace("{products}", d.n_products).replace("{met}", d.communes_met)
        .replace("{communes}", d.n_communes));
    }
    document.getElementById("planner-figures").innerHTML = html;
  }

  // -- commune details -------------------------------------------------------------------------

  function listOrNone(items, render) {
    if (!items || !items.length) return "<p>" + esc(L_.none_listed) + "</p>";
    return "<ul>" + items.map(function (item) { return "<li>" + render(item) + "</li>"; })
      .join("") + "</ul>";
  }

  function communeLink(edition, row) {
    var next = { edition: edition, commune: row.commune_code };
    ["target", "min_stars", "as_of", "producer_type"].forEach(function (k) {
      if (state[k]) next[k] = state[k];
    });
    return '<a href="' + esc(pageUrl(next)) + '">' + esc(row.commune_full_name) + "</a> (" +
      esc(row.commune_code) + (row.district_name ? ", " + esc(row.district_name) : "") + ")";
  }

  function renderDetail(detail) {
    var box = document.getElementById("commune-detail");
    var c = detail.commune;
    var html = '<button type="button" class="close" aria-label="' + esc(L_.close) + '">×</button>';
    html += "<h2>" + esc(c.commune_full_name) + " <small>" + esc(c.commune_code) + "</small></h2>";
    html += "<p>" + esc(c.district_name || c.former_province || "") + " · " +
      esc(L_["status_" + c.status]);
    if (c.status !== "no_data") {
      html += " · " + esc(L_.n_products) + " " + esc(c.n_products) + " / " + esc(c.target) +
        (c.missing ? " · " + esc(L_.missing) + " " + esc(c.missing) : "");
    }
    html += "</p><h3>" + esc(L_.products) + "</h3>";
    if (detail.products.length) {
      html += '<table class="data-table detail-products"><tbody>' +
        detail.products.map(function (p) {
          var stars = p.stars ? new Array(Number(p.stars) + 1).join("★") : "–";
          return '<tr class="' + (p.counted ? "counted" : "not-counted") + '"><td>' +
            esc(p.name) + "<br><small>" + esc(p.group || "") + "</small></td><td>" + esc(stars) +
            "</td><td>" + esc(L_.year) + " " + cell(p.recognition_year) + "<br><small>" +
            esc(L_.expires) + " " + cell(p.certificate_expiry) + "</small></td><td>" +
            esc(p.producer_name || L_.producer_not_stated) + "</td><td>" +
            esc(p.counted ? L_.counted : L_.not_counted + (p.reason ? ": " + p.reason : "")) +
            "</td></tr>";
        }).join("") + "</tbody></table>";
    } else {
      html += "<p>" + esc(L_.none_listed) + "</p>";
    }
    html += '<h3 class="candidates-title">' + esc(L_.n_candidates) + "</h3>" +
      '<p class="note">' + esc(L_.candidates_note) + "</p>" +
      listOrNone(detail.candidates, function (c) {
        return esc(c.name) + (c.stars ? " · " + esc(c.stars) : "") +
          (c.producer ? "<br><small>" + esc(c.producer) + "</small>" : "") +
          (c.decision ? "<br><small>" + esc(c.decision) + "</small>" : "") +
          " <small>[" + esc(c.source_ids || "") + "]</small>";
      });
    html += "<h3>" + esc(L_.producers) + "</h3>" + listOrNone(detail.producers, function (p) {
      return esc(p.name || L_.producer_not_stated) + " · " + esc(L_["type_" + p.producer_type]) +
        (p.location_precision === "district" ? " · <em>" + esc(L_.approximate) + "</em>" : "");
    });
    html += "<h3>" + esc(L_.outlets) + "</h3>" + listOrNone(detail.outlets, function (o) {
      return esc(o.name) + " · " + esc(L_["kind_" + o.kind]) +
        (o.address ? "<br><small>" + esc(o.address) + "</small>" : "");
    });
    if (detail.edition === "2020") {
      html += "<h3>" + esc(L_.successor) + "</h3>" + listOrNone(detail.successors, function (r) {
        return communeLink("2025", r);
      });
    } else {
      html += "<h3>" + esc(L_.predecessors) + "</h3>" +
        listOrNone(detail.predecessors, function (r) { return communeLink("2020", r); });
    }
    box.innerHTML = html;
    box.hidden = false;
    box.setAttribute("data-code", c.commune_code);
  }

  function loadDetail(gen) {
    var box = document.getElementById("commune-detail");
    if (!state.commune) {
      box.hidden = true;
      box.removeAttribute("data-code");
      return Promise.resolve();
    }
    var url = cfg.urls.commune.replace("CODE", encodeURIComponent(state.commune)) + "?" +
      queryOf(state, COVERAGE_KEYS, true);
    return fetchJson(url).then(function (detail) {
      if (gen === generation) renderDetail(detail);
    });
  }

  // -- progress --------------------------------------------------------------------------------

  function progressRows(progress) {
    return progress.years.map(function (year, i) {
      return "<tr><td>" + cell(year) + "</td><td>" + cell(progress.dates[i]) +
        '</td><td class="num">' + cell(progress.communes_met[i]) + " / " +
        cell(progress.n_communes) + '</td><td class="num">' + cell(progress.products_counted[i]) +
        '</td><td class="num">' + cell(progress.five_star_counted[i]) + '</td><td class="num">' +
        cell(progress.new[i]) + "</td></tr>";
    }).join("");
  }

  function publishedRows(progress) {
    return progress.published.map(function (row) {
      var at = progress.years.indexOf(row.year);
      return "<tr><td>" + esc(row.area) + "</td><td>" + esc(row.as_of) + "</td><td>" +
        esc(row.measure) + ": " + esc(row.value) + '</td><td class="num">' + cell(row.number) +
        '</td><td class="num">' + cell(at < 0 ? null : progress.products_counted[at]) +
        "</td><td>" + esc(row.source_ids) + "</td></tr>";
    }).join("");
  }

  function publishedOtherRows(progress) {
    // The value as published, not a number read from it: these are not totals.
    return progress.published_other.map(function (row) {
      return "<tr><td>" + esc(row.area) + "</td><td>" + esc(row.as_of) + "</td><td>" +
        esc(row.measure) + "</td><td>" + esc(row.value) + "</td><td>" + esc(row.source_ids) +
        "</td></tr>";
    }).join("");
  }

  function loadProgress(gen) {
    var query = queryOf(state, COVERAGE_KEYS.concat(["district"]), true);
    var chart = fetchText(cfg.urls.chart + "?" + query).then(function (svg) {
      if (gen === generation) document.getElementById("progress-chart").innerHTML = svg;
    });
    var table = fetchJson(cfg.urls.progress + "?" + query).then(function (progress) {
      if (gen !== generation) return;
      document.querySelector("#progress-table tbody").innerHTML = progressRows(progress);
      document.querySelector("#published-table tbody").innerHTML = publishedRows(progress);
      document.querySelector("#published-other-table tbody").innerHTML =
        publishedOtherRows(progress);
      document.getElementById("published-other").hidden = !progress.published_other.length;
      document.getElementById("progress-note").textContent = progress.undated
        ? L_.undated_note.replace("{n}", progress.undated) : "";
    });
    return Promise.all([chart, table]);
  }

  // -- downloads -------------------------------------------------------------------------------

  function renderDownloads() {
    var query = queryOf(state, COVERAGE_KEYS.concat(TABLE_KEYS), true);
    document.querySelectorAll("#downloads a[data-format]").forEach(function (link) {
      link.href = cfg.urls.download.replace("FMT", link.getAttribute("data-format")) + "?" +
        query;
    });
  }

  // -- form ------------------------------------------------------------------------------------

  var form = document.getElementById("planner-filters");

  function fillGroups() {
    var select = form.elements.group;
    var groups = cfg.groups[state.group_taxonomy || "2023"] || [];
    var first = select.options[0].outerHTML;
    select.innerHTML = first + groups.map(function (g) {
      return '<option value="' + esc(g) + '">' + esc(g) + "</option>";
    }).join("");
  }

  function defaultOf(key) {
    return cfg.defaults[key] === undefined ? "" : String(cfg.defaults[key]);
  }

  function syncForm() {
    fillGroups();
    COVERAGE_KEYS.concat(["district", "status", "q"]).forEach(function (key) {
      var field = form.elements[key];
      if (!field) return;
      var value = state[key] || defaultOf(key);
      if (field.tagName === "SELECT" &&
          !Array.prototype.some.call(field.options, function (o) { return o.value === value; })) {
        return;  // a value the form does not offer (e.g. min_stars=1 typed in the address)
      }
      field.value = value;
    });
    form.elements.district.disabled = state.edition !== "2020";
  }

  function readForm(changed) {
    var next = Object.assign({}, state);
    COVERAGE_KEYS.concat(["district", "status", "q"]).forEach(function (key) {
      var field = form.elements[key];
      if (!field) return;
      var value = field.disabled ? "" : String(field.value || "").trim();
      if (value && (value !== defaultOf(key) || key === "edition")) next[key] = value;
      else delete next[key];
    });
    if (changed === "group_taxonomy") delete next.group;
    if (changed === "edition") {
      delete next.commune;
      delete next.district;
      delete next.sort;
    }
    if (changed === "district") delete next.commune;
    return next;
  }

  // -- rendering a state -----------------------------------------------------------------------

  function setState(next, how, zoom) {
    var before = state;
    state = next;
    var url = pageUrl(state);
    if (how === "push" && url !== window.location.pathname + window.location.search) {
      history.pushState(null, "", url);
    } else if (how === "replace") {
      history.replaceState(null, "", url);
    }
    return render(before, zoom !== false);
  }

  function render(before, zoom) {
    var gen = ++generation;
    document.body.setAttribute("data-planner-ready", "loading");
    var coverageUrl = cfg.urls.coverage + "?" + queryOf(state, COVERAGE_KEYS, true);
    return Promise.all([loadGeometry(state.edition), fetchJson(coverageUrl)])
      .then(function (answers) {
        if (gen !== generation) return null;
        coverage = answers[1];
        rowsByCode = {};
        coverage.communes.forEach(function (row) { rowsByCode[row.commune_code] = row; });
        if (state.commune && !rowsByCode[state.commune]) delete state.commune;
        coverage.district = null;
        (coverage.districts || []).forEach(function (d) {
          if (d.district_code === state.district) coverage.district = d;
        });
        showMessage("");
        communeLayer.setStyle(communeStyle);
        Object.keys(shapes).forEach(function (code) {
          var element = shapes[code].getElement();
          if (!element) return;
          var row = rowsByCode[code];
          element.setAttribute("data-code", code);
          element.setAttribute("data-status", row ? row.status : "no_data");
          element.classList.toggle("selected", code === state.commune);
        });
        if (state.commune && shapes[state.commune]) shapes[state.commune].bringToFront();
        renderFigures();
        renderDistrictTable();
        renderCommuneTable();
        renderDownloads();
        syncForm();
        var closedOnly = before && before.commune && !state.commune &&
          state.district === before.district && state.edition === before.edition;
        var moved = !before || !before.edition || before.commune !== state.commune ||
          before.district !== state.district || before.edition !== state.edition;
        var settled = zoom && moved && !closedOnly ? zoomToView() : Promise.resolve();
        return Promise.all([loadDetail(gen), loadProgress(gen), settled]);
      })
      .then(function () {
        if (gen === generation) document.body.setAttribute("data-planner-ready", "true");
      })
      .catch(function (err) {
        if (gen !== generation) return;
        showMessage(L_.load_error + " " + err.message);
        document.body.setAttribute("data-planner-ready", "error");
      });
  }

  function selectCommune(code, options) {
    var next = Object.assign({}, state, { commune: code });
    var done = setState(next, "push", options.zoom);
    if (options.scroll) {
      done.then(function () {
        var row = document.querySelector('#commune-table tr[data-code="' + CSS.escape(code) + '"]');
        if (row) row.scrollIntoView({ block: "nearest" });
      });
    }
    return done;
  }

  // -- events ----------------------------------------------------------------------------------

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    setState(readForm(null), "push");
  });
  form.addEventListener("change", function (event) {
    var name = event.target.name;
    if (name === "q") return;
    setState(readForm(name), "push");
  });
  var typing = null;
  form.elements.q.addEventListener("input", function () {
    clearTimeout(typing);
    typing = setTimeout(function () {
      var next = readForm("q");
      var firstChange = (state.q || "") === "" && (next.q || "") !== "";
      setState(next, firstChange ? "push" : "replace");
    }, 250);
  });

  document.querySelector("#commune-table thead").addEventListener("click", function (event) {
    var button = event.target.closest("button.sort");
    if (!button) return;
    var column = button.getAttribute("data-column");
    var sort = state.sort === column ? "-" + column : column;
    setState(Object.assign({}, state, { sort: sort }), "push");
  });

  function onRow(event) {
    var row = event.target.closest("tr[data-code]");
    if (!row) return;
    if (event.type === "keydown" && event.key !== "Enter") return;
    var code = row.getAttribute("data-code");
    if (code === state.commune) {
      document.body.setAttribute("data-planner-ready", "loading");
      zoomToView().then(function () {
        document.body.setAttribute("data-planner-ready", "true");
      });
      return;
    }
    selectCommune(code, { zoom: true, scroll: false });
  }
  var communeBody = document.querySelector("#commune-table tbody");
  communeBody.addEventListener("click", onRow);
  communeBody.addEventListener("keydown", onRow);

  function onDistrict(event) {
    var row = event.target.closest("tr[data-district]");
    if (!row) return;
    if (event.type === "keydown" && event.key !== "Enter") return;
    var next = Object.assign({}, state);
    var code = row.getAttribute("data-district");
    if (code) next.district = code; else delete next.district;
    delete next.commune;
    setState(next, "push");
  }
  var districtBody = document.querySelector("#district-table tbody");
  districtBody.addEventListener("click", onDistrict);
  districtBody.addEventListener("keydown", onDistrict);

  document.getElementById("commune-detail").addEventListener("click", function (event) {
    if (!event.target.closest("button.close")) return;
    var next = Object.assign({}, state);
    delete next.commune;
    setState(next, "push");
  });

  window.addEventListener("popstate", function () {
    setState(stateFromUrl(), "none");
  });

  document.querySelector("#planner-filters button.apply").hidden = true;
  window.ocopPlanner = {
    map: map,
    shapes: function () { return shapes; },
    state: function () { return Object.assign({}, state); },
    normalizeText: normalizeText,
  };
  // The server checked the address: with bad parameters it hands over the view without them.
  setState(cfg.hadErrors ? Object.assign({}, cfg.state) : stateFromUrl(), "none");
})();
