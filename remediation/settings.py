"""Settings from the environment (app settings), validated once.

Every problem is collected and reported together, one line per setting, naming the setting and
what is wrong, so a bad deployment is fixed in one round instead of one error at a time.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
from dataclasses import dataclass, field
from enum import Enum
from typing import Callable, Mapping, TypeVar
from urllib.parse import urlsplit

from .ids import SUBNET_TYPE, InvalidResourceId, ResourceId, parse_resource_id, parse_scope
from .model import Mode

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
T = TypeVar("T")

_TABLE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]{2,62}")
_NCRONTAB_FIELD = re.compile(r"[0-9A-Za-z*/,\-?#LW]+")
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


class PublicAccessMode(str, Enum):
    DISABLED = "Disabled"
    SELECTED_NETWORKS = "SelectedNetworks"


class SettingsError(ValueError):
    """One or more settings are invalid; `problems` holds one message per bad setting."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid settings: " + "; ".join(problems))


def normalize_location(location: str) -> str:
    """ARM spells locations as `eastus` or `East US`; compare them in one form."""
    return location.replace(" ", "").lower()


@dataclass(frozen=True)
class SubnetMap:
    """Where new private endpoints go: one subnet, or one per account location with a `*` fallback."""

    by_location: Mapping[str, ResourceId] = field(default_factory=dict)

    def for_location(self, location: str) -> ResourceId | None:
        return self.by_location.get(normalize_location(location)) or self.by_location.get("*")

    @property
    def subnets(self) -> tuple[ResourceId, ...]:
        return tuple(dict.fromkeys(self.by_location.values()))


@dataclass(frozen=True)
class Settings:
    scopes: tuple[ResourceId, ...]
    storage_connection: str | None
    storage_account_name: str | None = None
    mode: Mode = Mode.REPORT
    kinds: frozenset[str] = frozenset({"openai", "aiservices"})  # lower-case
    public_network_access: PublicAccessMode = PublicAccessMode.DISABLED
    allowed_ip_rules: tuple[IpNetwork, ...] = ()
    disable_local_auth: bool = False
    pe_subnets: SubnetMap = field(default_factory=SubnetMap)
    pe_allowed_subnet_ids: tuple[ResourceId, ...] = ()
    dns_zone_resource_group: ResourceId | None = None
    exempt_tag: str = "remediation-exempt"
    max_fixes_per_hour: int = 3
    sweep_schedule: str = "0 */30 * * * *"
    arm_endpoint: str = "https://management.azure.com"
    audit_table: str = "remediationaudit"
    eventgrid_topic_endpoint: str | None = None
    client_id: str | None = None
    # Beyond DESIGN §5: how often long-running operations and not-ready accounts are polled, and how
    # long a reconcile waits for a busy account before deferring. Production defaults; tests lower them.
    poll_interval_seconds: float = 5.0
    ready_timeout_seconds: float = 60.0

    @property
    def arm_scope(self) -> str:
        """The token scope that matches the Resource Manager endpoint (sovereign clouds, emulator)."""
        return self.arm_endpoint + "/.default"

    @property
    def allowed_subnets(self) -> frozenset[ResourceId]:
        """Subnets whose approved private endpoints count as serving an account."""
        return frozenset((*self.pe_subnets.subnets, *self.pe_allowed_subnet_ids))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, require_storage: bool = True) -> Settings:
        """`require_storage=False` for the operator command, which can run with nothing but an Azure login."""
        return _Reader(os.environ if env is None else env, require_storage).settings()


