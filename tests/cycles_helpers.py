"""Shared by the cycles area's tests: translations from the real catalogues, small real
images, and a few data helpers."""
import io

import pytest
from PIL import Image

from tests.conftest import ROOT, AuthActions, catalogue_translation, csrf_token  # noqa: F401


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
