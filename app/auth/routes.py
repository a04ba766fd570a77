import re
import time
from urllib.parse import urlsplit

import segno
from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import func, or_, select

from app import eds_signin, notifications, phone_codes, registration, sms
from app.auth import bp
from app.auth.forms import (
    ChangePasswordForm,
    CodeForm,
    EdsDemoForm,
    EdsForm,
    ForgotPasswordForm,
    HomeForm,
    LoginForm,
    LogoutEverywhereForm,
    LogoutForm,
    PhoneForm,
    ProfileForm,
    RegisterForm,
    ResetPasswordForm,
    SecondFactorForm,
)
from app.domain import accounts, assurance, phone, second_factor
from app.domain.errors import DomainError, Throttled
from app.extensions import db
from app.i18n import LANGUAGES, translate
from app.models import SignIn, Territory, User
from app.security import CSP, throttled_login, throttled_second_factor
from app.web import domain_action, show_domain_error, submit

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


def _start_session(user, signed_in_with):
    session.clear()  # a new session on login: no fixation
    login_user(user)
    # The level this session counts for (assurance.session_level) and the staff's second factor.
    session["signed_in_with"] = user.signed_in_with = signed_in_with


def _signed_in(user, next_url=None, signed_in_with=SignIn.PASSWORD.value):
    _start_session(user, signed_in_with)
    # Without a page to return to, the site opens in the account's preferred language.
    lang = user.locale if user.locale in LANGUAGES and not next_url else str(get_locale())
    with force_locale(lang):
        if accounts.needs_home(user):
            flash(_("Welcome, %(name)s! Choose where you live to take part.", name=user.full_name),
                  "success")
            # …then on to where they were going (the ballot behind "Sign in to vote").
            return redirect(url_for("auth.home", lang_code=lang, next=next_url))
        flash(_("You are logged in."), "success")
    return redirect(next_url or url_for("main.index", lang_code=lang))


PENDING = "pending_second_factor"
PENDING_SECONDS = 900  # time to install an authenticator app at the first login


def _await_second_factor(user, next_url):
    """The password was right; a staff member still gives the app's code (or enrols first)."""
    session.clear()
    session[PENDING] = {"user": user.id, "version": user.session_version, "next": next_url,
                        "at": int(time.time())}
    return redirect(url_for("auth.second_factor_step"))


def _pending_user():
    pending = session.get(PENDING)
    if not isinstance(pending, dict) or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        return None, None
    user = db.session.get(User, pending.get("user"))
    if user is None or not user.is_active or user.session_version != pending.get("version"):
        return None, None
    return user, pending


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
            if second_factor.needed(user, current_app.config["STAFF_SECOND_FACTOR_REQUIRED"]):
                return _await_second_factor(user, safe_next(request.args.get("next")))
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
    return _signed_in(user, safe_next(form.next.data), SignIn.EDS.value)


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
    return _signed_in(user, safe_next(request.form.get("next")), signed_in_with=SignIn.EDS.value)


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
        flash(_("If this IIN has an account with an email address or a confirmed phone, a link to set "
                "a new password has been sent there. It works once, for one hour."), "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot.html", form=form), 400 if form.errors else 200


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token):
    form = ResetPasswordForm()
    done, status = submit(form, lambda: accounts.reset_password(token, form.new.data),
                          _("Your password is set. Log in with it."), lambda user: url_for("auth.login"))
    return done or (render_template("auth/reset.html", form=form), status)


@bp.route("/login/second-factor", methods=["GET", "POST"])
def second_factor_step():
    """After a staff member's right password: the authenticator's code, or enrolment first."""
    user, pending = _pending_user()
    if user is None:
        flash(_("Please log in again."), "info")
        return redirect(url_for("auth.login"))
    form = SecondFactorForm()
    if not second_factor.is_enrolled(user):
        return _enrol(user, form, pending)
    status = 200
    if form.validate_on_submit():
        try:
            ok = throttled_second_factor(user, form.code.data)
        except Throttled as error:
            db.session.rollback()
            flash(translate(error.message), "error")
            return render_template("auth/second_factor.html", form=form), 429, \
                {"Retry-After": str(error.retry_after)}
        if ok:
            db.session.commit()
            return _signed_in(user, pending.get("next"), SignIn.PASSWORD_TOTP.value)
        db.session.rollback()
        form.code.errors = [_("The code is incorrect. Enter the six digits your authenticator app shows now.")]
        status = 401
    elif form.errors:
        status = 400
    return render_template("auth/second_factor.html", form=form), status