class _Reader:
    """Reads each setting, collecting problems instead of stopping at the first."""

    def __init__(self, env: Mapping[str, str], require_storage: bool = True) -> None:
        self.env = env
        self.require_storage = require_storage
        self.problems: list[str] = []

    def raw(self, name: str) -> str | None:
        value = self.env.get(name)
        if value is None or not value.strip():
            return None
        return value.strip()

    def read(self, name: str, parse: Callable[[str], T], default: T) -> T:
        value = self.raw(name)
        if value is None:
            return default
        try:
            return parse(value)
        except (ValueError, InvalidResourceId, RecursionError) as error:
            self.problems.append(f"{name}: {error if not isinstance(error, RecursionError) else 'nested too deeply'}")
            return default

    def settings(self) -> Settings:
        scopes = self.read("REMEDIATION_SCOPES", _scopes, ())
        if not scopes and not any(p.startswith("REMEDIATION_SCOPES") for p in self.problems):
            self.problems.append("REMEDIATION_SCOPES: required (comma-separated /subscriptions/<id>[/resourceGroups/<rg>])")
        storage = self.raw("AzureWebJobsStorage")
        storage_account = self.raw("AzureWebJobsStorage__accountName")
        if storage is None and storage_account is None and self.require_storage:
            self.problems.append(
                "AzureWebJobsStorage: required (a connection string, UseDevelopmentStorage=true, "
                "or AzureWebJobsStorage__accountName for identity-based access)"
            )
        settings = Settings(
            scopes=scopes,
            storage_connection=storage,
            storage_account_name=storage_account,
            mode=self.read("REMEDIATION_MODE", _enum(Mode), Mode.REPORT),
            kinds=self.read("REMEDIATION_KINDS", _kinds, Settings.kinds),
            public_network_access=self.read(
                "REMEDIATION_PUBLIC_NETWORK_ACCESS", _enum(PublicAccessMode), PublicAccessMode.DISABLED
            ),
            allowed_ip_rules=self.read("REMEDIATION_ALLOWED_IP_RULES", _ip_rules, ()),
            disable_local_auth=self.read("REMEDIATION_DISABLE_LOCAL_AUTH", _bool, False),
            pe_subnets=self.read("REMEDIATION_PE_SUBNET_ID", _subnet_map, SubnetMap()),
            pe_allowed_subnet_ids=self.read("REMEDIATION_PE_ALLOWED_SUBNET_IDS", _subnet_list, ()),
            dns_zone_resource_group=self.read("REMEDIATION_DNS_ZONE_RESOURCE_GROUP_ID", _resource_group, None),
            exempt_tag=self.read("REMEDIATION_EXEMPT_TAG", _tag_name, "remediation-exempt"),
            max_fixes_per_hour=self.read("REMEDIATION_MAX_FIXES_PER_HOUR", _positive_int, 3),
            sweep_schedule=self.read("REMEDIATION_SWEEP_SCHEDULE", _ncrontab, "0 */30 * * * *"),
            arm_endpoint=self.read("REMEDIATION_ARM_ENDPOINT", _https_endpoint, "https://management.azure.com"),
            audit_table=self.read("REMEDIATION_AUDIT_TABLE", _table_name, "remediationaudit"),
            eventgrid_topic_endpoint=self.read("REMEDIATION_EVENTGRID_TOPIC_ENDPOINT", _https_url, None),
            client_id=self.read("AZURE_CLIENT_ID", _guid, None),
            poll_interval_seconds=self.read("REMEDIATION_POLL_INTERVAL_SECONDS", _seconds(0, 300), 5.0),
            ready_timeout_seconds=self.read("REMEDIATION_READY_TIMEOUT_SECONDS", _seconds(0, 600), 60.0),
        )
        if self.problems:
            raise SettingsError(self.problems)
        return settings


# Parsers: each takes the raw text and raises ValueError with a message a person can act on.

def _enum(enum: type[Enum]) -> Callable[[str], Enum]:
    def parse(value: str) -> Enum:
        for member in enum:
            if member.value.lower() == value.lower():
                return member
        raise ValueError(f"{value!r} is not one of {', '.join(m.value for m in enum)}")

    return parse


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _scopes(value: str) -> tuple[ResourceId, ...]:
    scopes = []
    for part in _split(value):
        try:
            scopes.append(parse_scope(part))
        except InvalidResourceId as error:
            raise ValueError(f"{part!r}: {error}") from None
    return tuple(dict.fromkeys(scopes))


