"""plan(): PRIVATE_DNS_RESOLUTION_NOT_PRIVATE (docs/findings.md): each public name the app's network resolved
to anything but serving endpoints' IPs is a finding carrying what was answered and the likely cause; nothing
is planned for it, and a reconcile leaves it open with what a person must do."""

from __future__ import annotations

from dataclasses import replace

from remediation.core.findings import FINDINGS, FindingCode
from remediation.core.model import Outcome, ResolvedName
from remediation.core.plan import Plan, plan
from remediation.core.verdict import ActionResult, reported
from tests.helpers.arm_shapes import PE_IP, compliant_observation, make_desired
from tests.helpers.plans import codes

NAME = "aoai-prod.openai.azure.com"
PUBLIC = ResolvedName(NAME, False, f"{NAME} → aoai-prod.privatelink.openai.azure.com → 203.0.113.7",
                      "… a public answer: privatelink.openai.azure.com is not linked to the resolver's network",
                      (PE_IP,))


def test_names_answering_the_endpoint_add_nothing() -> None:
    obs = replace(compliant_observation(), resolved=(replace(PUBLIC, private=True),))
    assert plan(make_desired(), obs) == Plan()


def test_a_public_answer_is_a_finding_with_what_was_answered_and_why() -> None:
    result = plan(make_desired(), replace(compliant_observation(), resolved=(PUBLIC,)))
    assert codes(result) == [FindingCode.PRIVATE_DNS_RESOLUTION_NOT_PRIVATE]
    [finding] = result.findings
    assert finding.property == f"dns:{NAME}"
    assert finding.actual == {"answered": PUBLIC.answered, "likelyCause": PUBLIC.reason}
    assert finding.expected == [PE_IP]
    assert result.actions == ()


def test_it_stays_open_with_the_cause_and_the_manual_fix() -> None:
    result = plan(make_desired(), replace(compliant_observation(), resolved=(PUBLIC,)))
    verdict = reported(result, list[ActionResult]())
    assert verdict.outcome is Outcome.FAILED
    assert verdict.error is not None and PUBLIC.reason in verdict.error
    assert FINDINGS[FindingCode.PRIVATE_DNS_RESOLUTION_NOT_PRIVATE].manual in verdict.error


def test_each_name_not_private_is_its_own_finding() -> None:
    other = replace(PUBLIC, name="aoai-prod.cognitiveservices.azure.com")
    result = plan(make_desired(), replace(compliant_observation(), resolved=(PUBLIC, other, replace(PUBLIC, name="x",
                                                                                                   private=True))))
    assert [f.property for f in result.findings] == [f"dns:{NAME}", "dns:aoai-prod.cognitiveservices.azure.com"]
