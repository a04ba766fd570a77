"""What the browser tests check on any page: axe-core, sideways scrolling, stray Latin script,
and the interface's own words (from the catalogues, so the tests follow the translators)."""
import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

ROOT = Path(__file__).resolve().parents[2]
AXE_JS = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"

_AXE_SOURCE = None


def axe_violations(page, impacts=("critical", "serious")):
    """axe-core's violations on the page as loaded, of the given impacts."""
    global _AXE_SOURCE
    if _AXE_SOURCE is None:
        _AXE_SOURCE = AXE_JS.read_text(encoding="utf-8")
    # Evaluated through the DevTools protocol, so the site's strict CSP stays as it is.
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(_AXE_SOURCE)
    results = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [v for v in results["violations"] if v["impact"] in impacts]


def describe_violations(violations):
    lines = []
    for v in violations:
        targets = ", ".join(" ".join(node["target"]) if isinstance(node["target"], list) else
                            str(node["target"]) for node in v["nodes"][:5])
        more = f" (+{len(v['nodes']) - 5} more)" if len(v["nodes"]) > 5 else ""
        lines.append(f"{v['impact']}: {v['id']} — {v['help']} — on {targets}{more}")
    return lines


def assert_accessible(page):
    """No critical or serious axe-core violation on the page."""
    violations = axe_violations(page)
    assert not violations, f"axe-core on {page.url}:\n" + "\n".join(describe_violations(violations))


def horizontal_overflow(page, width):
    """How many CSS pixels the page is wider than a `width`-pixel screen (0 when it fits)."""
    measure = "() => Math.max(0, document.scrollingElement.scrollWidth - window.innerWidth)"
    size = page.viewport_size
    if size["width"] == width:
        return page.evaluate(measure)
    page.set_viewport_size({"width": width, "height": size["height"]})
    try:
        return page.evaluate(measure)
    finally:
        page.set_viewport_size(size)


def assert_no_horizontal_scroll(page, widths=(390, 320)):
    """document.scrollingElement.scrollWidth <= innerWidth at each width."""
    wide = {w: o for w in widths if (o := horizontal_overflow(page, w))}
    assert not wide, f"{page.url} scrolls sideways: " + ", ".join(
        f"{w + o} px wide at {w} px" for w, o in wide.items())


@functools.lru_cache(maxsize=None)
def _catalogue(lang):
    from babel.messages.pofile import read_po

    with open(ROOT / "translations" / lang / "LC_MESSAGES" / "messages.po", "rb") as f:
        return read_po(f, locale=lang)


def ui_text(lang, msgid):
    """What the interface says for msgid in lang (the catalogue's words, so tests follow it)."""
    if lang == "en":
        return msgid
    message = _catalogue(lang).get(msgid)
    assert message is not None and message.string, f"{msgid!r} is not translated in {lang}"
    return message.string if isinstance(message.string, str) else message.string[0]


def ui_ntext(lang, msgid, n):
    """What the interface says for the counted msgid (its singular) and n, in lang's plural
    form for n, with %(num)s filled in."""
    import gettext

    message = _catalogue(lang).get(msgid)
    assert message is not None and isinstance(message.string, tuple) and all(message.string), \
        f"{msgid!r} is not translated in {lang} as a counted message"
    form = gettext.c2py(_catalogue(lang).plural_expr)(n)
    return message.string[form] % {"num": n}


LOGIN_WORDS = {lang: {"login": ui_text(lang, "Log in"), "logout": ui_text(lang, "Log out"),
                      "iin": ui_text(lang, "IIN"), "password": ui_text(lang, "Password")}
               for lang in ("kk", "ru", "en")}


# --- Latin script on kk and ru pages ------------------------------------------------------

def _open_data_codes():
    """The codes results.csv writes (categories, statuses, decisions, booleans, languages): the
    page that documents its columns names them as they appear in the file."""
    from app.models import Category, Decision, ImplementationStatus, ProposalStatus

    codes = {"true", "false", "kk", "ru", "en", "not", "in", "id", "proposals"}  # and the path /proposals/<n>
    for enum in (Category, Decision, ImplementationStatus, ProposalStatus):
        for member in enum:
            codes.update(member.value.split("_"))
    return codes


_CODES = _open_data_codes()


# Words that stay in Latin script in every language: the product's and formats' names, codes.
LATIN_ALLOWED = {
    "Qatysu", "Q",                              # the product's name, and its logo's letter
    "KATO", "CSV", "PDF", "JSON", "API", "URL", "Atom", "RSS", "SHA", "UTF",  # codes, formats
    "Pabulib",                                  # the open data format's name
    "IBAN", "BIN",
    "NCALayer", "Excel", "LibreOffice", "BOM", "Python",  # programs' and a byte mark's names
    "OpenStreetMap", "Leaflet", "GeoJSON", "QGIS",        # the maps' data, library, format, a program
} | _CODES
# Stripped before looking for words: addresses, e-mails, file names (results.csv, ballots.pb),
# and codes that mix letters and digits (SHA-256 digests, receipt codes, document numbers).
_NOT_WORDS = re.compile(r"https?://\S+|\S+@\S+\.\w+|[\w.-]+\.(?:csv|pb|pdf|json|atom|xml|kz)\b"
                        r"|\b(?=[A-Za-z-]*\d)[A-Za-z0-9-]*[A-Za-z][A-Za-z0-9-]*\b")
