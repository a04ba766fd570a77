"""Template helpers shared by every area: the language switch and the locale formatting filters.

Every number, percent, sum of money and date a person reads goes through these (glossary,
"Formatting"): "380 000", "0,02 %", "100 000 000 ₸", "2 наурыз 2025 ж.". Machine outputs (API,
CSV, Atom timestamps) keep ISO dates and plain numbers and do not use them.
"""
from types import SimpleNamespace

from flask import request, url_for
from flask_babel import format_decimal, format_percent, get_locale
from flask_babel import gettext as _
from jinja2 import pass_context
from markupsafe import Markup, escape

from app.domain import texts
from app.i18n import NBSP, format_when
from app.labels import FALLBACK_NOTES, label_context
from app.web import explain, public_url

PERCENT_PATTERNS = {"kk": f"#,##0.##{NBSP}%", "ru": f"#,##0.##{NBSP}%", "en": "#,##0.##%"}


def _lang():
    code = str(get_locale() or "kk")
    return code if code in PERCENT_PATTERNS else "en"


def switch_language_url(lang):
    """The current page in another language (same endpoint and arguments)."""
    if request.endpoint and request.url_rule and "lang_code" in request.url_rule.arguments:
        args = dict(request.view_args or {}, lang_code=lang)
        args.update(request.args.to_dict(flat=True))
        return url_for(request.endpoint, **args)
    return url_for("main.index", lang_code=lang)


def number(value):
    """380 000 (kk, ru), 380,000 (en); empty for None."""
    if value is None:
        return ""
    return format_decimal(value, format="#,##0.##")


def percent(share):
    """A share (0.0002) as "0,02 %": at most two decimals, no-break space before % in kk and ru."""
    if share is None:
        return ""
    return format_percent(share, format=PERCENT_PATTERNS[_lang()])


def format_tenge(amount):
    """Plain text money, for feeds and emails: "100 000 000 ₸" with no-break spaces."""
    if amount is None:
        return ""
    return f"{format_decimal(amount, format='#,##0')}{NBSP}₸"


def tenge(amount):
    """Money on a page: like format_tenge, in a span that never wraps (₸ never alone on a line)."""
    if amount is None:
        return ""
    return Markup('<span class="money">%s</span>') % format_tenge(amount)


def date(value):
    """The `date` filter: «16 желтоқсан 2026 ж.» (app.i18n.format_when)."""
    return format_when(value)


def datetime(value):
    """The `datetime` filter: «16 желтоқсан 2026 ж., 18:00», without seconds."""
    return format_when(value, with_time=True)


def nowrap(text):
    return Markup('<span class="nowrap">%s</span>') % escape(text)


def _counting_ngettext(original):
    """Jinja's ngettext with %(num)s formatted for the locale ("10 000 таңба"); the plural form
    is still chosen from the number itself."""
    @pass_context
    def ngettext(context, singular, plural, count, /, **variables):
        variables.setdefault("num", number(count))
        return context.call(original, singular, plural, count, **variables)
    return ngettext


def localized(texts_by_language):
    """A staff text for this page: the text, its language, and the fallback note when it is not
    the page's language (app.domain.texts.localized chooses)."""
    lang = str(get_locale())
    text, used = texts.localized(texts_by_language, lang)
    fallback = bool(text) and used != lang
    return SimpleNamespace(text=text, lang=used, fallback=fallback,
                           note=FALLBACK_NOTES[used] if fallback else "")


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
                                 cycle_title=cycle_title,
                                 ngettext=_counting_ngettext(app.jinja_env.globals["ngettext"]))
    app.jinja_env.filters.update(tenge=tenge, datetime=datetime, date=date, number=number, percent=percent,
                                 nowrap=nowrap, explain=explain)
    app.context_processor(label_context)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
