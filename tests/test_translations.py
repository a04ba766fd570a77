"""The catalogues are complete and the template is not stale."""
import re
import subprocess
import sys

import pytest
from babel.messages.pofile import read_po

from tests.helpers import ROOT

TRANSLATIONS = ROOT / "translations"


def load(lang):
    with open(TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po", "rb") as f:
        return read_po(f, locale=lang)


def msgids(catalog):
    return {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}


@pytest.mark.parametrize("lang, plurals", [("kk", 2), ("ru", 3)])
def test_catalogue_complete(lang, plurals):
    catalog = load(lang)
    assert catalog.num_plurals == plurals
    problems = []
    for message in catalog:
        if not message.id:
            continue
        if message.fuzzy:
            problems.append(f"fuzzy: {message.id!r}")
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if len(strings) != (plurals if message.pluralizable else 1) or not all(strings):
            problems.append(f"untranslated: {message.id!r}")
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        wanted = set(re.findall(r"%\((\w+)\)s", " ".join(ids)))
        for text in strings:
            if set(re.findall(r"%\((\w+)\)s", text or "")) - wanted:
                problems.append(f"unknown placeholder in {message.id!r}")
    assert not problems, "\n".join(problems[:50])


def test_template_is_not_stale(tmp_path):
    fresh = tmp_path / "messages.pot"
    from app.cli import EXTRACT_ARGS

    subprocess.run([sys.executable, "-m", "babel.messages.frontend", *EXTRACT_ARGS,
                    "-o", str(fresh), "app"], cwd=ROOT, check=True, capture_output=True)
    with open(fresh, "rb") as f:
        current = msgids(read_po(f))
    with open(TRANSLATIONS / "messages.pot", "rb") as f:
        committed = msgids(read_po(f))
    assert current == committed, (
        f"translations/messages.pot is stale: run `flask --app wsgi translate update`. "
        f"new: {sorted(current - committed)[:10]} gone: {sorted(committed - current)[:10]}")
    for lang in ("kk", "ru", "en"):
        assert msgids(load(lang)) == committed, f"{lang} catalogue is not updated"
