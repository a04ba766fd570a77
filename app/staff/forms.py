from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, DateTimeLocalInput, ListWidget, TimeInput

from app.domain.conclusions import MAX_JUSTIFICATION, MAX_NOTE
from app.labels import ASSURANCE_LABELS, CATEGORY_LABELS, RULE_LABELS, STYLE_LABELS


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class LocalDateTimeField(StringField):
    # A text field rendered as datetime-local: parsing and errors belong to the view and domain.
    widget = DateTimeLocalInput()


class CycleForm(FlaskForm):
    # Every rule is checked in app.domain.cycles; the form only collects values.
    territory = SelectField(_l("Territory"), validate_choice=False)
    year = StringField(_l("Year"), render_kw={"inputmode": "numeric"})
    title_kk = StringField(_l("Title in Kazakh"), render_kw={"maxlength": 200, "lang": "kk"})
    title_ru = StringField(_l("Title in Russian"), render_kw={"maxlength": 200, "lang": "ru"})
    title_en = StringField(_l("Title in English (optional)"), render_kw={"maxlength": 200, "lang": "en"},
                           description=_l("Without it, English pages show the Russian title with a note."))
    description_kk = TextAreaField(_l("Description in Kazakh"), render_kw={"lang": "kk"})
    description_ru = TextAreaField(_l("Description in Russian"), render_kw={"lang": "ru"})
    description_en = TextAreaField(_l("Description in English"), render_kw={"lang": "en"})
    budget = StringField(_l("Budget, tenge"), render_kw={"inputmode": "numeric"})
    max_project_cost = StringField(_l("Cost cap per project, tenge"), render_kw={"inputmode": "numeric"},
                                   description=_l("Caps set in MRP are converted to tenge at this year's MRP."))
    categories = MultiCheckboxField(_l("Eligible categories"), validate_choice=False,
                                    choices=[SelectChoice(k, v) for k, v in CATEGORY_LABELS.items()])
    ballot_style = SelectField(_l("Ballot style"), validate_choice=False,
                               choices=[SelectChoice(k, v) for k, v in STYLE_LABELS.items()])
    max_choices = StringField(_l("Projects a voter may choose (ballot of several projects)"),
                              render_kw={"inputmode": "numeric"})
    rule = SelectField(_l("Counting rule"), validate_choice=False,
                       choices=[SelectChoice(k, v) for k, v in RULE_LABELS.items()])
    min_voters = StringField(_l("Minimum number of voters per project"), render_kw={"inputmode": "numeric"},
                             description=_l("At least 10 by national rules; some cities use 50."))
    min_assurance_propose = SelectField(_l("Identity needed to propose"), validate_choice=False,
                                        choices=[SelectChoice(k, v) for k, v in ASSURANCE_LABELS.items()])
    min_assurance_vote = SelectField(_l("Identity needed to vote"), validate_choice=False,
                                     choices=[SelectChoice(k, v) for k, v in ASSURANCE_LABELS.items()],
                                     description=_l("An electronic digital signature (EDS) is the only "
                                                    "level that fake accounts cannot reach."))
    residence_verified_to_vote = BooleanField(_l("Only residents whose home the akimat has verified may vote"))
    proposals_open = LocalDateTimeField(_l("Proposals open"))
    proposals_close = LocalDateTimeField(_l("Proposals close"))
    voting_open = LocalDateTimeField(_l("Voting opens"))
    voting_close = LocalDateTimeField(_l("Voting closes"))
    submit = SubmitField(_l("Save the cycle"))


class PhaseForm(FlaskForm):
    phase = StringField()
    confirm = BooleanField(_l("I confirm moving the cycle to the next phase."))
    confirm_off_schedule = BooleanField(_l("Move it anyway, outside the cycle's schedule (recorded in the audit log)."))
    submit = SubmitField(_l("Move to the next phase"))


