"""What each column of results.csv means, for the page linked beside the download.

One entry per open_data.CSV_COLUMNS name (a test checks they stay in step)."""
from flask_babel import lazy_gettext as _l

# column -> (meaning, unit or format)
CSV_COLUMN_DOCS = {
    "proposal_id": (_l("Number of the proposal, as on the site (/proposals/<number>)"), _l("whole number")),
    "title": (_l("Title of the proposal as the author wrote it"), _l("text")),
    "category": (_l("Category: greening, parks, sports, playgrounds, lighting, sidewalks, yards or other"),
                 _l("code in English")),
    "cost": (_l("Estimated cost of the project"), _l("tenge, whole number")),
    "votes": (_l("Votes for the proposal"), _l("number of voters")),
    "voters_in_territory": (_l("Votes from residents of the territory (the ones that count for the minimum)"),
                            _l("number of voters")),
    "eligible": (_l("Whether the proposal reached the minimum number of voters"), _l("true or false")),
    "selected": (_l("Whether the counting rule selected the proposal within the budget"), _l("true or false")),
    "rank": (_l("Order in which the counting rule selected the proposal (1 = first); empty when not selected"),
             _l("whole number")),
    "decision": (_l("Conclusion of the akimat: approved or not approved; empty before it is recorded"),
                 _l("approved / not_approved")),
    "justification_kk": (_l("Justification of the akimat's conclusion in Kazakh"), _l("text")),
    "justification_ru": (_l("Justification of the akimat's conclusion in Russian"), _l("text")),
    "justification_en": (_l("Justification of the akimat's conclusion in English"), _l("text")),
    "document_number": (_l("Number of the signed conclusion document"), _l("text")),
    "document_date": (_l("Date of the signed conclusion document"), _l("date, YYYY-MM-DD")),
    "implementation_status": (_l("Latest implementation stage: planned, procurement, works, completed or "
                                 "cancelled; empty when none"), _l("code in English")),
    "votes_online": (_l("Votes cast online (on the site or through the API)"), _l("number of voters")),
    "votes_paper": (_l("Votes cast on paper at a polling point and entered by two staff members"),
                    _l("number of voters")),
}
