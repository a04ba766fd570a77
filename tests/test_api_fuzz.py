"""Fuzzing the public API against its own OpenAPI document (schemathesis, bounded and
deterministic): anonymous, as a resident and as staff, no 5xx and no response outside the
document."""

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
MAX_EXAMPLES = 15  # per operation and generation mode; ~70 s on SQLite, ~90 s on PostgreSQL
INT4_MAX = 2**31 - 1



def _operation_labels():
    """The operations of the document, read once at collection (the document needs no data)."""
    from app import create_app
    from config import TestingConfig

    document = create_app(TestingConfig).test_client().get("/api/v1/openapi.json").get_json()
    return [f"{method.upper()} {path}" for path, operations in document["paths"].items()
            for method in operations]


LABELS = _operation_labels()


@pytest.fixture
def identities(app, make_user, make_cycle, make_proposal, published_cycle, staff, api_token):
    """Data for every operation to find (a cycle in voting, a published one) and the headers
    of the three kinds of caller."""
    published_cycle()
    voting = make_cycle(phase="voting", ballot_style="approval", max_choices=2)
    for cost in (1_000_000, 2_000_000):
        make_proposal(voting, cost=cost)
    _, resident_iin = make_user(territory="751410000")
    return {"anonymous": {}, "resident": api_token(resident_iin), "staff": api_token(staff[1])}


def _huge_int(value):
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return not -INT4_MAX <= value <= INT4_MAX
    if isinstance(value, dict):
        return any(_huge_int(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_huge_int(v) for v in value)
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return _huge_int(int(value))
    return False


@pytest.mark.slow
@pytest.mark.parametrize("label", LABELS)
def test_api_conforms_to_its_openapi_document(app, identities, label):
    """Valid and invalid requests (schemathesis's positive and negative generation) for one
    operation, each sent anonymously, with a resident's token and with a staff token."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operation = schema.find_operation_by_label(label)
    cases = st.one_of(operation.as_strategy(GenerationMode.POSITIVE),
                      operation.as_strategy(GenerationMode.NEGATIVE))

    @settings(max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=cases)
    def fuzz(case):
        # Ids beyond PostgreSQL's integer are handled in another change (ids >= 2^31); until
        # then they are left out here rather than reported twice.
        if any(_huge_int(part) for part in (case.path_parameters, case.query, case.body)):
            return
        for headers in identities.values():
            case.call_and_validate(headers=headers, checks=CHECKS)

    fuzz()