_LATIN_WORD = re.compile(r"[A-Za-z\u00C0-\u024F][A-Za-z\u00C0-\u024F'’-]*")

# The text a person sees in the page's own language: text nodes that are rendered, outside
# script/style, and not inside an element that says it is in another language (lang="…"),
# such as the language switcher or a conclusion shown in its original language.
_VISIBLE_TEXT_JS = """() => {
  const pageLang = (document.documentElement.lang || '').slice(0, 2);
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const parts = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!el || !node.nodeValue.trim()) continue;
    if (el.closest('script, style, noscript, template')) continue;
    if (el.closest('code, pre, kbd, samp')) continue;  // code is read by computers, not prose
    if (!el.checkVisibility({visibilityProperty: true})) continue;
    const marked = el.closest('[lang]');
    if (marked && marked.lang.slice(0, 2) !== pageLang) continue;
    parts.push(node.nodeValue);
  }
  return parts.join(' ');
}"""


def visible_text(page):
    return page.evaluate(_VISIBLE_TEXT_JS)


def latin_words(text):
    """Latin-script words in text beyond the allowlist, in order of appearance, once each."""
    found = []
    for word in _LATIN_WORD.findall(_NOT_WORDS.sub(" ", text)):
        word = word.strip("'’-")
        if word and word not in LATIN_ALLOWED and word not in found:
            found.append(word)
    return found


# --- the crawl of public pages ------------------------------------------------------------

# Every public page is of one of these kinds (path after /<lang>); a page of none is "other",
# checked all the same.
PAGE_KINDS = [
    ("home", r"/"),
    ("about", r"/about"),
    ("cycles", r"/cycles"),
    ("cycle", r"/cycles/\d+"),
    ("proposal", r"/proposals/\d+"),
    ("protocol", r"/cycles/\d+/protocol"),
    ("results-index", r"/results"),
    ("results", r"/cycles/\d+/results"),
    ("results-protocol", r"/cycles/\d+/results/protocol"),
    ("login", r"/login"),
    ("register", r"/register"),
]
# Links to files (conclusion PDFs, photos, feeds) are downloads, not pages.
_FILE = re.compile(r"\.[A-Za-z0-9]{2,5}$")


def page_kind(path):
    rest = re.sub(r"^/(kk|ru|en)(?=/|$)", "", path) or "/"
    for kind, pattern in PAGE_KINDS:
        if re.fullmatch(pattern, rest):
            return kind
    return "other"


@dataclass
class PageReport:
    """What the checks found on one page: for each check, a list of problems (empty = fine)."""
    path: str
    kind: str
    status: int
    problems: dict = field(default_factory=dict)


def check_page(page, lang):
    """Run every check on the page as loaded; returns {check: [problem, …]}."""
    problems = {"axe": describe_violations(axe_violations(page))}
    for width in (390, 320):
        overflow = horizontal_overflow(page, width)
        problems[f"scroll-{width}"] = [f"{width + overflow} px wide at {width} px"] if overflow else []
    if lang in ("kk", "ru"):
        words = latin_words(visible_text(page))
        problems["latin"] = [f"Latin-script words: {', '.join(words)}"] if words else []
    return problems


def crawl(context, lang, limit=150):
    """Visit /<lang>/ and every same-origin page it links to under /<lang>/, breadth first,
    logged out, at most `limit` pages; returns (reports, pages left unvisited)."""
    page = context.new_page()
    queue, seen, reports = [f"/{lang}/"], {f"/{lang}/"}, []
    while queue and len(reports) < limit:
        target = queue.pop(0)
        response = page.goto(target)
        here = urlsplit(page.url)
        origin = (here.scheme, here.netloc)
        status = response.status if response else 0
        report = PageReport(path=target, kind=page_kind(here.path), status=status)
        if status < 400:
            report.problems = check_page(page, lang)
        reports.append(report)
        for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)"):
            link = urlsplit(urljoin(page.url, href))
            if (link.scheme, link.netloc) != origin or _FILE.search(link.path):
                continue
            if not (link.path == f"/{lang}" or link.path.startswith(f"/{lang}/")):
                continue
            key = link.path + (f"?{link.query}" if link.query else "")
            if key not in seen:
                seen.add(key)
                queue.append(key)
    page.close()
    return reports, queue
