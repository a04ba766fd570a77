"""Maps: territories' bounding boxes (import and the check on proposals' places), the GeoJSON
of a cycle's proposals against RFC 7946, the map settings in the CSP, and the maps' lists on the
pages (what a browser without JavaScript gets; tests/e2e/test_e2e_maps.py drives the maps)."""
import json
import math
import re

import pytest
from sqlalchemy import select

from app import create_app
from app.domain import proposals as proposal_domain
from app.domain import territories as territory_domain
from app.domain.errors import ValidationFailed
from app.extensions import db
from app.maps import tile_origin
from app.models import Cycle, Proposal, ProposalStatus, Territory, User
from config import TestingConfig
from tests.helpers import catalogue_translation, conclude_all, csrf_token, login, publish

HEADER = "code,parent,level,name_kk,name_ru,name_en"
BOX_HEADER = HEADER + ",min_lat,min_lon,max_lat,max_lon"
ALMATY = "750000000"
AYTEY_RD = "195231000"          # Aytey rural district: 43.20–43.32 N, 76.38–76.56 E in the demo file
INSIDE_ALMATY = (43.2381, 76.9453)
INSIDE_AYTEY = (43.27, 76.47)
ASTANA = (51.1694, 71.4491)


def box_of(app, code):
    with app.app_context():
        return db.session.scalar(select(Territory).where(Territory.code == code)).box


def import_text(runner, tmp_path, text):
    path = tmp_path / "units.csv"
    path.write_text(text, encoding="utf-8")
    return runner.invoke(args=["territories", "import", str(path)])


# --- bounding boxes in the territories import ---------------------------------------------------

def test_demo_file_gives_boxes_and_leaves_some_units_without(app, territories):
    assert box_of(app, ALMATY) == (43.05, 76.7, 43.42, 77.2)
    assert box_of(app, AYTEY_RD) == (43.2, 76.38, 43.32, 76.56)
    assert box_of(app, "195233000") is None           # Eltay rural district: none in the file
    with app.app_context():
        eltay = db.session.scalar(select(Territory).where(Territory.code == "195233000"))
        unit, box = territory_domain.bounding_box(eltay)    # falls back to Karasay district's
        assert unit.code == "195200000" and box == (42.95, 76.2, 43.6, 76.9)


def test_territories_api_gives_the_box_in_geojson_order(client, territories):
    units = {u["code"]: u for u in client.get("/api/v1/territories").get_json()}
    assert units[ALMATY]["bbox"] == [76.7, 43.05, 77.2, 43.42]   # west, south, east, north
    assert units["195233000"]["bbox"] is None
    schema = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]["Territory"]
    assert "bbox" in schema["properties"]


def test_six_column_file_still_imports_and_keeps_the_boxes(app, runner, tmp_path, territories):
    result = import_text(runner, tmp_path, HEADER + "\n750000000,,city,Алматы,Алматы,Almaty City\n")
    assert result.exit_code == 0 and "0 units created, 1 updated" in result.output
    assert box_of(app, ALMATY) == (43.05, 76.7, 43.42, 77.2)


def test_box_columns_set_change_and_clear_boxes(app, runner, tmp_path):
    text = (BOX_HEADER + "\n"
            "100000000,,region,Абай облысы,область Абай,Abay Region,46.5,76.0,51.0,84.0\n"
            "101010000,100000000,city,Семей қ.,г.Семей,Semey,50.3,80.1,50.5,80.4\n"
            "101810000,100000000,city,Курчатов қ.,г.Курчатов,Kurchatov,,,,\n")
    result = import_text(runner, tmp_path, text)
    assert result.exit_code == 0, result.output
    assert box_of(app, "101010000") == (50.3, 80.1, 50.5, 80.4)
    assert box_of(app, "101810000") is None
    again = BOX_HEADER + "\n101010000,100000000,city,Семей қ.,г.Семей,Semey,,,,\n"
    assert import_text(runner, tmp_path, again).exit_code == 0
    assert box_of(app, "101010000") is None       # a file with the columns says: no box known