def _kinds(value: str) -> frozenset[str]:
    kinds = frozenset(kind.lower() for kind in _split(value))
    if not kinds:
        raise ValueError("names no account kind")
    return kinds


def _ip_rules(value: str) -> tuple[IpNetwork, ...]:
    rules = []
    for part in _split(value):
        try:
            rules.append(ipaddress.ip_network(part, strict=True))
        except ValueError:
            raise ValueError(f"{part!r} is not an IP address or CIDR range (host bits must be zero)") from None
    return tuple(rules)


def _bool(value: str) -> bool:
    lowered = value.lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise ValueError(f"{value!r} is not true or false")


def _subnet(value: str) -> ResourceId:
    rid = parse_resource_id(value)
    if not rid.is_type(SUBNET_TYPE) or rid.resource_group is None:
        raise ValueError(f"{value!r} is not a subnet ID (…/providers/{SUBNET_TYPE.replace('/subnets', '')}/<vnet>/subnets/<name>)")
    return rid


def _subnet_map(value: str) -> SubnetMap:
    if not value.startswith("{"):
        return SubnetMap({"*": _subnet(value)})
    try:
        mapping = json.loads(value)
    except json.JSONDecodeError as error:
        raise ValueError(f"not valid JSON ({error.msg})") from None
    if not isinstance(mapping, dict) or not mapping:
        raise ValueError('expected a JSON object {"<location>": "<subnet id>", "*": "<subnet id>"}')
    by_location = {}
    for location, subnet in mapping.items():
        if not isinstance(subnet, str):
            raise ValueError(f"the subnet for {location!r} is not a string")
        by_location[normalize_location(location) if location != "*" else "*"] = _subnet(subnet)
    return SubnetMap(by_location)


def _subnet_list(value: str) -> tuple[ResourceId, ...]:
    return tuple(_subnet(part) for part in _split(value))


def _resource_group(value: str) -> ResourceId:
    rid = parse_resource_id(value)
    if rid.resource_group is None or rid.namespace is not None:
        raise ValueError(f"{value!r} is not a resource group ID (/subscriptions/<id>/resourceGroups/<rg>)")
    return rid


def _tag_name(value: str) -> str:
    if len(value) > 512 or any(ch in value for ch in "<>%&\\?/"):
        raise ValueError(f"{value!r} is not a valid tag name")
    return value


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a whole number") from None
    if number < 1:
        raise ValueError("must be at least 1")
    return number


def _seconds(low: float, high: float) -> Callable[[str], float]:
    def parse(value: str) -> float:
        try:
            number = float(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a number of seconds") from None
        if not low <= number <= high:
            raise ValueError(f"must be between {low:g} and {high:g} seconds")
        return number

    return parse


def _ncrontab(value: str) -> str:
    fields = value.split()
    if len(fields) != 6 or not all(_NCRONTAB_FIELD.fullmatch(f) for f in fields):
        raise ValueError(f"{value!r} is not a six-field NCRONTAB expression ({{second}} {{minute}} {{hour}} {{day}} {{month}} {{day-of-week}})")
    return value


def _https_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError("is not an https:// URL")  # the value itself is not repeated: URLs can carry secrets
    return value


def _https_endpoint(value: str) -> str:
    _https_url(value)
    parts = urlsplit(value)
    if parts.path.strip("/") or parts.query or parts.fragment:
        raise ValueError("must be a bare endpoint such as https://management.azure.com")
    return value.rstrip("/")


def _table_name(value: str) -> str:
    if not _TABLE_NAME.fullmatch(value):
        raise ValueError(f"{value!r} is not a table name (3-63 letters and digits, starting with a letter)")
    return value


def _guid(value: str) -> str:
    if not _GUID.fullmatch(value):
        raise ValueError(f"{value!r} is not a client ID (a GUID)")
    return value
