"""One estate per finding code, with the settings that make it one: the reconcile, sweep and report tests share
them."""


from __future__ import annotations

from localdev.estate import (
    OPENAI_ZONE,
    OTHER_SUBNET_ID,
    ZONES_BY_KIND,
    Estate,
    account_id,
)

AOAI = account_id("aoai-prod")
AIS = ZONES_BY_KIND["AIServices"]

FINDINGS = {
    "PUBLIC_NETWORK_ACCESS_ENABLED": (lambda: Estate().network((OPENAI_ZONE,)).locked(
        "aoai-prod", public_network_access="Enabled"), {}),
    "NETWORK_DEFAULT_ACTION_ALLOW": (lambda: Estate().network((OPENAI_ZONE,)).locked(
        "aoai-prod", default_action="Allow"), {}),
    "IP_RULE_NOT_ALLOWED": (lambda: Estate().network((OPENAI_ZONE,)).locked(
        "aoai-prod", public_network_access="Enabled", ip_rules=("203.0.113.7",)),
        {"REMEDIATION_PUBLIC_NETWORK_ACCESS": "SelectedNetworks"}),
    "LOCAL_AUTH_ENABLED": (lambda: Estate().network((OPENAI_ZONE,)).locked("aoai-prod"),
                           {"REMEDIATION_DISABLE_LOCAL_AUTH": "true"}),
    "CUSTOM_SUBDOMAIN_MISSING": (lambda: Estate().network((OPENAI_ZONE,)).account("aoai-prod", subdomain=False), {}),
    "PRIVATE_ENDPOINT_MISSING": (lambda: Estate().network((OPENAI_ZONE,)).account("aoai-prod"), {}),
    "PRIVATE_ENDPOINT_CONNECTION_PENDING": (lambda: Estate().network((OPENAI_ZONE,)).account("aoai-prod").endpoint(
        AOAI, "pe-manual", manual=True, zone_group=(OPENAI_ZONE,)), {}),
    "PRIVATE_DNS_ZONE_MISSING": (lambda: Estate().network().account("aoai-prod").endpoint(AOAI, "pe-existing"), {}),
    "PRIVATE_DNS_ZONE_LINK_MISSING": (lambda: Estate().network((OPENAI_ZONE,), linked=False).account(
        "aoai-prod").endpoint(AOAI, "pe-existing", zone_group=(OPENAI_ZONE,)), {}),
    "PRIVATE_DNS_ZONE_GROUP_MISSING": (lambda: Estate().network((OPENAI_ZONE,)).account("aoai-prod").endpoint(
        AOAI, "pe-existing"), {}),
    "PRIVATE_DNS_ZONE_GROUP_INCOMPLETE": (lambda: Estate().network(AIS).account("aoai-prod", "AIServices").endpoint(
        AOAI, "pe-ais", zone_group=(OPENAI_ZONE,)), {}),
    "ACCOUNT_NOT_READY": (lambda: Estate().network((OPENAI_ZONE,)).locked(
        "aoai-prod", public_network_access="Enabled", provisioning_state="Creating"),
        {"REMEDIATION_READY_TIMEOUT_SECONDS": "0.2"}),
    "VIRTUAL_NETWORK_RULE_NOT_ALLOWED": (lambda: Estate().network((OPENAI_ZONE,)).locked(
        "aoai-prod", public_network_access="Enabled", vnet_rules=(OTHER_SUBNET_ID,)),
        {"REMEDIATION_PUBLIC_NETWORK_ACCESS": "SelectedNetworks"}),
    "NETWORK_BYPASS_NOT_ALLOWED": (lambda: Estate().network((OPENAI_ZONE,)).locked(
        "aoai-prod", bypass="AzureServices"), {"REMEDIATION_NETWORK_BYPASS": "None"}),
    # repointed to a host in the workload subnet
    "PRIVATE_DNS_RECORD_MISMATCH": (lambda: Estate().network((OPENAI_ZONE,)).locked("aoai-prod").record(
        OPENAI_ZONE, "aoai-prod", ("10.2.0.66",)), {}),
}
