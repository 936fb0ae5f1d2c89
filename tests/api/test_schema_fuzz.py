"""Schema-driven fuzzing: schemathesis generates requests from the portal's own OpenAPI schema (fetched from
/api/schema/ by a logged-in person) and sends them to the Django WSGI app in-process, as office, leadership,
a liaison and anonymous, with valid and invalid data, GET and the unsafe methods alike. No answer may be a
server error, and every documented answer must match its schema.

Bounded and deterministic (hypothesis ``derandomize``): ``FUZZ_EXAMPLES`` cases per operation, mode and role.
Run it on its own with ``.venv/bin/pytest -m fuzz tests/api/test_schema_fuzz.py -p no:randomly -s``; the
counts are printed at the end.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from reports import services
from reports.compilations.models import Compilation
from reports.models import ProgressReport
from tasks.models import Task
from tests.api.conftest import wsgi_app

pytestmark = pytest.mark.fuzz

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "8"))
ROLES = {
    "office": "office_user",
    "leader": "leadership_user",
    "liaison": "liaison_a",
    "anonymous": None,
}
# drf-spectacular documents the success answers; the errors share one documented shape ({"detail", "code"})
# that the tests of each endpoint check. So: no 5xx, and every documented answer as documented.
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


@dataclass
class Tally:
    requests: int = 0
    statuses: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)
    no_cases: list[str] = field(default_factory=list)  # nothing invalid to send (no parameters, no body)


@pytest.fixture
def world(open_period, unit_a, liaison_a, liaison_b, office_user, leadership_user):
    """Reports of unit A in each state, and a compilation, so generated ids often hit real rows."""
    reports = []
    for number, step in ((3, None), (4, "submit"), (5, "approve"), (6, "return")):
        report = services.report_create(
            period=open_period,
            unit=unit_a,
            task=Task.objects.get(number=number),
            by=liaison_a,
            progress="进展",
        )
        if step:
            report = services.report_submit(report=report, by=liaison_a)
        if step == "approve":
            services.report_approve(report=report, by=office_user)
        if step == "return":
            services.report_return(report=report, by=office_user, reason="请补充")
        reports.append(report.pk)
    services.evidence_add_link(
        report=ProgressReport.objects.get(pk=reports[0]),
        by=liaison_a,
        url="https://example.org/news/1",
    )
    compilation = Compilation.objects.create(kind="quarterly", format="xlsx", period=open_period)
    return {"reports": reports, "compilations": [compilation.pk]}


def real_ids(path: str, world: dict) -> list[int]:
    if path.startswith("/api/v1/reports/"):
        return world["reports"]
    if path.startswith("/api/v1/compilations/"):
        return world["compilations"]
    return list(range(1, 12))  # plan rows (units, tasks, periods, phases…) have small ids


def load_schema(client, office_user):
    client.force_login(office_user)  # the schema is for people who have logged in
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    client.logout()
    return schemathesis.openapi.from_dict(response.json())


def fuzz_operation(operation, mode, headers, app, ids, tally: Tally) -> None:
    strategy = st.tuples(operation.as_strategy(generation_mode=mode), st.sampled_from(ids), st.booleans())

    @hypothesis.settings(
        max_examples=FUZZ_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[hypothesis.Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @hypothesis.given(strategy)
    def run(drawn):
        case, real_id, use_real = drawn
        if use_real:
            for name in case.path_parameters or {}:
                case.path_parameters[name] = real_id
        response = case.call(app=app, headers=headers)
        tally.requests += 1
        tally.statuses[response.status_code] += 1
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except FailureGroup as failures:
            where = f"{operation.method.upper()} {operation.path} [{mode.value}]"
            titles = "; ".join(sorted({getattr(f, "title", type(f).__name__) for f in failures.exceptions}))
            tally.failures.append(f"{where} → {response.status_code}: {titles}")
            tally.details.append(str(failures))

    try:
        run()
    except hypothesis.errors.Unsatisfiable:
        tally.no_cases.append(f"{operation.method.upper()} {operation.path} [{mode.value}]")


def test_fuzz_the_api_from_its_schema(request, client, world, office_user):
    schema = load_schema(client, office_user)
    app = wsgi_app()
    tallies: dict[str, Tally] = {}
    for role, fixture in ROLES.items():
        headers = {}
        if fixture:
            token, _ = Token.objects.get_or_create(user=request.getfixturevalue(fixture))
            headers = {"Authorization": f"Token {token.key}"}
        tally = tallies[role] = Tally()
        for result in schema.get_all_operations():
            operation = result.ok()
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                fuzz_operation(operation, mode, headers, app, real_ids(operation.path, world), tally)

    total = sum(t.requests for t in tallies.values())
    failures = [f"{role}: {f}" for role, t in tallies.items() for f in t.failures]
    print(f"\nschema fuzz: {total} requests, {len(failures)} failures")
    for role, t in tallies.items():
        print(f"  {role}: {t.requests} requests, statuses {dict(sorted(t.statuses.items()))}")
        print(f"    no invalid case to generate: {', '.join(t.no_cases)}")
    assert total > 0
    details = [d for t in tallies.values() for d in t.details]
    assert not failures, "\n".join(sorted(set(failures))) + "\n\nFirst:\n" + (details[0] if details else "")
