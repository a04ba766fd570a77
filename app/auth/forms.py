from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    SelectField,
    StringField,
    SubmitField,
    TelField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from app.domain.accounts import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from app.languages import LANGUAGE_NAMES


def _new_password(label):
    return PasswordField(label, validators=[DataRequired(message=_l("Enter a password."))],
                         description=lazy_ngettext("At least %(num)s character.", "At least %(num)s characters.",
                                                   MIN_PASSWORD_LENGTH),
                         render_kw={"autocomplete": "new-password", "maxlength": MAX_PASSWORD_LENGTH})


def _repeated_password(of):
    return PasswordField(_l("Repeat the password"),
                         validators=[EqualTo(of, message=_l("The passwords do not match."))],
                         render_kw={"autocomplete": "new-password"})


def _home_territory():
    return SelectField(_l("Where you live"), validate_choice=False,
                       description=_l("The unit (city, district, rural district or village) of your home."))


class RegisterForm(FlaskForm):
    iin = StringField(_l("IIN"), validators=[DataRequired(message=_l("Enter your IIN."))],
                      description=_l("12 digits. It is stored only in a protected form and never shown."),
                      render_kw={"inputmode": "numeric", "autocomplete": "off", "maxlength": 14})
    full_name = StringField(_l("Full name"), validators=[DataRequired(message=_l("Enter your full name."))],
                            render_kw={"autocomplete": "name", "maxlength": 200})
    territory = _home_territory()
    password = _new_password(_l("Password"))
    password2 = _repeated_password("password")
    phone = TelField(_l("Phone (optional)"), validators=[Optional(), Length(max=20)],
                     render_kw={"autocomplete": "tel"})
    email = EmailField(_l("Email (optional)"), validators=[Optional(), Length(max=200)],
                       render_kw={"autocomplete": "email"})
    submit = SubmitField(_l("Create account"))


class LoginForm(FlaskForm):
    iin = StringField(_l("IIN"), validators=[DataRequired(message=_l("Enter your IIN."))],
                      render_kw={"inputmode": "numeric", "autocomplete": "username", "maxlength": 14})
    password = PasswordField(_l("Password"), validators=[DataRequired(message=_l("Enter a password."))],
                             render_kw={"autocomplete": "current-password"})
    submit = SubmitField(_l("Log in"))


class LogoutForm(FlaskForm):
    submit = SubmitField(_l("Log out"))


class LogoutEverywhereForm(FlaskForm):
    submit = SubmitField(_l("Log out on every device"))


class EdsForm(FlaskForm):
    """Filled by static/js/eds-login.js with the challenge and NCALayer's CMS signature."""
    challenge = HiddenField(validators=[DataRequired()])
    cms = HiddenField(validators=[DataRequired()])
    next = HiddenField()


class EdsDemoForm(FlaskForm):
    submit = SubmitField(_l("Demo certificate (not a real EDS)"))


class HomeForm(FlaskForm):
    territory = _home_territory()
    submit = SubmitField(_l("Save"))


class ChangePasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), render_kw={"autocomplete": "current-password"})
    new = _new_password(_l("New password"))
    new2 = _repeated_password("new")
    submit = SubmitField(_l("Change the password"))


class ForgotPasswordForm(FlaskForm):
    iin = StringField(_l("IIN"), validators=[DataRequired(message=_l("Enter your IIN."))],
                      render_kw={"inputmode": "numeric", "autocomplete": "username", "maxlength": 14})
    submit = SubmitField(_l("Send a reset link"))


class ResetPasswordForm(FlaskForm):
    new = _new_password(_l("New password"))
    new2 = _repeated_password("new")
    submit = SubmitField(_l("Set the new password"))


class ProfileForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[Optional(), Length(max=200)],
                       description=_l("For the emails you choose below and for password reset links."),
                       render_kw={"autocomplete": "email"})
    locale = SelectField(_l("Language"), choices=[SelectChoice(code, name) for code, name in LANGUAGE_NAMES.items()],
                         validate_choice=False,
                         description=_l("Emails come in this language, and the site opens in it after you log in."))
    notify_proposals = BooleanField(_l("Email me when my proposal is reviewed or the akimat concludes on it"))
    notify_results = BooleanField(_l("Email me when the results of a cycle with my proposal are published"))
    submit = SubmitField(_l("Save"))


class PhoneForm(FlaskForm):
    phone = TelField(_l("Mobile phone number"), validators=[DataRequired(message=_l("Enter the phone number."))],
                     description=_l("With the country code, e.g. +77011234567. We send a six-digit code to it."),
                     render_kw={"autocomplete": "tel", "inputmode": "tel", "maxlength": 25})
    submit = SubmitField(_l("Send the code"))


class CodeForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(message=_l("Enter the code."))],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", "maxlength": 12})
    submit = SubmitField(_l("Confirm"))


class SecondFactorForm(FlaskForm):
    code = StringField(_l("Code from your authenticator app"),
                       validators=[DataRequired(message=_l("Enter the code."))],
                       description=_l("Six digits, or one of your recovery codes."),
                       render_kw={"autocomplete": "one-time-code", "maxlength": 12})
    submit = SubmitField(_l("Continue"))
