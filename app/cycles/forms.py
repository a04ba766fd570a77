from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import MultipleFileField, SelectField, StringField, SubmitField, TextAreaField

from app.domain.proposals import MAX_PHOTOS


class ProposalForm(FlaskForm):
    # Validation lives in app.domain.proposals: one set of rules and messages for pages and API.
    title = StringField(_l("Title"), render_kw={"maxlength": 200})
    description = TextAreaField(_l("Description"), description=_l(
        "What should be done, where and for whom. Formatting (Markdown): a blank line starts a new "
        "paragraph; **bold**, *italics*; a line starting with \"- \" or \"1. \" makes a list; "
        "[text](https://…) makes a link."))
    category = SelectField(_l("Category"), validate_choice=False)
    cost = StringField(_l("Estimated cost, tenge"), render_kw={"inputmode": "numeric"})
    address = StringField(_l("Address or place"), render_kw={"maxlength": 300})
    latitude = StringField(_l("Latitude (optional)"), render_kw={"inputmode": "decimal"})
    longitude = StringField(_l("Longitude (optional)"), render_kw={"inputmode": "decimal"})
    photos = MultipleFileField(_l("Photos (optional)"), description=_l(
        "Up to %(n)s photos, JPEG, PNG or WebP, at most 5 MB each.", n=MAX_PHOTOS),
        render_kw={"accept": "image/jpeg,image/png,image/webp"})
    submit = SubmitField(_l("Submit the proposal"))


class WithdrawForm(FlaskForm):
    submit = SubmitField(_l("Withdraw the proposal"))
