/* "Embed / Export" dialog: the iframe snippet, PNG and PDF links and the permalink of the
 * current view. The view (centre, zoom, layers) and the filters are read from the page's URL,
 * which coverage-map.js keeps current with history.replaceState. */
(function () {
  "use strict";

  var FILTERS = ["edition", "target", "min_stars", "as_of", "group", "group_taxonomy",
    "producer_type", "district", "commune", "lang"];
  var VIEW = ["center", "zoom", "layers"];
  var ATTR = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

  function escAttr(value) {
    return String(value).replace(/[&<>"']/g, function (c) { return ATTR[c]; });
  }

  function pick(params, keys) {
    var out = new URLSearchParams();
    keys.forEach(function (k) {
      var v = params.get(k);
      if (v) out.set(k, v);
    });
    return out;
  }

  function withQuery(base, params) {
    var query = params.toString();
    return query ? base + "?" + query : base;
  }

  function clamp(input, low, high, fallback) {
    var n = Math.round(Number(input.value));
    if (!isFinite(n) || n <= 0) n = fallback;
    n = Math.min(high, Math.max(low, n));
    input.value = n;
    return n;
  }

  function currentBbox() {
    var holder = window.ocopMap || window.ocopPlanner;  // the map page or the planner
    if (!holder || !holder.map) return null;
    var b = holder.map.getBounds();
    var west = Math.max(100, b.getWest()), east = Math.min(120, b.getEast());
    var south = Math.max(5, b.getSouth()), north = Math.min(25, b.getNorth());
    if (!(west < east && south < north)) return null;
    return [west, south, east, north].map(function (v) { return v.toFixed(4); }).join(",");
  }

  function refresh(dialog) {
    var params = new URLSearchParams(window.location.search);
    var lang = document.documentElement.lang;
    if (lang && !params.has("lang")) params.set("lang", lang);
    var width = clamp(document.getElementById("export-width"), 200, 2000, 600);
    var height = clamp(document.getElementById("export-height"), 200, 2000, 400);
    var embedUrl = withQuery(dialog.dataset.embedBase, pick(params, FILTERS.concat(VIEW)));
    document.getElementById("export-snippet").value =
      '<iframe src="' + escAttr(embedUrl) + '" width="' + width + '" height="' + height +
      '" style="border:0" loading="lazy" title="' + escAttr(dialog.dataset.frameTitle) +
      '" allowfullscreen></iframe>';
    var png = pick(params, FILTERS);
    var bbox = currentBbox();
    if (bbox) png.set("bbox", bbox);
    document.getElementById("export-png").href = withQuery(dialog.dataset.pngBase, png);
    document.getElementById("export-pdf").href =
      withQuery(dialog.dataset.pdfBase, pick(params, FILTERS));
    var permalink = new URL(window.location.href);
    if (lang && !permalink.searchParams.has("lang")) permalink.searchParams.set("lang", lang);
    document.getElementById("export-permalink").value = permalink.toString();
  }

  function copy(field, status) {
    var done = function () { status.textContent = status.dataset.copied || "Copied"; };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done, function () {
        field.select();
      });
    } else {
      field.select();
      try {
        if (document.execCommand("copy")) done();
      } catch (e) { /* the text stays selected for the reader to copy */ }
    }
  }

  function show() {
    var dialog = document.getElementById("export-dialog");
    if (!dialog) return;
    document.getElementById("export-status").textContent = "";
    refresh(dialog);
    if (dialog.showModal) dialog.showModal();
    else dialog.setAttribute("open", "");
  }

  /* Loaded by the page on the first click of "Embed / Export" (_export_dialog.html), which
   * then calls OcopExport.open(); later clicks come here directly. */
  function setup() {
    var open = document.getElementById("export-open");
    var dialog = document.getElementById("export-dialog");
    if (!open || !dialog) return;
    var status = document.getElementById("export-status");
    open.addEventListener("click", show);
    ["export-width", "export-height"].forEach(function (id) {
      document.getElementById(id).addEventListener("change", function () { refresh(dialog); });
    });
    Array.prototype.forEach.call(dialog.querySelectorAll("button[data-copy]"), function (b) {
      b.addEventListener("click", function () {
        copy(document.getElementById(b.getAttribute("data-copy")), status);
      });
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setup);
  else setup();
  window.OcopExport = { refresh: refresh, open: show };
})();
