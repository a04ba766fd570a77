"""Shared by the cycles area's tests: translations from the real catalogues, small real
images, and a few data helpers."""
import functools
import io

import pytest
from babel.messages.pofile import read_po
from PIL import Image

from tests.conftest import ROOT, AuthActions, csrf_token  # noqa: F401


@functools.lru_cache(maxsize=None)
def _catalogue(lang):
    with open(ROOT / "translations" / lang / "LC_MESSAGES" / "messages.po", "rb") as f:
        return read_po(f, locale=lang)


def catalogue_translation(msgid, lang, **params):
    """What the kk or ru catalogue says for msgid (the page must show exactly this)."""
    message = _catalogue(lang).get(msgid)
    assert message is not None and message.string, f"{msgid!r} is not translated in {lang}"
    text = message.string if isinstance(message.string, str) else message.string[0]
    return text % params if params else text


@pytest.fixture
def tapp(app):
    return app


@pytest.fixture
def tclient(client):
    return client


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
