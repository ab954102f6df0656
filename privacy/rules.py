"""Who may read a customer's contact details in clear, and how a reader's role is named: the rule of S5.

A reader may see a customer's phone, email or bank account only through an *open* case of that customer which
they own (the case's named, accountable staff account) or supervise (scope `cases:approve`), and only with a
staff account's key allowed to act on cases (`cases:act`): an integrator's key is never a reader. A closed case,
someone else's case, or no case at all is no reason; nor is a case an agent handed to themselves, or one whose
owner the integrator's incident named (the paths a curious clerk would take: assign oneself, or have the till
name one), until a supervisor assigns it. Every such attempt is refused, flagged and told to the data protection
officer. The case a reveal goes through is the case it is bound to (its access record names it).
"""

from __future__ import annotations

from schemas.auth import Principal, PrincipalKind, Scope
from schemas.privacy import AccessRole
from schemas.progress import CaseStatus
from store.tables import CaseRow


def may_reveal(principal: Principal, case: CaseRow) -> bool:
    return refusal_reason(principal, case) is None


def refusal_reason(principal: Principal, case: CaseRow) -> str | None:
    """Why this reader may not read this case's personal data; None when they may."""
    if principal.account is None or not principal.may(Scope.cases_act):
        return f"{principal.id} is not a staff account allowed to act on cases"
    if case.status == CaseStatus.closed:
        return f"case {case.id} is closed: a closed case is no reason to read the customer's personal data"
    if principal.may(Scope.cases_approve):
        return None
    if case.owner != principal.account:
        return (f"{principal.id} neither owns case {case.id} (its owner is {case.owner or 'nobody'}) nor "
                "supervises cases: personal data is read only for an open case one owns or supervises")
    if case.assigned_by == principal.account:
        return (f"{principal.id} assigned case {case.id} to themselves: a self-assigned case is no reason to read "
                "the customer's personal data; a supervisor's assignment is")
    if case.assigned_by is not None and case.assigned_by == case.integrator:
        return (f"the owner of case {case.id} was nominated by the integrator {case.integrator} that reported it: "
                "that is no reason to read the customer's personal data until a supervisor assigns the case")
    return None


def role_of(principal: Principal) -> AccessRole:
    """The role the customer is told of; the strongest the key carries."""
    if Scope.admin in principal.scopes or Scope.privacy in principal.scopes:
        return AccessRole.administrator
    if principal.kind is PrincipalKind.integrator:
        return AccessRole.integrated_system
    if Scope.cases_approve in principal.scopes:
        return AccessRole.supervisor
    return AccessRole.agent
