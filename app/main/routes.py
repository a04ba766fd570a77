from flask import redirect, render_template, url_for
from flask_login import current_user

from app.i18n import preferred_language
from app.languages import LANG_PREFIX
from app.main import bp


@bp.route("/")
def root():
    """`/` sends each visitor to their language: cookie, then Accept-Language, then Kazakh."""
    return redirect(url_for("main.index", lang_code=preferred_language()), code=302)


@bp.route(LANG_PREFIX + "/")
def index():
    from app.domain.cycles import current_cycles_by_phase, recently_published
    from app.voting.summary import voting_box

    current = current_cycles_by_phase()
    boxes = {c.id: voting_box(current_user, c) for _phase, group in current for c in group}
    return render_template("main/index.html", current_cycles=current, boxes=boxes,
                           published=recently_published())


@bp.route(LANG_PREFIX + "/about")
def about():
    return render_template("main/about.html")
