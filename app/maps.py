"""Maps on pages: Leaflet, vendored under app/static/vendor/ (never a CDN), and the tile server
setting (MAP_TILE_URL, MAP_TILE_ATTRIBUTION).

The content security policy allows the tile server's origin for images only (`img-src`):
tiles are plain images, and nothing else on a page may come from there."""
import re

from flask import current_app, url_for
from flask_babel import gettext as _
from markupsafe import Markup, escape

from app.domain.territories import bounding_box

LEAFLET = "vendor/leaflet-1.9.4"
OSM_COPYRIGHT = "https://www.openstreetmap.org/copyright"
# scheme://host[:port] at the start of an absolute template; {s} (subdomains) may stand for a
# label of the host, which the CSP then allows as a wildcard.
_ORIGIN = re.compile(r"^(https?)://((?:\{s\}\.)?[A-Za-z0-9.-]+(?::\d{1,5})?)(?:/|$)")


def tile_origin(template):
    """The CSP source for images from this tile URL template: None when tiles come from this
    site (a path), "https://*.tile.example.kz" for a template with {s}. Raises ValueError for
    a template a browser could not use or the CSP could not name."""
    template = (template or "").strip()
    if not template or "{z}" not in template or "{x}" not in template or "{y}" not in template:
        raise ValueError("MAP_TILE_URL must be a URL template with {z}, {x} and {y}")
    if template.startswith("/") and not template.startswith("//"):
        return None
    match = _ORIGIN.match(template)
    if not match:
        raise ValueError("MAP_TILE_URL must start with https:// (or http://) and a host name, "
                         "or be a path on this site")
    scheme, host = match.groups()
    return f"{scheme}://{host.replace('{s}', '*')}"


def init_app(app):
    """Check the tile setting at start-up (a typo fails loudly, not as blank maps)."""
    try:
        app.config["MAP_TILE_ORIGIN"] = tile_origin(app.config["MAP_TILE_URL"])
    except ValueError as error:
        raise RuntimeError(str(error)) from error
    app.context_processor(lambda: {"map_settings": map_settings, "map_box": map_box,
                                   "map_area": map_area, "LEAFLET": LEAFLET})


def attribution():
    """The tile licence's credit: the setting, else OpenStreetMap's in the page's language."""
    configured = current_app.config.get("MAP_TILE_ATTRIBUTION")
    if configured:
        return Markup(configured)  # the operator's own HTML, from the environment
    link = Markup('<a href="{}">OpenStreetMap</a>').format(OSM_COPYRIGHT)
    # The translation is text: escaped, then the link goes in as markup.
    return Markup("© ") + escape(_("%(osm)s contributors")) % {"osm": link}


def map_settings():
    """What maps.js needs, as data-* attributes of the map's element."""
    config = current_app.config
    return {"data-tiles": config["MAP_TILE_URL"], "data-attribution": str(attribution()),
            "data-max-zoom": str(config["MAP_MAX_ZOOM"]),
            "data-icons": url_for("static", filename=f"{LEAFLET}/images/"),
            "data-zoom-in": _("Zoom in"), "data-zoom-out": _("Zoom out"),
            "data-close": _("Close")}


def map_area(territory):
    """(unit, box) of the known bounding box that places in this territory must fall within."""
    return bounding_box(territory) if territory is not None else (None, None)


def map_box(territory):
    """The territory's known bounding box (its own or an enclosing unit's) for data-box, as
    "min_lat,min_lon,max_lat,max_lon", or "" when unknown."""
    _unit, box = bounding_box(territory) if territory is not None else (None, None)
    return ",".join(f"{v:.6f}" for v in box) if box else ""
