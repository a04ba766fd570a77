from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, SelectField, StringField, SubmitField, TelField
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from app.domain.accounts import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH


class RegisterForm(FlaskForm):
    iin = StringField(_l("IIN"), validators=[DataRequired(message=_l("Enter your IIN."))],
                      description=_l("12 digits. It is stored only in a protected form and never shown."),
                      render_kw={"inputmode": "numeric", "autocomplete": "off", "maxlength": 14})
    full_name = StringField(_l("Full name"), validators=[DataRequired(message=_l("Enter your full name."))],
                            render_kw={"autocomplete": "name", "maxlength": 200})
    territory = SelectField(_l("Where you live"), validate_choice=False,
                            description=_l("The unit (city, district, rural district or village) of your home."))
    password = PasswordField(_l("Password"), validators=[DataRequired(message=_l("Enter a password."))],
                             description=lazy_ngettext("At least %(num)s character.", "At least %(num)s characters.",
                                                      MIN_PASSWORD_LENGTH),
                             render_kw={"autocomplete": "new-password", "maxlength": MAX_PASSWORD_LENGTH})
    password2 = PasswordField(_l("Repeat the password"),
                              validators=[EqualTo("password", message=_l("The passwords do not match."))],
                              render_kw={"autocomplete": "new-password"})
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
    territory = SelectField(_l("Where you live"), validate_choice=False,
                            description=_l("The unit (city, district, rural district or village) of your home."))
    submit = SubmitField(_l("Save"))


def _new_password(label):
    return PasswordField(label, validators=[DataRequired(message=_l("Enter a password."))],
                         description=lazy_ngettext("At least %(num)s character.", "At least %(num)s characters.",
                                                   MIN_PASSWORD_LENGTH),
                         render_kw={"autocomplete": "new-password", "maxlength": MAX_PASSWORD_LENGTH})


class ChangePasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), render_kw={"autocomplete": "current-password"})
    new = _new_password(_l("New password"))
    new2 = PasswordField(_l("Repeat the password"),
                         validators=[EqualTo("new", message=_l("The passwords do not match."))],
                         render_kw={"autocomplete": "new-password"})
    submit = SubmitField(_l("Change the password"))


class ForgotPasswordForm(FlaskForm):
    iin = StringField(_l("IIN"), validators=[DataRequired(message=_l("Enter your IIN."))],
                      render_kw={"inputmode": "numeric", "autocomplete": "username", "maxlength": 14})
    submit = SubmitField(_l("Send a reset link"))


class ResetPasswordForm(FlaskForm):
    new = _new_password(_l("New password"))
    new2 = PasswordField(_l("Repeat the password"),
                         validators=[EqualTo("new", message=_l("The passwords do not match."))],
                         render_kw={"autocomplete": "new-password"})
    submit = SubmitField(_l("Set the new password"))