def _enrol(user, form, pending=None):
    """Show the secret (text and QR code) and take the first code; then the recovery codes."""
    secret = second_factor.begin_enrolment(user)
    db.session.commit()
    status = 200
    if form.validate_on_submit():
        with domain_action(form) as outcome:
            codes = second_factor.confirm_enrolment(user, form.code.data)
        if not outcome.failed:
            if pending is not None:
                _start_session(user, SignIn.PASSWORD_TOTP.value)
            flash(_("Your authenticator app is set up."), "success")
            return render_template("auth/recovery_codes.html", codes=codes,
                                   next_url=(pending or {}).get("next") or url_for("auth.account"))
        status = outcome.status
    elif form.errors:
        status = 400
    uri = second_factor.provisioning_uri(user)
    return render_template("auth/enrol.html", form=form, secret=secret,
                           secret_groups=" ".join(secret[i:i + 4] for i in range(0, len(secret), 4)),
                           qr=segno.make(uri, error="m").svg_data_uri(scale=5, dark="#000", light="#fff"),
                           required=current_app.config["STAFF_SECOND_FACTOR_REQUIRED"]), status


@bp.route("/account/second-factor", methods=["GET", "POST"])
@login_required
def second_factor_settings():
    user = current_user._get_current_object()
    if not user.is_staff:
        abort(404)
    if not second_factor.is_enrolled(user):
        return _enrol(user, SecondFactorForm())
    return render_template("auth/second_factor_status.html", user=user,
                           left=second_factor.recovery_codes_left(user))


def _account_page(profile_form, phone_form, status=200):
    user = current_user._get_current_object()
    return render_template(
        "auth/account.html", user=user, everywhere_form=LogoutEverywhereForm(), form=profile_form,
        phone_form=phone_form, phone_confirmed=phone.is_confirmed(user), sms_available=sms.available(),
        pending_phone=phone.pending(user), level=assurance.session_level(user),
        second_factor_on=second_factor.is_enrolled(user),
        second_factor_required=current_app.config["STAFF_SECOND_FACTOR_REQUIRED"]), status


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    """The profile: contact, language, email choices, phone, identity and residence."""
    user = current_user._get_current_object()
    form = ProfileForm(obj=None if request.method == "POST" else user)

    def save():
        # Staff have no proposals of their own: their page has no such choices to send.
        choices = {} if user.is_staff else {"notify_proposals": form.notify_proposals.data,
                                            "notify_results": form.notify_results.data}
        return accounts.update_profile(user, email=form.email.data or "", locale=form.locale.data, **choices)

    done, status = submit(form, save, _("Your profile is saved."),
                          lambda saved: url_for("auth.account", lang_code=saved.locale))
    return done or _account_page(form, PhoneForm(formdata=None), status)


@bp.route("/account/phone", methods=["POST"])
@login_required
def send_phone_code():
    user = current_user._get_current_object()
    form = PhoneForm()
    if form.validate_on_submit():
        try:
            phone_codes.send_code(user, form.phone.data)
        except DomainError as error:
            db.session.rollback()
            show_domain_error(form, error)
            headers = {"Retry-After": str(error.retry_after)} if getattr(error, "retry_after", None) else {}
            return _account_page(ProfileForm(formdata=None, obj=user), form, error.status) + (headers,)
        flash(_("We sent a six-digit code to your phone. Enter it below."), "success")
        return redirect(url_for("auth.confirm_phone"))
    return _account_page(ProfileForm(formdata=None, obj=user), form, 400)


@bp.route("/account/phone/confirm", methods=["GET", "POST"])
@login_required
def confirm_phone():
    user = current_user._get_current_object()
    pending = phone.pending(user)
    form = CodeForm()
    status = 200
    if form.validate_on_submit():
        try:
            phone_codes.confirm_code(user, form.code.data)
        except DomainError as error:
            db.session.rollback()
            show_domain_error(form, error)
            status = error.status
            pending = phone.pending(user)
        else:
            flash(_("Your phone number is confirmed."), "success")
            return redirect(url_for("auth.account"))
    elif form.errors:
        status = 400
    return render_template("auth/confirm_phone.html", form=form, pending=pending), status