@pytest.mark.parametrize("cells, problem", [
    ("50.3,80.1,,", "all four"),
    ("50.3,80.1,north,80.4", "four numbers"),
    ("50.5,80.1,50.3,80.4", "min_lat < max_lat"),
    ("50.3,80.4,50.5,80.1", "min_lon < max_lon"),
    ("-95,80.1,50.5,80.4", "-90 <= min_lat"),
    ("50.3,80.1,50.5,181", "max_lon <= 180"),
    ("nan,80.1,50.5,80.4", "finite"),
])
def test_bad_boxes_import_nothing_and_are_named(app, runner, tmp_path, cells, problem):
    text = (BOX_HEADER + "\n100000000,,region,Абай облысы,область Абай,Abay Region,46.5,76.0,51.0,84.0\n"
            f"101010000,100000000,city,Семей қ.,г.Семей,Semey,{cells}\n")
    result = import_text(runner, tmp_path, text)
    assert result.exit_code != 0
    assert "line 3" in result.output and problem in result.output and "line 2:" not in result.output
    with app.app_context():
        assert db.session.scalar(select(Territory).where(Territory.code == "100000000")) is None


def test_a_file_with_some_box_columns_names_the_missing_ones(runner, tmp_path):
    result = import_text(runner, tmp_path, HEADER + ",min_lat,min_lon\n")
    assert result.exit_code != 0 and "missing columns: max_lat, max_lon" in result.output


# --- places of proposals within the territory ------------------------------------------------

def _submit(app, cycle_id, user_id, lat, lon):
    with app.app_context():
        values = {"title": "Скамейки у арыка", "description": "Десять скамеек.", "category": "parks",
                  "cost": 4_000_000, "address": "ул. Абая", "latitude": lat, "longitude": lon}
        proposal = proposal_domain.submit_proposal(db.session.get(User, user_id),
                                                   db.session.get(Cycle, cycle_id), values, language="ru")
        db.session.commit()
        return proposal.id


def test_a_place_outside_the_territorys_box_is_refused(app, make_cycle, make_user):
    cycle_id = make_cycle(phase="proposals")
    user_id, _ = make_user(territory="751410000")
    with pytest.raises(ValidationFailed) as caught:
        _submit(app, cycle_id, user_id, *ASTANA)
    (message, params), = caught.value.fields["latitude"]
    assert message == "This place is outside %(unit)s: choose a place inside it."
    assert params["unit"]["en"] == "Almaty"
    assert _submit(app, cycle_id, user_id, *INSIDE_ALMATY)
    # Edges count as inside; just past them does not.
    assert _submit(app, cycle_id, user_id, 43.05, 77.2)
    with pytest.raises(ValidationFailed):
        _submit(app, cycle_id, user_id, 43.0499, 77.0)


def test_without_a_known_box_any_valid_place_is_taken(app, make_cycle, make_user):
    cycle_id = make_cycle(territory=AYTEY_RD, phase="proposals")
    user_id, _ = make_user(territory="195231100")
    with app.app_context():
        for code in (AYTEY_RD, "195200000", "190000000"):   # the unit and every unit above it
            unit = db.session.scalar(select(Territory).where(Territory.code == code))
            unit.min_lat = unit.min_lon = unit.max_lat = unit.max_lon = None
        db.session.commit()
    assert _submit(app, cycle_id, user_id, *ASTANA)


def test_editing_into_a_place_outside_is_refused(app, make_cycle, make_user):
    cycle_id = make_cycle(phase="proposals")
    user_id, _ = make_user(territory="751410000")
    proposal_id = _submit(app, cycle_id, user_id, *INSIDE_ALMATY)
    with app.app_context():
        proposal = db.session.get(Proposal, proposal_id)
        with pytest.raises(ValidationFailed) as caught:
            proposal_domain.update_proposal(proposal.author, proposal,
                                            {"latitude": ASTANA[0], "longitude": ASTANA[1]})
        assert "latitude" in caught.value.fields


