"""The shared cache of published results (app/results_cache.py): what is stored, for whom, in
which language, and what clears it. Correctness only; speed is measured by bench/web.py."""
from datetime import date

from app.domain.conclusions import add_implementation_update
from app.extensions import db
from app.models import Proposal, User
from tests.helpers import login


def _stored_keys(app):
    backend = app.extensions["cache"][next(iter(app.extensions["cache"]))]
    return sorted(key for key in backend._cache if key.startswith("results:"))


def _add_update(app, staff_id, proposal_id, note):
    with app.app_context():
        add_implementation_update(db.session.get(User, staff_id), db.session.get(Proposal, proposal_id),
                                  "procurement", date(2026, 11, 1), {"ru": note, "en": note})
        db.session.commit()


def _count_queries(app):
    from sqlalchemy import event

    counter = {"n": 0}

    def count(*_args):
        counter["n"] += 1

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    return counter, lambda: event.remove(engine, "before_cursor_execute", count)


def test_published_page_is_served_from_the_cache(app, client, published_cycle, staff):
    ids = published_cycle()
    url = f"/en/cycles/{ids['cycle']}/results"
    first, second = client.get(url), client.get(url)  # the first starts a generation, the second stores
    assert first.status_code == second.status_code == 200
    assert any(key.endswith(f":{ids['cycle']}:page:en") for key in _stored_keys(app))
    counter, stop = _count_queries(app)
    try:
        cached = client.get(url)
    finally:
        stop()
    assert cached.status_code == 200 and counter["n"] == 0  # no database at all
    assert cached.data == second.data
    assert "Set-Cookie" not in cached.headers or "session=" not in cached.headers["Set-Cookie"]
    assert cached.headers["Content-Security-Policy"] == second.headers["Content-Security-Policy"]
    # the request id is this request's, once: never the one of the request that was stored
    assert cached.headers.getlist("X-Request-ID") == [cached.headers["X-Request-ID"]]
    assert cached.headers["X-Request-ID"] not in (first.headers["X-Request-ID"], second.headers["X-Request-ID"])


def test_implementation_update_clears_the_cached_page_and_api(app, client, published_cycle, staff):
    ids = published_cycle()
    page, api = f"/en/cycles/{ids['cycle']}/results", f"/api/v1/cycles/{ids['cycle']}/results"
    for _ in range(2):
        client.get(page), client.get(api, headers={"Accept-Language": "en"})
    assert b"Tender announced" not in client.get(page).data
    _add_update(app, staff[0], ids["proposals"]["A"], "Tender announced")
    assert b"Tender announced" in client.get(page).data
    document = client.get(api, headers={"Accept-Language": "en"}).get_json()
    notes = [u["note"] for p in document["proposals"] for u in p["implementation"]]
    assert "Tender announced" in notes


def test_the_language_is_part_of_the_key(app, client, published_cycle):
    ids = published_cycle()
    for lang in ("en", "ru", "en", "ru"):
        response = client.get(f"/{lang}/cycles/{ids['cycle']}/results")
        assert f'<html lang="{lang}"'.encode() in response.data
    api = f"/api/v1/cycles/{ids['cycle']}/results"
    for _ in range(2):
        for lang in ("kk", "ru"):
            response = client.get(api, headers={"Accept-Language": lang})
            assert response.get_json()["title"] == response.get_json()["title_i18n"][lang]
            assert "Accept-Language" in response.headers.get("Vary", "")
    keys = _stored_keys(app)
    assert {key.rsplit(":", 2)[1:][0] + ":" + key.rsplit(":", 1)[1] for key in keys} >= {
        "page:en", "page:ru", "api:kk", "api:ru"}


def test_cached_page_sets_the_language_cookie_it_would_have_set(app, published_cycle):
    ids = published_cycle()
    url = f"/ru/cycles/{ids['cycle']}/results"
    warm = app.test_client()
    warm.get(url), warm.get(url)
    fresh = app.test_client()
    response = fresh.get(url)
    assert response.status_code == 200
    assert fresh.get_cookie("lang").value == "ru"


