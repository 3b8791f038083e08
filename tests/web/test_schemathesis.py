"""schemathesis against the OpenAPI of /api/v1: every operation, as admin, as the enterprise role and anonymous, with
generated valid (positive) and invalid (negative) requests. No answer may be a 5xx, and every answer must conform
to the schema: its status documented, its content type documented, its body (the error envelope for every 4xx) and
its headers matching.

The schema is loaded from the app in-process (``schemathesis.openapi.from_asgi``) once, at import, from an app on an
empty database (the schema needs none); the requests go to an app on a private demo platform of this module (a
temporary SQLite file per xdist worker), so the destructive cases of the admin touch no other test. Its throttle is
opened wide: thousands of wrong sign-ins from one address are the fuzzer's, not an attack under test.

Half of the positive cases name real records (a published run, the enterprise's project and application, an
import, a firm in and out of the enterprise's scope, a clause, a parameter, each workflow action), so the
fuzzer gets past 404 into the services; the other half are schemathesis' own, mostly unknown ids.

Neutralised, so that the admin's cases cannot lock the test out: ``deactivate``, ``reactivate`` and
``reset-password`` of the accounts this module signs in with (admin, enterprise). Such a case is sent to a
throwaway account made for it instead: deactivating an account, or resetting its password, ends its sessions,
and the new password is random. Nothing else is excluded.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode, checks

from tenglong.services.bootstrap import DEMO_TOWN
from tenglong.services.kernel.platform import Platform
from tenglong.settings import DEMO_PASSWORD, Settings
from tenglong.web.app import create_app

from .conftest import make_platform

SCHEMA = schemathesis.openapi.from_asgi(
    "/api/v1/openapi.json", create_app(Platform.from_settings(Settings(database_url="sqlite://")))
)
OPERATIONS = {op.label: op for op in (result.ok() for result in SCHEMA.get_all_operations())}
ROLES = ("admin", "enterprise", None)
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
]
EXAMPLES = int(os.environ.get("TENGLONG_SCHEMATHESIS_EXAMPLES", "16"))
"""Examples per operation, role and mode (positive, negative): 46 operations × 3 roles × 2 × 16 ≈ 4,400 requests.
Set ``TENGLONG_SCHEMATHESIS_EXAMPLES`` for a longer hunt (200: about 15 minutes on 2 cores)."""
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
USER_CHANGES = {
    "POST /api/v1/admin/users/{user_id}/deactivate",
    "POST /api/v1/admin/users/{user_id}/reactivate",
    "POST /api/v1/admin/users/{user_id}/reset-password",
}
"""Operations whose case naming a signed-in account is sent to the throwaway account instead."""
ACTIONS = ("submit", "start_review", "approve", "reject", "pay", "revise", "withdraw", "recompute", "confirm", "plan")
"""The moves the cases name: of applications, and of register entries (清单)."""


class World:
    """The private platform, its app, a signed-in session of each role, and the real records the cases may name."""

    def __init__(self, folder: Path) -> None:
        self.platform = make_platform(f"sqlite:///{folder / 'fuzz.db'}", login_max_failures_per_address=10**6)
        self.platform.settings.login_max_failures = 10**6
        self.app = create_app(self.platform)
        self.sessions: dict[str | None, tuple[dict[str, str], dict[str, str]]] = {None: ({}, {})}
        clients = {role: self._sign_in(role) for role in ("admin", "enterprise")}
        admin, firm = clients["admin"], clients["enterprise"]
        me = firm.get("/api/v1/session").json()["credit_code"]
        codes = [r["credit_code"] for r in admin.get("/api/v1/enterprises", params={"page_size": 50}).json()["items"]]
        project = {"credit_code": me, "name": "模糊测试项目", "application_date": "2023-03-01"}
        project["inputs"] = {"total_investment": 15000000, "equipment_investment": 8000000}
        pid = self._ok(firm.post("/api/v1/projects", json=project))["id"]
        aid = self._ok(firm.post("/api/v1/applications", json={"project_id": pid, "clause": "2.10"}))["id"]
        other = self._ok(firm.post("/api/v1/projects", json={**project, "name": "模糊测试项目（退回）"}))["id"]
        told = self._ok(firm.post("/api/v1/applications", json={"project_id": other, "clause": "2.10"}))["id"]
        for who, step, body in ((firm, "submit", {}), (admin, "start_review", {}), (admin, "reject", {"note": "退回"})):
            self._ok(who.post(f"/api/v1/applications/{told}/{step}", json=body))  # the enterprise is notified
        notices = [n["id"] for n in firm.get("/api/v1/notifications").json()["items"]]
        invoice = {"file": ("发票.pdf", b"%PDF-1.4\n%fuzz\n%%EOF\n", "application/pdf")}
        attached = {"owner": "subsidy_application", "owner_id": str(aid), "kind": "invoice"}
        files = [self._ok(firm.post("/api/v1/attachments", data=attached, files=invoice))["id"] for _ in range(2)]
        upload = {"file": ("fuzz.csv", "统一社会信用代码,年度\n1,2023\n".encode(), "text/csv")}
        iid = self._ok(admin.post("/api/v1/imports", files=upload))["id"]
        target = {"username": "fuzz-target", "display_name": "模糊测试账号", "password": "fuzz-target-2023"}
        target |= {"role": "department", "department": "测试"}
        target_id = self._ok(admin.post("/api/v1/admin/users", json=target))["id"]
        users = {u["username"]: u["id"] for u in admin.get("/api/v1/admin/users").json()}
        self.protected = {users["admin"], users["enterprise"]}
        self.target = target_id
        reform = {"reform": {"title": "模糊测试方案", "changes": {"tech_renovation.major_rate": 0.12}}}
        reform_id = self._ok(admin.post("/api/v1/reforms", json=reform))["id"]
        self.paths: dict[str, list[Any]] = {
            "run_id": [r["id"] for r in admin.get("/api/v1/evaluations").json()],
            "project_id": [pid],
            "application_id": [aid],
            "import_id": [iid],
            "user_id": [target_id],
            "credit_code": [me, next(c for c in codes if c != me)],
            "clause_id": ["2.10", "A.3.6", "2.7"],
            "path": ["tech_renovation.major_rate", "mujun.quotas_above_scale"],
            "action": list(ACTIONS),
            "notification_id": notices,
            "attachment_id": files,  # of the enterprise's draft application
            "reform_id": [reform_id, 999_999],  # a saved reform (政策模拟), and one that does not exist
            "kind": ["high_consumption_low_efficiency", "zero_land", "no_such_register"],
            "entry_id": [
                e["id"] for e in admin.get("/api/v1/registers/high_consumption_low_efficiency").json()["items"][:3]
            ],
            "key": ["tax_per_mu", "robots", "no_such_target"],  # a campaign target (policy/campaign_targets.yaml)
        }
        self.bodies: dict[str, list[Any]] = {
            "POST /api/v1/projects": [project, {**project, "credit_code": self.paths["credit_code"][1]}],
            "PATCH /api/v1/projects/{project_id}": [{"name": "模糊测试项目（改）"}, {"inputs": project["inputs"]}],
            "POST /api/v1/applications": [{"project_id": pid, "clause": c} for c in ("2.10", "2.11", "9.9")],
            "POST /api/v1/evaluations": [{"year": 2023}, {"year": 2023, "method": {"changes": {"x.y": 1}}}],
            "POST /api/v1/session": [{"username": "enterprise", "password": DEMO_PASSWORD}],
            "POST /api/v1/registers/{kind}/entries": [
                {"credit_code": me, "reason": "模糊测试"},
                {"credit_code": codes[-1], "reason": "模糊测试", "category": "renovation"},
            ],
            "POST /api/v1/admin/users": [
                {
                    "username": "fuzz-new",
                    "display_name": "模糊",
                    "password": "fuzz-new-2023",
                    "role": "town",
                    "town": DEMO_TOWN,
                }
            ],
        }
        for c in clients.values():
            c.close()

    def _sign_in(self, role: str) -> TestClient:
        c = TestClient(self.app)
        r = c.post("/api/v1/session", json={"username": role, "password": DEMO_PASSWORD})
        assert r.status_code == 200, r.text
        c.headers["X-CSRF-Token"] = r.json()["csrf_token"]
        self.sessions[role] = ({"tl_session": c.cookies["tl_session"]}, {"X-CSRF-Token": c.headers["X-CSRF-Token"]})
        return c

    @staticmethod
    def _ok(r) -> dict[str, Any]:
        assert r.status_code in (200, 201, 202), r.text
        return r.json()

    def strategy(self, label: str, mode: GenerationMode) -> st.SearchStrategy:
        """schemathesis' own cases of ``label`` in ``mode``; for positive cases also ones naming real records."""
        op = OPERATIONS[label]
        own = op.as_strategy(generation_mode=mode)
        if mode is GenerationMode.NEGATIVE:
            return own
        names = [p.name for p in op.path_parameters]
        real = []
        if names:
            paths = st.fixed_dictionaries({n: st.sampled_from(self.paths[n]) for n in names})
            real.append(paths.flatmap(lambda pp: op.as_strategy(generation_mode=mode, path_parameters=pp)))
        real += [op.as_strategy(generation_mode=mode, body=body) for body in self.bodies.get(label, [])]
        return st.one_of(own, *real) if real else own


