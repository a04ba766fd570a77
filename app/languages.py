"""The site's languages: the one list every layer uses (no Flask here, so the domain can too)."""

LANGUAGES = ("kk", "ru", "en")
DEFAULT_LANGUAGE = "kk"
LANGUAGE_NAMES = {"kk": "Қазақша", "ru": "Русский", "en": "English"}
# The state languages: texts staff must write in both (English is optional, with a fallback).
STATE_LANGUAGES = ("kk", "ru")

# Every page lives under /kk/, /ru/ or /en/ (Flask's URL-processor pattern, see app.i18n).
LANG_PREFIX = "/<any(kk, ru, en):lang_code>"
