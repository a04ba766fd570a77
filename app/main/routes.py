from flask import redirect, render_template, url_for

from app.i18n import preferred_language
from app.languages import LANG_PREFIX
from app.main import bp


@bp.route("/")
def root():
    """`/` sends each visitor to their language: cookie, then Accept-Language, then Kazakh."""
    return redirect(url_for("main.index", lang_code=preferred_language()), code=302)


@bp.route(LANG_PREFIX + "/")
def index():
    from app.domain.cycles import current_cycles_by_phase

    return render_template("main/index.html", current_cycles=current_cycles_by_phase())


@bp.route(LANG_PREFIX + "/about")
def about():
    return render_template("main/about.html")