@pytest.fixture(scope="module")
def world() -> World:
    """The private demo platform of this module (one per xdist worker)."""
    return World(Path(tempfile.mkdtemp(prefix="tenglong-schemathesis-")))


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r or "anonymous")
@pytest.mark.parametrize("label", list(OPERATIONS))
def test_api_when_fuzzed_answers_no_5xx_and_conforms_to_its_schema(world, label, role):
    """Positive and negative cases of one operation as one role: no 5xx, status, content type, body and headers as
    documented (every refusal in the error envelope, every time with its offset)."""
    cookies, headers = world.sessions[role]
    sent = []

    def call(case) -> None:
        if label in USER_CHANGES and case.path_parameters.get("user_id") in world.protected:
            case.path_parameters["user_id"] = world.target  # never lock the signed-in accounts out
        response = case.call(app=world.app, cookies=cookies, headers=headers)
        sent.append(response.status_code)
        case.validate_response(response, checks=CHECKS)

    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        try:
            FUZZ(given(case=world.strategy(label, mode))(call))()
        except Unsatisfiable:
            assert mode is GenerationMode.NEGATIVE  # nothing of the request can be made invalid (no parameters)
    assert sent, "no case was sent"
    if os.environ.get("ST_STATS"):
        with open(os.environ["ST_STATS"], "a") as f:
            f.write(f"{label}\t{role}\t{sorted(sent)}\n")
    if role is not None:  # the session survived its own cases
        with TestClient(world.app, cookies=cookies) as c:
            assert c.get("/api/v1/session").json()["username"] == role


def test_schema_documents_every_error_status_with_the_envelope():
    """Every operation documents its error statuses with the one envelope, and nothing of FastAPI's own 422 shape."""
    raw = SCHEMA.raw_schema
    assert "HTTPValidationError" not in str(raw) and "ErrorEnvelope" in raw["components"]["schemas"]
    for label, op in OPERATIONS.items():
        responses = raw["paths"][op.path][op.method.lower()]["responses"]
        errors = {k: v for k, v in responses.items() if k.startswith(("4", "5"))}
        assert "413" in errors and errors, label
        for status, answer in errors.items():
            assert answer["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorEnvelope"}
            assert answer["description"], (label, status)
    assert {"401", "429"} <= set(raw["paths"]["/api/v1/session"]["post"]["responses"])
    assert "403" not in raw["paths"]["/api/v1/policy"]["get"]["responses"]  # every role reads the policy
    assert "403" in raw["paths"]["/api/v1/audit"]["get"]["responses"]  # the role is checked