class ReviewForm(FlaskForm):
    decision = RadioField(_l("Decision"), validate_choice=False, choices=[
        SelectChoice("admitted", _l("Admit to voting")), SelectChoice("rejected", _l("Reject")),
        SelectChoice("revision_requested", _l("Ask the author for a revision"))])
    # The reason is published with the decision: required (in at least one language) for a
    # rejection or a revision request; staff are asked for both state languages.
    reason_kk = TextAreaField(_l("Reason in Kazakh"), render_kw={"lang": "kk"})
    reason_ru = TextAreaField(_l("Reason in Russian"), render_kw={"lang": "ru"})
    reason_en = TextAreaField(_l("Reason in English"), render_kw={"lang": "en"})
    revision_deadline = LocalDateTimeField(_l("Deadline for the revision"))
    submit = SubmitField(_l("Record the decision"))


class ProtocolForm(FlaskForm):
    submit = SubmitField(_l("Publish the admission protocol"))

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
    note_kk = TextAreaField(_l("Note in Kazakh"), render_kw={"lang": "kk"},
                            validators=[Optional(), Length(max=MAX_NOTE)])
    note_ru = TextAreaField(_l("Note in Russian"), render_kw={"lang": "ru"},
                            validators=[Optional(), Length(max=MAX_NOTE)])
    note_en = TextAreaField(_l("Note in English"), render_kw={"lang": "en"},
                            validators=[Optional(), Length(max=MAX_NOTE)])
    submit = SubmitField(_l("Add the update"))


class VerifyResidentForm(FlaskForm):
    iin = StringField(_l("Resident's IIN"), validators=[DataRequired(message=_l("Enter your IIN."))],
                      description=_l("From the document in front of you. It is only compared in a protected form "
                                     "and never shown or stored."),
                      render_kw={"inputmode": "numeric", "autocomplete": "off", "maxlength": 14})
    document = RadioField(_l("Document you saw"), validate_choice=False, choices=[
        SelectChoice("id_card", _l("Identity card")), SelectChoice("passport", _l("Passport")),
        SelectChoice("address_certificate", _l("Certificate of registered address"))])
    submit = SubmitField(_l("Mark the residence as verified"))


class TimeInputField(StringField):
    widget = TimeInput()


class PollingPointForm(FlaskForm):
    # Checked in app.domain.paper.save_point; the form only collects values.
    place_kk = StringField(_l("Place and address in Kazakh"), render_kw={"maxlength": 300, "lang": "kk"})
    place_ru = StringField(_l("Place and address in Russian"), render_kw={"maxlength": 300, "lang": "ru"})
    place_en = StringField(_l("Place and address in English (optional)"), render_kw={"maxlength": 300, "lang": "en"})
    opens_at = TimeInputField(_l("Opens at"), description=_l("Every day while voting is open."))
    closes_at = TimeInputField(_l("Closes at"))
    staff_ids = MultiCheckboxField(_l("Staff on duty"), validate_choice=False)
    submit = SubmitField(_l("Save the polling point"))


class PaperEntryForm(FlaskForm):
    point = SelectField(_l("Polling point"), validate_choice=False)
    iin = StringField(_l("Resident's IIN"), validators=[DataRequired(message=_l("Enter the IIN from the document."))],
                      description=_l("From the identity document the resident shows. It is only compared in a "
                                     "protected form and never shown or stored."),
                      render_kw={"inputmode": "numeric", "autocomplete": "off", "maxlength": 14})
    scan = FileField(_l("Scan of the paper ballot (optional)"),
                     description=_l("PDF, JPEG, PNG or WebP, at most 10 MB. Kept for audit, never published."),
                     render_kw={"accept": "application/pdf,image/jpeg,image/png,image/webp"})
    full_name = StringField(_l("Full name as in the document"), render_kw={"maxlength": 200, "autocomplete": "off"})
    territory = SelectField(_l("Where the resident lives"), validate_choice=False)
    document = RadioField(_l("Document you saw"), validate_choice=False, choices=[
        SelectChoice("id_card", _l("Identity card")), SelectChoice("passport", _l("Passport")),
        SelectChoice("address_certificate", _l("Certificate of registered address"))])
    submit = SubmitField(_l("Save this entry"))


class PaperResolveForm(FlaskForm):
    submit = SubmitField(_l("Store the ballot as the paper shows it"))


class PaperVoidForm(FlaskForm):
    confirm = BooleanField(_l("I confirm: the paper ballot cannot be read, or the entry was made in error."),
                           validators=[DataRequired(message=_l("Tick the box to confirm."))])
    submit = SubmitField(_l("Void this entry"))
