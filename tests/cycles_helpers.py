"""Shared by the cycles area's tests: a catalogue built from translations/pending/cycles.json
(so translated errors are checked before the lead merges the catalogues), small real images,
and a few data helpers."""
import io
import json

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from flask_babel import Domain
from PIL import Image

from tests.conftest import ROOT, AuthActions, csrf_token  # noqa: F401

PENDING = ROOT / "translations" / "pending" / "cycles.json"


def pending_translation(msgid, lang, **params):
    text = json.loads(PENDING.read_text(encoding="utf-8"))[msgid][lang]
    return text % params if params else text


def build_catalogues(target):
    """Compile the pending kk/ru translations into target/<lang>/LC_MESSAGES/messages.mo."""
    pending = json.loads(PENDING.read_text(encoding="utf-8"))
    for lang in ("kk", "ru"):
        catalog = Catalog(locale=lang)
        for msgid, entry in pending.items():
            if "plural" in entry:
                catalog.add((msgid, entry["plural"]), tuple(entry[lang]))
            else:
                catalog.add(msgid, entry[lang])
        folder = target / lang / "LC_MESSAGES"
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / "messages.mo", "wb") as f:
            write_mo(f, catalog)
    return target


@pytest.fixture
def tapp(make_app, app, tmp_path):
    """The app with the real catalogues (when compiled) plus this area's pending translations."""
    folder = build_catalogues(tmp_path / "pending-translations")
    made = make_app(BABEL_TRANSLATION_DIRECTORIES=f"{ROOT / 'translations'};{folder}")
    # Flask-Babel caches catalogues in one Domain shared by every app in the process: this app
    # gets its own, so neither app sees the other's catalogues.
    domain = Domain()

    @made.before_request
    def own_translation_domain():
        domain.as_default()

    return made


@pytest.fixture
def tclient(tapp):
    return tapp.test_client()


def image_bytes(fmt="PNG", size=(64, 48), color=(30, 120, 200), exif=None):
    buffer = io.BytesIO()
    image = Image.new("RGB", size, color)
    kwargs = {"exif": exif} if exif is not None else {}
    image.save(buffer, fmt, **kwargs)
    return buffer.getvalue()


def login(client, iin, lang="en"):
    response = AuthActions(client).login(iin, lang=lang)
    assert response.status_code == 302, response.data[:500]
    return response