@pytest.mark.parametrize("lat, lon", [(float("nan"), 76.9), (43.2, float("inf"))])
def test_non_finite_coordinates_are_refused(app, make_cycle, make_user, lat, lon):
    cycle_id = make_cycle(phase="proposals")
    user_id, _ = make_user(territory="751410000")
    with pytest.raises(ValidationFailed):
        _submit(app, cycle_id, user_id, lat, lon)


def test_the_api_answers_422_with_the_field_in_the_requests_language(app, client, make_cycle, make_user,
                                                                      api_token):
    cycle_id = make_cycle(phase="proposals", categories=["parks"])
    _, iin = make_user(territory="751410000")
    body = {"title": "Скамейки у арыка", "description": "Десять скамеек.", "category": "parks",
            "cost": 4_000_000, "latitude": ASTANA[0], "longitude": ASTANA[1]}
    response = client.post(f"/api/v1/cycles/{cycle_id}/proposals", json=body,
                           headers={**api_token(iin), "Accept-Language": "en"})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed"
    assert error["fields"]["latitude"] == ["This place is outside Almaty: choose a place inside it."]
    nan = client.post(f"/api/v1/cycles/{cycle_id}/proposals", headers=api_token(iin),
                      data=json.dumps(body).replace(str(ASTANA[0]), "NaN"), content_type="application/json")
    assert nan.status_code == 422 and "latitude" in nan.get_json()["error"]["fields"]


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_the_page_says_so_translated(app, client, make_cycle, make_user, lang):
    msgid = "This place is outside %(unit)s: choose a place inside it."
    try:
        expected = catalogue_translation(msgid, lang, unit={"kk": "Алматы қ.", "ru": "г.Алматы"}[lang])
    except AssertionError:
        pytest.skip(f"{lang} catalogue not merged yet: translations/pending/maps.json has it")
    cycle_id = make_cycle(phase="proposals")
    _, iin = make_user(territory="751410000")
    login(client, iin, lang=lang)
    page = client.get(f"/{lang}/cycles/{cycle_id}/proposals/new")
    response = client.post(f"/{lang}/cycles/{cycle_id}/proposals/new", data={
        "csrf_token": csrf_token(page), "title": "Скамейки у арыка", "description": "Десять скамеек.",
        "category": "parks", "cost": "4000000", "latitude": str(ASTANA[0]), "longitude": str(ASTANA[1])})
    assert response.status_code == 422
    assert expected in response.get_data(as_text=True)


def test_the_form_works_with_the_address_alone(app, client, make_cycle, make_user):
    cycle_id = make_cycle(phase="proposals")
    _, iin = make_user(territory="751410000")
    login(client, iin)
    page = client.get(f"/en/cycles/{cycle_id}/proposals/new")
    html = page.get_data(as_text=True)
    # The picker is hidden until maps.js shows it; the fields are ordinary inputs.
    assert re.search(r'<div class="map-picker" hidden>', html)
    assert 'data-box="43.050000,76.700000,43.420000,77.200000"' in html
    assert 'name="latitude"' in html and 'name="longitude"' in html and 'name="address"' in html
    response = client.post(f"/en/cycles/{cycle_id}/proposals/new", data={
        "csrf_token": csrf_token(page), "title": "Скамейки у арыка", "description": "Десять скамеек.",
        "category": "parks", "cost": "4000000", "address": "ул. Жарокова, 200",
        "latitude": "", "longitude": ""})
    assert response.status_code == 302
    with app.app_context():
        proposal = db.session.scalar(select(Proposal))
        assert proposal.address == "ул. Жарокова, 200" and proposal.latitude is None


# --- GeoJSON (RFC 7946) -----------------------------------------------------------------------

def _strict_json(response):
    """The body parsed as RFC 8259 JSON: NaN and Infinity are not JSON (RFC 7946 §1.4)."""
    def refuse(name):
        raise AssertionError(f"{name} in GeoJSON")

    return json.loads(response.get_data(as_text=True), parse_constant=refuse)


