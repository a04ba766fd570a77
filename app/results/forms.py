from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms.fields.choices import SelectChoice
from wtforms import BooleanField, DateField, RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from app.domain.conclusions import MAX_JUSTIFICATION, MAX_NOTE


class ConclusionForm(FlaskForm):
    decision = RadioField(_l("Decision"), choices=[
        SelectChoice("approved", _l("Approved for implementation")),
        SelectChoice("not_approved", _l("Not approved"))],
        validators=[DataRequired(message=_l("Choose approved or not approved."))])
    justification_kk = TextAreaField(_l("Justification in Kazakh"),
                                     validators=[Optional(), Length(max=MAX_JUSTIFICATION)])
    justification_ru = TextAreaField(_l("Justification in Russian"),
                                     validators=[Optional(), Length(max=MAX_JUSTIFICATION)])
    justification_en = TextAreaField(_l("Justification in English"),
                                     validators=[Optional(), Length(max=MAX_JUSTIFICATION)])
    document = FileField(_l("Signed document (PDF, optional)"),
                         description=_l("At most 10 MB."), render_kw={"accept": "application/pdf"})
    document_number = StringField(_l("Document number (optional)"), validators=[Optional(), Length(max=60)])
    document_date = DateField(_l("Document date (optional)"), validators=[Optional()])
    submit = SubmitField(_l("Save the conclusion"))


class PublishForm(FlaskForm):
    confirm = BooleanField(_l("I confirm: the results and conclusions will be published and can never be changed."),
                           validators=[DataRequired(message=_l("Tick the box to confirm."))])
    submit = SubmitField(_l("Publish the results"))


class ImplementationForm(FlaskForm):
    status = SelectField(_l("Status"), choices=[], validators=[DataRequired()])
    on_date = DateField(_l("Date"), validators=[DataRequired(message=_l("Enter a date."))])
    note = TextAreaField(_l("Note"), description=_l("Required for a cancellation: give the reason."),
                         validators=[Optional(), Length(max=MAX_NOTE)])
    submit = SubmitField(_l("Add the update"))
