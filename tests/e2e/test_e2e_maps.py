"""Maps on a phone, with every tile request blocked (conftest.block_other_sites): a resident
marks the place of a proposal on the form's map, and a visitor reads a cycle's map with the
list beside it, by mouse and by keyboard. Markers are drawn from the page itself, so the maps
work without tiles; the tests check the tiles were asked of the configured server all the same."""
import json
import re

from browser_checks import assert_accessible, assert_no_horizontal_scroll
from playwright.sync_api import expect

ALMATY_BOX = (43.05, 76.70, 43.42, 77.20)      # app/demo/kato_demo.csv, min_lat,min_lon,max_lat,max_lon
AYTEY_EN = "Aytey rural district"


def _csp_refusals(page):
    """Console messages of the page's CSP refusing something (Leaflet must work under it)."""
    refused = []
    page.on("console", lambda message: refused.append(message.text)
            if "Content Security Policy" in message.text else None)
    return refused


def _tiles_were_blocked(context):
    return any("tile.openstreetmap.org" in url for url in context.blocked_requests)


def test_resident_marks_the_place_on_the_proposal_form(page, context, login, demo_server, shots):
    refused = _csp_refusals(page)
    login(page, "Дана Ахметова", "en")
    page.get_by_role("link", name=re.compile("Almaty participatory budget")).first.click()
    page.get_by_role("link", name="Propose a project").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Propose a project")

    picker = page.get_by_role("region", name="Map to mark the place of the project")
    expect(picker).to_be_visible()
    latitude, longitude = page.get_by_label("Latitude (optional)"), page.get_by_label("Longitude (optional)")
    expect(latitude).to_have_value("")

    # A tap on the map fills both fields with a point inside Almaty (the map opens on its area).
    box = picker.bounding_box()
    picker.click(position={"x": box["width"] * 0.45, "y": box["height"] * 0.55})
    expect(latitude).not_to_have_value("")
    lat, lon = float(latitude.input_value()), float(longitude.input_value())
    assert ALMATY_BOX[0] <= lat <= ALMATY_BOX[2] and ALMATY_BOX[1] <= lon <= ALMATY_BOX[3], (lat, lon)
    expect(page.locator("#place-map-status")).to_have_text("The place is marked and its coordinates are filled in.")
    marker = picker.get_by_role("button", name="The place of the project")
    expect(marker).to_have_count(1)

    # Keyboard users: the button marks the map's centre; "Remove the mark" clears the fields.
    page.get_by_role("button", name="Remove the mark").click()
    expect(latitude).to_have_value("")
    expect(marker).to_have_count(0)
    page.get_by_role("button", name="Mark the centre of the map").click()
    expect(latitude).not_to_have_value("")

    # Coordinates typed outside Almaty (Astana's) move the marker, and the map says so.
    latitude.fill("51.1694")
    longitude.fill("71.4491")
    longitude.press("Tab")
    outside = "This place is outside Almaty: choose a place inside it."
    expect(page.locator("#place-map-status")).to_have_text(outside)
    assert_accessible(page)
    assert_no_horizontal_scroll(page)

    page.get_by_label("Title").fill("Скамейки у арыка на Жарокова")
    page.get_by_label("Description").fill("Десять скамеек и урны вдоль арыка.")
    page.get_by_label("Category").select_option(label="Parks and squares")
    page.get_by_label("Estimated cost, tenge").fill("4500000")
    page.get_by_label("Address or place").fill("ул. Жарокова, 200")
    page.get_by_role("button", name="Submit the proposal").click()
    # The server refuses the place outside the territory, on the field, in words.
    expect(page.get_by_text(outside).first).to_be_visible()
    expect(latitude).to_have_attribute("aria-invalid", "true")

    # Back inside: a tap on the map replaces the typed point, and the proposal is submitted.
    picker.click(position={"x": box["width"] * 0.5, "y": box["height"] * 0.5})
    lat, lon = float(latitude.input_value()), float(longitude.input_value())
    assert ALMATY_BOX[0] <= lat <= ALMATY_BOX[2] and ALMATY_BOX[1] <= lon <= ALMATY_BOX[3], (lat, lon)
    page.screenshot(path=shots / "proposal-form-map-en-390.png", full_page=True)
    page.get_by_role("button", name="Submit the proposal").click()
    expect(page.get_by_text("Your proposal has been submitted.", exact=False)).to_be_visible()
    proposal_id = int(re.search(r"/proposals/(\d+)", page.url).group(1))

    # The GeoJSON has the point as [longitude, latitude], as the fields said.
    cycle = demo_server.cycles["taking proposals"]
    collection = json.loads(page.request.get(f"/api/v1/cycles/{cycle}/proposals.geojson").text())
    point = next(f for f in collection["features"] if f["id"] == proposal_id)["geometry"]["coordinates"]
    assert point == [round(lon, 6), round(lat, 6)]
    assert _tiles_were_blocked(context), "the map never asked the tile server for tiles"
    assert not refused, refused


