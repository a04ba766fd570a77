"""What staff write, in three languages: the Expert Council's reasons, the akimat's
justifications and implementation notes are stored as one column per language (`<name>_kk`,
`<name>_ru`, `<name>_en`).

A reader gets their language, else the first other language with text (ru, kk, en), and the
page says which language it fell back to. A single string of unknown language (an old API
client, the data that existed before the columns were split) goes to the language its letters
show: Kazakh letters (ә ғ қ ң ө ұ ү һ і) → kk, other Cyrillic → ru, otherwise en — the same rule
the migration applied to the text already stored.
"""
import re

from app.domain.errors import N_, Np_
from app.languages import LANGUAGES

FALLBACK_ORDER = ("ru", "kk", "en")
_KAZAKH_LETTERS = re.compile("[әғқңөұүһіӘҒҚҢӨҰҮҺІ]")
_CYRILLIC = re.compile("[а-яА-ЯёЁ]")


def guess_language(text):
    """kk, ru or en from the letters of a text (see the module docstring)."""
    text = text or ""
    if _KAZAKH_LETTERS.search(text):
        return "kk"
    if _CYRILLIC.search(text):
        return "ru"
    return "en"


def texts_of(record, name):
    """{kk, ru, en} of a record's `<name>_<lang>` columns, None where there is no text."""
    return {lang: ((getattr(record, f"{name}_{lang}", None) or "").strip() or None) for lang in LANGUAGES}


def set_texts(record, name, texts):
    for lang in LANGUAGES:
        setattr(record, f"{name}_{lang}", texts.get(lang) or "")


def localized(texts, lang):
    """(text, language used) for a reader of `lang`: theirs, else the first other with text."""
    texts = texts or {}
    for candidate in (lang,) + tuple(code for code in FALLBACK_ORDER if code != lang):
        if texts.get(candidate):
            return texts[candidate], candidate
    return "", lang


def missing_languages(texts):
    """The languages without text, in kk, ru, en order."""
    texts = texts or {}
    return [lang for lang in LANGUAGES if not (texts.get(lang) or "").strip()]


def has_text(texts):
    return any((value or "").strip() for value in (texts or {}).values())


def clean_texts(errors, name, value, max_length, language=None):
    """{kk, ru, en} of stripped strings from a dict (by language) or a single string.

    A single string is the text in `language`, or in the language its letters show. Problems
    are added to `errors` under `<name>` (wrong shape) or `<name>_<lang>` (one text)."""
    if value is None:
        value = {}
    if isinstance(value, str):
        value = {language if language in LANGUAGES else guess_language(value): value}
    if not isinstance(value, dict):
        errors.add(name, N_("Give the texts by language (kk, ru, en)."))
        return {lang: "" for lang in LANGUAGES}
    cleaned = {}
    for lang in LANGUAGES:
        text = value.get(lang)
        if text is None:
            text = ""
        if not isinstance(text, str):
            errors.add(f"{name}_{lang}", N_("This field has the wrong type."))
            text = ""
        text = text.strip()
        if len(text) > max_length:
            errors.add(f"{name}_{lang}", Np_("At most %(n)s character.", "At most %(n)s characters."), n=max_length)
        cleaned[lang] = text
    return cleaned