def assert_rfc7946_feature_collection(document):
    """The rules of RFC 7946 this endpoint relies on, checked one by one."""
    assert document["type"] == "FeatureCollection" and isinstance(document["features"], list)  # §3.3
    assert "crs" not in document                                                               # §4
    for feature in document["features"]:
        assert feature["type"] == "Feature"                                                    # §3.2
        assert set(feature) <= {"type", "id", "geometry", "properties", "bbox"}
        assert "crs" not in feature and isinstance(feature["properties"], dict)
        assert isinstance(feature.get("id", 0), (str, int, float))                             # §3.2
        geometry = feature["geometry"]
        assert geometry["type"] == "Point"                                                     # §3.1.2
        position = geometry["coordinates"]
        assert isinstance(position, list) and len(position) == 2                               # §3.1.1
        lon, lat = position
        assert all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                   for v in position)
        assert -180 <= lon <= 180 and -90 <= lat <= 90                                        # §4


def _place(app, proposal_id, lat, lon):
    with app.app_context():
        proposal = db.session.get(Proposal, proposal_id)
        proposal.latitude, proposal.longitude = lat, lon
        db.session.commit()


def test_geojson_lists_located_public_proposals_longitude_first(app, client, make_cycle, make_proposal):
    cycle_id = make_cycle(phase="proposals")
    located = make_proposal(cycle_id, status="submitted", latitude=43.2381234567, longitude=76.9453)
    make_proposal(cycle_id, status="submitted")                         # no place: not on the map
    withdrawn = make_proposal(cycle_id, status=ProposalStatus.WITHDRAWN.value, latitude=43.2, longitude=76.9)
    response = client.get(f"/api/v1/cycles/{cycle_id}/proposals.geojson")
    assert response.status_code == 200 and response.mimetype == "application/geo+json"
    document = _strict_json(response)
    assert_rfc7946_feature_collection(document)
    assert [f["id"] for f in document["features"]] == [located]
    feature = document["features"][0]
    # Longitude, then latitude (§3.1.1), six decimals.
    assert feature["geometry"]["coordinates"] == [76.9453, 43.238123]
    assert feature["properties"] == {"id": located, "title": "Сквер на Абая", "category": "parks",
                                     "status": "submitted", "cost": 5_000_000, "address": "пр. Абая, 10"}
    assert withdrawn not in [f["id"] for f in document["features"]]


def test_geojson_filters_as_the_list_does(app, client, make_cycle, make_proposal):
    cycle_id = make_cycle(phase="review")
    parks = make_proposal(cycle_id, category="parks", latitude=43.21, longitude=76.91)
    lights = make_proposal(cycle_id, category="lighting", status="rejected", latitude=43.22, longitude=76.92)

    def ids(query):
        return [f["id"] for f in client.get(f"/api/v1/cycles/{cycle_id}/proposals.geojson{query}")
                .get_json(force=True)["features"]]

    assert ids("") == [parks, lights]
    assert ids("?category=lighting") == [lights]
    assert ids("?status=admitted") == [parks]
    assert ids("?category=sports") == []


def test_geojson_follows_the_cycles_visibility(app, client, make_cycle, make_proposal, staff, api_token):
    draft = make_cycle(phase="draft")
    make_proposal(draft, latitude=43.21, longitude=76.91)
    assert client.get(f"/api/v1/cycles/{draft}/proposals.geojson").status_code == 404
    assert client.get("/api/v1/cycles/999999/proposals.geojson").status_code == 404
    seen_by_staff = client.get(f"/api/v1/cycles/{draft}/proposals.geojson", headers=api_token(staff[1]))
    assert seen_by_staff.status_code == 200 and len(seen_by_staff.get_json(force=True)["features"]) == 1


RESULT_KEYS = {"votes", "eligible", "selected", "decision", "implementation"}


