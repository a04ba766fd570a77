import re
from urllib.parse import urlsplit

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import func, or_, select

from app import eds_signin, notifications, registration
from app.auth import bp
from app.auth.forms import (
    ChangePasswordForm,
    EdsDemoForm,
    EdsForm,
    ForgotPasswordForm,
    HomeForm,
    LoginForm,
    LogoutEverywhereForm,
    LogoutForm,
    RegisterForm,
    ResetPasswordForm,
)
from app.domain import accounts
from app.domain.errors import DomainError, Throttled
from app.extensions import db
from app.i18n import LANGUAGES, translate
from app.models import Territory
from app.security import CSP, throttled_login
from app.web import show_domain_error, submit

MAX_SELECT_UNITS = 400
NCALAYER_SOCKET = "wss://127.0.0.1:13579"
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
        registration.throttle()  # 429 page with Retry-After (the app-wide DomainError handler)
        try:
            registration.register_quietly(
                iin=form.iin.data, full_name=form.full_name.data, territory_code=form.territory.data,
                password=form.password.data, phone=form.phone.data, email=form.email.data,
                locale=str(get_locale()))
            db.session.commit()
        except Throttled as error:
            flash(translate(error.message), "error")
            return render_template("auth/register.html", form=form, searchable=searchable,
                                   search=search), 429, {"Retry-After": str(error.retry_after)}
        except DomainError as error:
            db.session.rollback()
            show_domain_error(form, error)
        else:
            # The same answer whether the IIN was new or already had an account (whose holder
            # was told by email): the page must not say which IINs are registered.
            flash(_("Thank you. If this IIN had no account, it is ready: log in with your IIN "
                    "and password. If it already had one, its holder has been told."), "success")
            return redirect(url_for("auth.login", next=safe_next(request.args.get("next"))))
    return render_template("auth/register.html", form=form, searchable=searchable, search=search), \
        422 if form.errors else 200


def _login_page(form, status=200, headers=None):
    headers = dict(headers or {})
    # NCALayer listens on the resident's own computer: the page may open that socket only.
    headers["Content-Security-Policy"] = CSP + "; connect-src 'self' " + NCALAYER_SOCKET
    return render_template("auth/login.html", form=form, eds_form=EdsForm(),
                           demo_form=EdsDemoForm() if current_app.config.get("EDS_DEMO") else None,
                           next_url=safe_next(request.args.get("next"))), status, headers


def _signed_in(user, next_url=None):
    session.clear()  # a new session on login: no fixation
    login_user(user)
    if accounts.needs_home(user):
        flash(_("Welcome, %(name)s! Choose where you live to take part.", name=user.full_name),
              "success")
        # …then on to where they were going (the ballot behind "Sign in to vote").
        return redirect(url_for("auth.home", next=next_url))
    flash(_("You are logged in."), "success")
    return redirect(next_url or url_for("main.index"))


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
            return _login_page(form, 429, {"Retry-After": str(error.retry_after)})
        if user is not None:
            db.session.commit()  # a rehashed password is saved
            return _signed_in(user, safe_next(request.args.get("next")))
        form.password.errors = [_("The IIN or password is incorrect.")]
        status = 401
    return _login_page(form, status)


@bp.route("/login/eds", methods=["POST"])
def login_eds():
    """The page's script posts the challenge it had NCALayer sign, with the signature."""
    form = EdsForm()
    if not form.validate_on_submit():
        flash(_("The form has expired. Please go back, reload the page and try again."), "error")
        return redirect(url_for("auth.login"))
    user, _created = eds_signin.sign_in(form.challenge.data, form.cms.data)  # refusals: error page
    db.session.commit()
    return _signed_in(user, safe_next(form.next.data))


@bp.route("/login/eds/demo", methods=["POST"])
def login_eds_demo():
    """Development and demo only: the server signs with the demo certificate (EDS_DEMO)."""
    if not current_app.config.get("EDS_DEMO"):
        abort(404)
    form = EdsDemoForm()
    if not form.validate_on_submit():
        flash(_("The form has expired. Please go back, reload the page and try again."), "error")
        return redirect(url_for("auth.login"))
    user, _created = eds_signin.demo_sign_in()
    db.session.commit()
    return _signed_in(user, safe_next(request.form.get("next")))


@bp.route("/home", methods=["GET", "POST"])
@login_required
def home():
    """Choose (or change) where one lives: a declaration, verified later by the akimat."""
    if current_user.is_staff:
        abort(404)
    form = HomeForm()
    search = request.args.get("find", "")
    current = current_user.territory.code if current_user.territory else None
    form.territory.choices, searchable = territory_choices(str(get_locale()), search,
                                                           form.territory.data or current)
    if request.method == "GET" and current:
        form.territory.data = current
    done, status = submit(form, lambda: accounts.choose_home(current_user, form.territory.data),
                          _("Your home is saved."),
                          lambda user: safe_next(request.args.get("next")) or url_for("auth.account"))
    return done or (render_template("auth/home.html", form=form, searchable=searchable,
                                    search=search), status)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    form = LogoutForm()
    if form.validate_on_submit():
        # Server-side: the cookie's session_version stops matching, so a copy of this cookie
        # no longer works either. (It also ends the account's other browser sessions.)
        current_user.session_version = (current_user.session_version or 0) + 1
        db.session.commit()
        logout_user()
        session.clear()
        flash(_("You are logged out."), "info")
    return redirect(url_for("main.index"))


@bp.route("/logout/everywhere", methods=["POST"])
@login_required
def logout_everywhere():
    form = LogoutEverywhereForm()
    if form.validate_on_submit():
        accounts.sign_out_everywhere(current_user)
        db.session.commit()
        logout_user()
        session.clear()
        flash(_("You are logged out on every device, and your API tokens are revoked."), "info")
        return redirect(url_for("main.index"))
    return redirect(url_for("auth.account"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    user = current_user._get_current_object()

    def change():
        return accounts.change_password(user, form.current.data, form.new.data)

    def stay_signed_in(changed):
        login_user(changed)  # this browser keeps going; every other session and token has ended
        return url_for("auth.account")

    done, status = submit(form, change, _("Your password is changed. Other sessions are signed out."),
                          stay_signed_in)
    return done or (render_template("auth/password.html", form=form, has_password=bool(user.password_hash)),
                    status)


@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        registration.throttle_resets()
        user, token = accounts.request_password_reset(form.iin.data, current_app.config["IIN_HMAC_KEY"])
        db.session.commit()
        if user is not None:
            notifications.send_password_reset(user, token)
        # The same answer whether or not the IIN has an account with an email.
        flash(_("If this IIN has an account with an email address, a link to set a new password has "
                "been sent there. It works once, for one hour."), "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot.html", form=form), 400 if form.errors else 200


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token):
    form = ResetPasswordForm()
    done, status = submit(form, lambda: accounts.reset_password(token, form.new.data),
                          _("Your password is set. Log in with it."), lambda user: url_for("auth.login"))
    return done or (render_template("auth/reset.html", form=form), status)


@bp.route("/account")
@login_required
def account():
    return render_template("auth/account.html", user=current_user,
                           everywhere_form=LogoutEverywhereForm())
