import re
from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import func, or_, select

from app.auth import bp
from app.auth.forms import LoginForm, LogoutForm, RegisterForm
from app.domain import accounts
from app.domain.errors import DomainError, Throttled
from app.extensions import db
from app.i18n import LANGUAGES, translate
from app.models import Territory
from app.security import throttled_login, throttled_registration
from app.web import show_domain_error

MAX_SELECT_UNITS = 400
_UNSAFE_IN_NEXT = re.compile(r"[\x00-\x20\x7f\\]")
_LANG_PATH = re.compile(r"/(%s)(/|$)(?!/)" % "|".join(LANGUAGES))


def territory_choices(locale, search="", selected=None):
    """Units for a plain <select>, ordered as a tree and indented by depth. With the whole
    country loaded (15,000 units) the list is narrowed by a search on the name first."""
    query = select(Territory).order_by(Territory.path)
    total = db.session.scalar(select(func.count(Territory.id)))
    search = " ".join((search or "").split())[:60]
    if total > MAX_SELECT_UNITS:
        if search:
            pattern = f"%{search}%"
            query = query.where(or_(Territory.name_kk.ilike(pattern), Territory.name_ru.ilike(pattern),
                                    Territory.name_en.ilike(pattern), Territory.code == search))
        else:
            query = query.where(Territory.path.notlike("%/%/%/"))  # regions, cities and their units
        query = query.limit(MAX_SELECT_UNITS)
    units = db.session.scalars(query).all()
    if selected and selected not in {u.code for u in units}:
        chosen = db.session.scalar(select(Territory).where(Territory.code == selected))
        units = ([chosen] if chosen else []) + units
    return [("", _("Choose…"))] + [(u.code, "\u2003" * u.depth + u.name(locale)) for u in units], \
        total > MAX_SELECT_UNITS


def safe_next(target):
    """`target` when it is a path on this site under a language prefix, else None.

    An open redirect after login is a phishing tool. Browsers drop tabs and line breaks from a
    URL and read a backslash as a slash, so `/\t/evil.example` would leave the site: any control
    character, whitespace or backslash refuses the target (CR/LF would also break the header)."""
    if not target or _UNSAFE_IN_NEXT.search(target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not _LANG_PATH.match(parts.path):
        return None
    return target


@bp.route("/register", methods=["GET", "POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = RegisterForm()
    search = request.args.get("find", "")
    form.territory.choices, searchable = territory_choices(str(get_locale()), search,
                                                           form.territory.data)
    if form.validate_on_submit():
        try:
            throttled_registration()
            user = accounts.register_resident(
                iin=form.iin.data, full_name=form.full_name.data, territory_code=form.territory.data,
                password=form.password.data, phone=form.phone.data, email=form.email.data,
                locale=str(get_locale()), iin_key=current_app.config["IIN_HMAC_KEY"])
            db.session.commit()
        except Throttled as error:
            flash(translate(error.message), "error")
            return render_template("auth/register.html", form=form, searchable=searchable,
                                   search=search), 429, {"Retry-After": str(error.retry_after)}
        except DomainError as error:
            db.session.rollback()
            show_domain_error(form, error)
        else:
            next_url = safe_next(request.args.get("next"))
            session.clear()
            login_user(user)
            flash(_("Welcome, %(name)s! Your account is ready.", name=user.full_name), "success")
            return redirect(next_url or url_for("main.index"))
    return render_template("auth/register.html", form=form, searchable=searchable, search=search), \
        422 if form.errors else 200


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")) or url_for("main.index"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = throttled_login(form.iin.data, form.password.data)
        except Throttled as error:
            flash(translate(error.message), "error")
            return render_template("auth/login.html", form=form), 429, \
                {"Retry-After": str(error.retry_after)}
        if user is not None:
            db.session.commit()  # a rehashed password is saved
            next_url = safe_next(request.args.get("next"))
            session.clear()  # a new session on login: no fixation
            login_user(user)
            flash(_("You are logged in."), "success")
            return redirect(next_url or url_for("main.index"))
        form.password.errors = [_("The IIN or password is incorrect.")]
        status = 401
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    form = LogoutForm()
    if form.validate_on_submit():
        logout_user()
        session.clear()
        flash(_("You are logged out."), "info")
    return redirect(url_for("main.index"))


@bp.route("/account")
@login_required
def account():
    return render_template("auth/account.html", user=current_user)
