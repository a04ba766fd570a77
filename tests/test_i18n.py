import re

import pytest


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
@pytest.mark.parametrize("path", ["/", "/about", "/login", "/register"])
def test_every_page_in_every_language(client, territories, lang, path):
    response = client.get(f"/{lang}{path}")
    assert response.status_code == 200
    assert f'<html lang="{lang}"'.encode() in response.data


def test_pages_are_translated(client, territories):
    assert "Тіркелу".encode() in client.get("/kk/register").data
    assert "Регистрация".encode() in client.get("/ru/register").data
    assert b"Register" in client.get("/en/register").data


def test_root_redirects_by_cookie_then_accept_language_then_kazakh(client):
    assert client.get("/").headers["Location"].endswith("/kk/")
    assert client.get("/", headers={"Accept-Language": "ru-RU,ru;q=0.9"}).headers["Location"].endswith("/ru/")
    assert client.get("/", headers={"Accept-Language": "de, en;q=0.5"}).headers["Location"].endswith("/en/")
    client.get("/en/about")  # visiting a language remembers it
    assert client.get("/", headers={"Accept-Language": "ru"}).headers["Location"].endswith("/en/")


def test_unknown_language_prefix_is_404(client):
    assert client.get("/de/").status_code == 404


def test_language_switcher_keeps_the_path(client, territories):
    html = client.get("/en/register").get_data(as_text=True)
    links = re.findall(r'href="([^"]+)" lang="(kk|ru)"', html)
    assert dict((lang, href) for href, lang in links) == {"kk": "/kk/register", "ru": "/ru/register"}


def test_error_pages_are_translated(client):
    response = client.get("/ru/no-such-page")
    assert response.status_code == 404
    assert "не существует".encode() in response.data
    assert b'<html lang="ru"' in response.data
