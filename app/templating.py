"""Template helpers shared by every area."""
from types import SimpleNamespace

from flask import request, url_for
from flask_babel import format_date, format_datetime, format_decimal, get_locale
from flask_babel import gettext as _
from markupsafe import Markup, escape

from app.domain import texts
from app.i18n import format_moment
from app.labels import FALLBACK_NOTES, label_context
from app.web import explain, public_url


def switch_language_url(lang):
    """The current page in another language (same endpoint and arguments)."""
    if request.endpoint and request.url_rule and "lang_code" in request.url_rule.arguments:
        args = dict(request.view_args or {}, lang_code=lang)
        args.update(request.args.to_dict(flat=True))
        return url_for(request.endpoint, **args)
    return url_for("main.index", lang_code=lang)


def tenge(amount):
    if amount is None:
        return ""
    return f"{format_decimal(amount, format='#,##0')} ₸"


def localized(texts_by_language):
    """A staff text for this page: the text, its language, and the fallback note when it is not
    the page's language (app.domain.texts.localized chooses)."""
    lang = str(get_locale())
    text, used = texts.localized(texts_by_language, lang)
    fallback = bool(text) and used != lang
    return SimpleNamespace(text=text, lang=used, fallback=fallback,
                           note=FALLBACK_NOTES[used] if fallback else "")


def long_date(moment):
    """A date as the glossary writes it: «2 марта 2025 г.», no time, no seconds."""
    return format_date(moment, "long") if moment is not None else ""


def cycle_title(cycle):
    """The cycle's title in the page's language; English is optional, so an English page shows
    the Russian (or Kazakh) title, marked with its language and a note saying so."""
    lang = str(get_locale())
    own = getattr(cycle, f"title_{lang}", "")
    if own or lang != "en":
        return escape(own or cycle.title(lang))
    for other, note in (("ru", _("no title in English; shown in Russian")),
                        ("kk", _("no title in English; shown in Kazakh"))):
        text = getattr(cycle, f"title_{other}", "")
        if text:
            return Markup('<span lang="{}">{}</span> <small class="muted">({})</small>').format(other, text, note)
    return escape(cycle.title(lang))


def init_app(app):
    app.jinja_env.globals.update(switch_language_url=switch_language_url, public_url=public_url, localized=localized,
                                 cycle_title=cycle_title)
    app.jinja_env.filters.update(tenge=tenge, datetime=format_datetime, explain=explain,
                                 moment=format_moment, long_date=long_date)
    app.context_processor(label_context)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