def test_votes_and_selection_only_once_published(app, client, counted_cycle, staff, api_token):
    ids = counted_cycle(phase="closed")
    for n, proposal_id in enumerate(ids["proposals"].values()):
        _place(app, proposal_id, 43.20 + n / 100, 76.90 + n / 100)
    url = f"/api/v1/cycles/{ids['cycle']}/proposals.geojson"
    for headers in ({}, api_token(staff[1])):     # counted, not published: nobody, not even staff
        closed = _strict_json(client.get(url, headers=headers))
        assert_rfc7946_feature_collection(closed)
        assert len(closed["features"]) == 4
        for feature in closed["features"]:
            assert not RESULT_KEYS & set(feature["properties"]), feature["properties"]
        assert '"votes"' not in client.get(url, headers=headers).get_data(as_text=True)
    conclude_all(app, ids, staff[0])
    publish(app, ids, staff[0])
    published = _strict_json(client.get(url))
    assert_rfc7946_feature_collection(published)
    by_id = {f["id"]: f["properties"] for f in published["features"]}
    a, d = by_id[ids["proposals"]["A"]], by_id[ids["proposals"]["D"]]
    assert a["votes"] == 25 and a["selected"] is True and a["eligible"] is True
    assert d["votes"] == 9 and d["selected"] is False and d["eligible"] is False
    assert a["decision"] in ("approved", "not_approved") and a["implementation"] is None


def test_openapi_describes_the_geojson(client):
    document = client.get("/api/v1/openapi.json").get_json()
    operation = document["paths"]["/cycles/{cycle_id}/proposals.geojson"]["get"]
    assert "application/geo+json" in operation["responses"]["200"]["content"]
    schema = document["components"]["schemas"]["ProposalFeature"]
    assert "longitude" in schema["properties"]["geometry"]["properties"]["coordinates"]["description"]


# --- the tile server setting and the CSP -------------------------------------------------------

def _csp(response):
    return dict(part.strip().split(" ", 1) for part in response.headers["Content-Security-Policy"].split(";"))


def test_csp_allows_the_default_tile_server_for_images_only(client):
    policy = _csp(client.get("/en/"))
    assert "https://tile.openstreetmap.org" in policy["img-src"].split()
    others = [v for k, v in policy.items() if k != "img-src"]
    assert not any("openstreetmap" in v for v in others)
    assert policy["script-src"] == "'self'" and policy["default-src"] == "'self'"


def test_an_akimats_tile_server_is_the_one_allowed(make_app):
    app = make_app(MAP_TILE_URL="https://{s}.tiles.akimat.kz/osm/{z}/{x}/{y}.png",
                   MAP_TILE_ATTRIBUTION='© <a href="https://akimat.kz">Akimat</a>')
    client = app.test_client()
    policy = _csp(client.get("/en/"))
    assert policy["img-src"].split() == ["'self'", "data:", "https://*.tiles.akimat.kz"]
    assert "openstreetmap" not in client.get("/en/").headers["Content-Security-Policy"]


def test_tiles_served_by_the_site_itself_change_nothing(make_app):
    app = make_app(MAP_TILE_URL="/tiles/{z}/{x}/{y}.png")
    assert _csp(app.test_client().get("/en/"))["img-src"] == "'self' data:"


@pytest.mark.parametrize("template", ["", "https://tiles.example.kz/map.png",
                                      "javascript:alert(1)/{z}/{x}/{y}", "//cdn.example/{z}/{x}/{y}.png",
                                      "https://tiles.example.kz;script-src */{z}/{x}/{y}.png"])
def test_a_bad_tile_setting_stops_the_start(template, tmp_path):
    with pytest.raises(ValueError):
        tile_origin(template)

    class Config(TestingConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'x.db'}"
        MAP_TILE_URL = template

    with pytest.raises(RuntimeError):
        create_app(Config)


def test_leaflet_is_served_by_the_site_with_its_licence(client):
    page = client.get("/en/cycles").get_data(as_text=True)  # any page: no script from elsewhere
    assert not re.search(r'<script[^>]+src="(https?:)?//', page)
    script = client.get("/static/vendor/leaflet-1.9.4/leaflet.js")
    assert script.status_code == 200 and b"Leaflet 1.9.4" in script.data
    script.close()
    licence = client.get("/static/vendor/leaflet-1.9.4/LICENSE")
    assert licence.status_code == 200 and b"BSD 2-Clause" in licence.data
    licence.close()


# --- the maps' lists on the pages --------------------------------------------------------------