def test_signed_in_resident_gets_their_own_page_never_the_shared_one(app, client, published_cycle, make_user):
    ids = published_cycle()
    url = f"/en/cycles/{ids['cycle']}/results"
    anonymous = app.test_client()
    anonymous.get(url), anonymous.get(url)  # the anonymous page is now stored
    _, iin = make_user(name="Saule Private")
    login(client, iin)
    mine = client.get(url)
    assert mine.status_code == 200
    assert b"My account" in mine.data and b"Log out" in mine.data
    assert mine.headers["Cache-Control"] == "private, no-store"
    # ...and nothing personal was stored for the next anonymous visitor.
    again = app.test_client().get(url)
    assert b"My account" not in again.data and b"Log in" in again.data
    assert b"Saule Private" not in again.data


def test_staff_see_their_buttons_and_they_are_not_shared(app, client, published_cycle, staff):
    ids = published_cycle()
    url = f"/en/cycles/{ids['cycle']}/results"
    login(client, staff[1])
    staff_page = client.get(url)
    assert b"Add an implementation update" in staff_page.data
    visitor = app.test_client()
    for _ in range(3):
        page = visitor.get(url)
        assert b"Add an implementation update" not in page.data and b"Staff console" not in page.data


def test_an_unpublished_cycle_is_never_cached(app, client, counted_cycle, staff):
    ids = counted_cycle(phase="closed")  # staff see it from closed; nothing is shared
    login(client, staff[1])
    url = f"/en/cycles/{ids['cycle']}/results"
    for _ in range(2):
        assert client.get(url).status_code == 200
        assert client.get(f"/api/v1/cycles/{ids['cycle']}/results").status_code == 403
    assert _stored_keys(app) == []
    assert app.test_client().get(url).status_code == 403


def test_publication_clears_what_was_stored_before(app, client, counted_cycle, staff):
    from tests.helpers import conclude_all, publish

    ids = counted_cycle(phase="closed")
    api = f"/api/v1/cycles/{ids['cycle']}/results"
    assert client.get(api).status_code == 403
    conclude_all(app, ids, staff[0])
    publish(app, ids, staff[0])
    for _ in range(3):
        response = client.get(api)
        assert response.status_code == 200 and response.get_json()["phase"] == "published"


def test_a_query_string_or_a_session_cookie_bypasses_the_shared_copy(app, client, published_cycle):
    ids = published_cycle()
    url = f"/en/cycles/{ids['cycle']}/results"
    client.get(url), client.get(url)
    counter, stop = _count_queries(app)
    try:
        assert client.get(url + "?utm_source=x").status_code == 200
    finally:
        stop()
    assert counter["n"] > 0  # rendered, not served from the cache


def test_results_page_queries_do_not_grow_with_proposals(app, client, published_cycle, staff):
    ids = published_cycle()
    _add_update(app, staff[0], ids["proposals"]["A"], "Tender announced")
    _add_update(app, staff[0], ids["proposals"]["B"], "Works started")
    login(client, staff[1])  # signed in: rendered every time, never from the cache
    url = f"/en/cycles/{ids['cycle']}/results"
    client.get(url)
    counter, stop = _count_queries(app)
    try:
        assert client.get(url).status_code == 200
    finally:
        stop()
    assert counter["n"] <= 12, counter["n"]


def test_another_workers_invalidation_is_seen_within_the_local_seconds(app, client, published_cycle,
                                                                       staff, monkeypatch):
    """An update committed by another worker or host replaces the generation token in Redis
    only; this worker keeps serving its own copy for at most RESULTS_CACHE_LOCAL_SECONDS."""
    from app import results_cache

    ids = published_cycle()
    url = f"/en/cycles/{ids['cycle']}/results"
    client.get(url), client.get(url), client.get(url)  # stored, then served and kept locally
    local = app.extensions[results_cache.LOCAL_KEY]
    assert any(f":{ids['cycle']}:page:en" in key for key in local)
    with app.app_context():  # what the other worker's commit does: a new token in the shared cache
        add_implementation_update(db.session.get(User, staff[0]), db.session.get(Proposal, ids["proposals"]["A"]),
                                  "procurement", date(2026, 11, 1), {"en": "Tender announced"})
        db.session.info.pop("results_changed", None)  # ...so this worker's listener does nothing
        db.session.commit()
        backend = app.extensions["cache"][next(iter(app.extensions["cache"]))]
        backend.set(f"results-gen:{ids['cycle']}", "other-worker", timeout=0)
    assert b"Tender announced" not in client.get(url).data  # this worker's copy, still fresh
    now = results_cache.time.monotonic()
    monkeypatch.setattr(results_cache.time, "monotonic", lambda: now + app.config["RESULTS_CACHE_LOCAL_SECONDS"] + 1)
    assert b"Tender announced" in client.get(url).data
