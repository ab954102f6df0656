"""Which directory a tenant's look-ups ask: the deployment's choice, per tenant."""

from __future__ import annotations

from providers.directory import CustomerDirectory
from providers.directory.crm import HttpCrmDirectory
from providers.directory.table import TableDirectory
from settings import Settings


def directory_for(settings: Settings, tenant: str) -> CustomerDirectory:
    """The tenant's CRM if the deployment configures one, else the built-in table."""
    if (crm := settings.directory_crm.get(tenant)) is not None:
        return HttpCrmDirectory(crm, region=settings.policy.phone_region)
    return TableDirectory(settings.database_url)
