"""Who may read a customer's contact details in clear, and how a reader's role is named: the rule of S5.

A reader may see a customer's phone, email or bank account only through an *open* case of that customer which
they own (the case's named, accountable person) or supervise (scope `cases:approve`). A closed case, someone
else's case, or no case at all is no reason: the attempt is refused, flagged and told to the data protection
officer. The case a reveal goes through is the case it is bound to (its access record names it).
"""

from __future__ import annotations

from schemas.auth import Principal, PrincipalKind, Scope
from schemas.privacy import AccessRole
from schemas.progress import CaseStatus
from store.tables import CaseRow


def may_reveal(principal: Principal, case: CaseRow) -> bool:
    if case.status == CaseStatus.closed:
        return False
    return case.owner == principal.id or principal.may(Scope.cases_approve)


def refusal_reason(principal: Principal, case: CaseRow) -> str:
    if case.status == CaseStatus.closed:
        return f"case {case.id} is closed: a closed case is no reason to read the customer's personal data"
    return (f"{principal.id} neither owns case {case.id} (its owner is {case.owner or 'nobody'}) nor supervises "
            "cases: personal data is read only for an open case one owns or supervises")


def role_of(principal: Principal) -> AccessRole:
    """The role the customer is told of; the strongest the key carries."""
    if Scope.admin in principal.scopes:
        return AccessRole.administrator
    if principal.kind is PrincipalKind.integrator:
        return AccessRole.integrated_system
    if Scope.cases_approve in principal.scopes:
        return AccessRole.supervisor
    return AccessRole.agent
