/* Maps, drawn with Leaflet (vendored under static/vendor/): the places of a cycle's proposals,
   the projects on the results page, and the place picker on the proposal form.

   Pages work without this file. Each places map has a list beside it holding every marker's
   content (a marker's popup is a copy of its list item), and the form takes the address and
   the coordinates as typed. Markers are focusable (Tab, then Enter opens the popup), each list
   item gets a "Show on the map" button, and the picker has buttons for keyboard users.
   Settings (tile server, attribution, words in the page's language) come from data-*
   attributes that the server writes. */
(function () {
  "use strict";

  var KAZAKHSTAN = [[40.5, 46.4], [55.5, 87.4]];

  function areaOf(el) {
    var v = (el.dataset.box || "").split(",").map(Number);
    if (v.length !== 4 || !v.every(isFinite)) return null;
    return L.latLngBounds([v[0], v[1]], [v[2], v[3]]);
  }

  function baseMap(el) {
    var d = el.dataset;
    L.Icon.Default.imagePath = d.icons;
    var map = L.map(el, {zoomControl: false, attributionControl: false});
    L.control.zoom({zoomInTitle: d.zoomIn, zoomOutTitle: d.zoomOut}).addTo(map);
    L.control.attribution({prefix: '<a href="https://leafletjs.com">Leaflet</a>'}).addTo(map);
    L.tileLayer(d.tiles, {
      maxZoom: Number(d.maxZoom) || 19,
      attribution: d.attribution,
      // OpenStreetMap's tile policy asks for a Referer; the site's own policy sends none to
      // other sites, so the tiles name only this site's origin (no page paths).
      referrerPolicy: "strict-origin-when-cross-origin"
    }).addTo(map);
    map.on("popupopen", function (event) {
      var close = event.popup.getElement().querySelector(".leaflet-popup-close-button");
      if (close) {
        close.setAttribute("aria-label", d.close);
        close.title = d.close;
      }
    });
    return map;
  }

  function pin(kind) {
    return L.divIcon({className: "map-pin map-pin-" + kind, iconSize: [22, 22],
                      iconAnchor: [11, 11], popupAnchor: [0, -10]});
  }

  /* A map of places: one marker per item of the list named by data-list. */
  function placesMap(el) {
    var list = document.getElementById(el.dataset.list);
    if (!list) return;
    el.hidden = false;
    var map = baseMap(el);
    var items = Array.prototype.filter.call(list.querySelectorAll("li[data-lat]"), function (item) {
      return isFinite(parseFloat(item.dataset.lat)) && isFinite(parseFloat(item.dataset.lon));
    });
    var points = items.map(function (item) {
      return [parseFloat(item.dataset.lat), parseFloat(item.dataset.lon)];
    });
    // The view first: Leaflet places markers only on a map that has one.
    if (points.length) {
      map.fitBounds(points, {padding: [30, 30], maxZoom: 16});
    } else {
      map.fitBounds(areaOf(el) || KAZAKHSTAN);
    }
    items.forEach(function (item, i) {
      var body = item.querySelector(".place-body");
      var title = item.dataset.title;
      var marker = L.marker(points[i], {icon: pin(item.dataset.kind), title: title, keyboard: true})
        .bindPopup(function () { return body.cloneNode(true); })
        .addTo(map);
      marker.getElement().setAttribute("aria-label", title);
      var show = document.createElement("button");
      show.type = "button";
      show.className = "link place-show";
      show.textContent = el.dataset.show;
      show.addEventListener("click", function () {
        map.setView(points[i], Math.max(map.getZoom(), 15));
        marker.openPopup();
        marker.getElement().focus();
      });
      item.appendChild(show);
    });
  }

  /* The proposal form's picker: a click, tap or drag fills the latitude and longitude fields;
     typed coordinates move the marker. */
  function picker(el) {
    var box = el.closest(".map-picker");
    var latField = document.getElementById(el.dataset.lat);
    var lonField = document.getElementById(el.dataset.lon);
    var status = document.getElementById(el.dataset.status);
    if (!box || !latField || !lonField) return;
    box.hidden = false;
    var map = baseMap(el);
    var area = areaOf(el);
    var marker = null;
    map.fitBounds(area || KAZAKHSTAN);  // a view before any layer (see placesMap)
    if (area) {
      L.rectangle(area, {color: "#00529b", weight: 2, fill: false, interactive: false}).addTo(map);
    }

    function say(text) {
      if (status) status.textContent = text;
    }

    function place(latlng, fill) {
      if (!marker) {
        marker = L.marker(latlng, {draggable: true, keyboard: true, title: el.dataset.marker,
                                   alt: el.dataset.marker}).addTo(map);
        marker.on("dragend", function () { place(marker.getLatLng(), true); });
      } else {
        marker.setLatLng(latlng);
      }
      if (fill) {
        latField.value = latlng.lat.toFixed(6);
        lonField.value = latlng.lng.toFixed(6);
        say(area && !area.contains(latlng) && el.dataset.outside ? el.dataset.outside : el.dataset.placed);
      } else if (area && !area.contains(latlng) && el.dataset.outside) {
        say(el.dataset.outside);
      }
    }

    function typed() {
      var lat = parseFloat(latField.value.replace(",", "."));
      var lon = parseFloat(lonField.value.replace(",", "."));
      if (!isFinite(lat) || !isFinite(lon) || Math.abs(lat) > 90 || Math.abs(lon) > 180) return false;
      place(L.latLng(lat, lon), false);
      return true;
    }

    map.on("click", function (event) { place(event.latlng, true); });
    latField.addEventListener("change", typed);
    lonField.addEventListener("change", typed);
    box.querySelector("[data-map-action=centre]").addEventListener("click", function () {
      place(map.getCenter(), true);
    });
    box.querySelector("[data-map-action=clear]").addEventListener("click", function () {
      if (marker) {
        map.removeLayer(marker);
        marker = null;
      }
      latField.value = "";
      lonField.value = "";
      say(el.dataset.cleared);
    });
    // Open on the point already given, unless it lies outside the area: then on the area,
    // where the place must be chosen (the status line says the point is outside).
    if (typed() && (!area || area.contains(marker.getLatLng()))) {
      map.setView(marker.getLatLng(), 16);
    }
  }

  function start() {
    if (typeof L === "undefined") return;  // Leaflet did not load: the lists and fields remain
    Array.prototype.forEach.call(document.querySelectorAll(".map[data-list]"), placesMap);
    Array.prototype.forEach.call(document.querySelectorAll(".map.map-pick"), picker);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