def test_cycle_map_and_its_list_by_mouse_and_keyboard(page, context, demo_server, shots):
    refused = _csp_refusals(page)
    page.goto("/en/")
    page.get_by_role("link", name=re.compile(AYTEY_EN)).first.click()
    expect(page.get_by_role("heading", name="Proposals on the map")).to_be_visible()
    region = page.get_by_role("region", name="Map of the proposals")
    expect(region).to_be_visible()
    places = page.locator("#proposals-places > li")
    markers = region.locator(".leaflet-marker-icon")
    titles = places.evaluate_all("items => items.map(li => li.dataset.title)")
    assert len(titles) >= 5, titles
    expect(markers).to_have_count(len(titles))
    # Every marker is named as its list item, and is a focusable button.
    assert sorted(markers.evaluate_all("ms => ms.map(m => m.getAttribute('aria-label'))")) == sorted(titles)
    assert markers.evaluate_all("ms => ms.every(m => m.tabIndex === 0 && m.getAttribute('role') === 'button')")
    assert_accessible(page)
    assert_no_horizontal_scroll(page)
    page.screenshot(path=shots / "cycle-map-en-390.png", full_page=True)

    # Keyboard: focus the first marker, Enter opens its popup, which says what its list item says.
    markers.first.focus()
    page.keyboard.press("Enter")
    popup = region.locator(".leaflet-popup-content")
    expect(popup).to_be_visible()
    first_title = markers.first.get_attribute("aria-label")
    item = page.locator("#proposals-places > li", has_text=first_title).first
    assert popup.inner_text().split() == item.locator(".place-body").inner_text().split()
    expect(region.get_by_role("button", name="Close")).to_be_visible()

    # The list's "Show on the map" opens the marker of that item.
    third = places.nth(2)
    third.get_by_role("button", name="Show on the map").click()
    expect(region.locator(".leaflet-popup")).to_have_count(1)  # the first one faded out
    expect(popup).to_contain_text(titles[2])
    assert page.evaluate("() => document.activeElement.getAttribute('aria-label')") == titles[2]

    # Filters (the form works without JavaScript too): one category, one marker, one item.
    page.get_by_label("Category").select_option(label="Lighting")
    page.get_by_role("button", name="Show", exact=True).click()
    expect(places).to_have_count(1)
    expect(markers).to_have_count(1)

    # The proposal's own page, opened from the list: one marker, and its place in words.
    title = places.first.get_attribute("data-title")
    places.first.get_by_role("link", name=title).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    own = page.get_by_role("region", name="Map of the place of the proposal")
    expect(own).to_be_visible()
    expect(own.locator(".leaflet-marker-icon")).to_have_count(1)
    expect(own.locator(".leaflet-marker-icon")).to_have_attribute("aria-label", title)
    expect(page.locator("#proposal-place")).to_contain_text("Coordinates: ")
    assert_accessible(page)
    assert_no_horizontal_scroll(page)
    assert _tiles_were_blocked(context), "the map never asked the tile server for tiles"
    assert not refused, refused


def test_results_map_marks_approved_and_selected_projects(page, demo_server):
    published = demo_server.cycles["published"]
    page.goto(f"/en/cycles/{published}/results")
    region = page.get_by_role("region", name="Map of the projects")
    expect(region).to_be_visible()
    kinds = page.locator("#results-places > li").evaluate_all("items => items.map(li => li.dataset.kind)")
    assert "approved" in kinds, kinds
    expect(region.locator(".leaflet-marker-icon.map-pin-approved")).to_have_count(kinds.count("approved"))
    expect(region.locator(".leaflet-marker-icon")).to_have_count(len(kinds))
    assert_accessible(page)
    assert_no_horizontal_scroll(page)


def test_without_javascript_the_list_and_the_form_remain(browser, demo_server):
    ctx = browser.new_context(base_url=demo_server.url, viewport={"width": 390, "height": 844},
                              java_script_enabled=False)
    try:
        page = ctx.new_page()
        page.goto(f"/en/cycles/{demo_server.cycles['voting']}?category=lighting")
        expect(page.locator("#proposals-map")).to_be_hidden()
        expect(page.locator("#proposals-places > li")).to_have_count(1)
        expect(page.locator("#proposals-places")).to_contain_text("Lighting")
    finally:
        ctx.close()