def test_cycle_page_lists_every_place_the_map_marks_and_filters_without_js(app, client, make_cycle,
                                                                           make_proposal):
    cycle_id = make_cycle(phase="review")
    parks = make_proposal(cycle_id, category="parks", title="Сквер у школы", latitude=43.21, longitude=76.91)
    make_proposal(cycle_id, category="lighting", title="Фонари на Абая", latitude=43.22, longitude=76.92)
    make_proposal(cycle_id, category="parks", title="Без места")
    html = client.get(f"/en/cycles/{cycle_id}").get_data(as_text=True)
    places = re.findall(r'<li data-lat="([^"]+)" data-lon="([^"]+)" data-kind="(\w+)" data-title="([^"]+)"', html)
    assert places == [("43.21", "76.91", "admitted", "Сквер у школы"), ("43.22", "76.92", "admitted", "Фонари на Абая")]
    assert 'id="proposals-map" class="map" hidden role="region"' in html
    assert "1 proposal matching the filters has no place on the map." in html
    assert 'data-attribution="© &lt;a href=&#34;https://www.openstreetmap.org/copyright&#34;&gt;OpenStreetMap' in html
    filtered = client.get(f"/en/cycles/{cycle_id}?category=lighting").get_data(as_text=True)
    assert "Сквер у школы" not in filtered and 'data-title="Фонари на Абая"' in filtered
    none = client.get(f"/en/cycles/{cycle_id}?category=sports").get_data(as_text=True)
    assert "No proposal matching the filters has a place on the map." in none and "proposals-map" not in none
    assert parks


def test_results_page_marks_approved_selected_and_implementation(app, client, counted_cycle, staff):
    ids = counted_cycle(phase="closed")
    for n, proposal_id in enumerate(ids["proposals"].values()):
        _place(app, proposal_id, 43.20 + n / 100, 76.90 + n / 100)
    conclude_all(app, ids, staff[0])
    publish(app, ids, staff[0])
    html = client.get(f"/en/cycles/{ids['cycle']}/results").get_data(as_text=True)
    kinds = dict(re.findall(r'data-title="#(\d+) [^"]*"\s+data-kind="(\w+)"', html))
    with app.app_context():
        expected = {}
        for proposal_id in ids["proposals"].values():
            p = db.session.get(Proposal, proposal_id)
            approved = p.conclusion is not None and p.conclusion.decision == "approved"
            expected[str(p.id)] = "approved" if approved else ("selected" if p.result.selected else "other")
    assert kinds == expected and "approved" in kinds.values()
    assert f'href="/api/v1/cycles/{ids["cycle"]}/proposals.geojson"' in html


def test_proposal_page_shows_its_place_on_a_map_and_in_text(app, client, make_cycle, make_proposal):
    cycle_id = make_cycle(phase="review")
    located = make_proposal(cycle_id, title="Сквер у школы", latitude=43.2381234, longitude=76.9453)
    html = client.get(f"/en/proposals/{located}").get_data(as_text=True)
    assert 'id="proposal-map" class="map" hidden role="region" aria-label="Map of the place of the proposal"' in html
    assert 'data-list="proposal-place"' in html and "js/maps.js" in html and "leaflet.js" in html
    places = re.findall(r'<li data-lat="([^"]+)" data-lon="([^"]+)" data-kind="(\w+)" data-title="([^"]+)"', html)
    assert places == [("43.2381234", "76.9453", "admitted", "Сквер у школы")]
    # The text a browser without JavaScript shows: the address and the coordinates, once each.
    assert html.count("Address or place: пр. Абая, 10") == 1 and html.count("пр. Абая, 10") == 1
    assert "Coordinates: 43.238123, 76.945300" in html


def test_proposal_page_without_a_place_has_no_map(app, client, make_cycle, make_proposal):
    cycle_id = make_cycle(phase="review")
    nowhere = make_proposal(cycle_id, title="Без места")
    html = client.get(f"/en/proposals/{nowhere}").get_data(as_text=True)
    assert "пр. Абая, 10" in html  # the address alone, in the facts
    for markup in ("proposal-map", "data-lat=", "js/maps.js", "leaflet", "The place on the map"):
        assert markup not in html, markup
