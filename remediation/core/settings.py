"""Settings from the environment (app settings), validated once.

Every problem is collected and reported together, one line per setting, naming the setting and
what is wrong, so a bad deployment is fixed in one round instead of one error at a time.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, field
from enum import Enum
from functools import cached_property
from typing import Any, TypeVar

from remediation.core.allowed_hosts import arm_endpoint, eventgrid_topic, storage_account_name, storage_connection
from remediation.core.ids import (
    SUBNET_TYPE,
    InvalidResourceId,
    ResourceId,
    parse_account_id,
    parse_resource_id,
    parse_scope,
)
from remediation.core.model import Mode

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
E = TypeVar("E", bound=Enum)

_TABLE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]{2,62}")
_NCRONTAB_FIELD = re.compile(r"[0-9A-Za-z*/,\-?#LW]+")
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


class PublicAccessMode(str, Enum):
    DISABLED = "Disabled"
    SELECTED_NETWORKS = "SelectedNetworks"


class NetworkBypass(str, Enum):
    """`networkAcls.bypass` as Azure spells it: whether trusted Azure services pass the network rules."""

    NONE = "None"
    AZURE_SERVICES = "AzureServices"


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
    """The app settings, parsed; the defaults here are the only ones (`SETTINGS` maps names to fields)."""

    scopes: tuple[ResourceId, ...]
    storage_connection: str | None
    storage_account_name: str | None = None
    mode: Mode = Mode.REPORT
    kinds: frozenset[str] = frozenset({"openai", "aiservices"})  # lower-case
    public_network_access: PublicAccessMode = PublicAccessMode.DISABLED
    allowed_ip_rules: tuple[IpNetwork, ...] = ()
    allowed_vnet_subnet_ids: tuple[ResourceId, ...] = ()  # SelectedNetworks: subnets allowed in virtualNetworkRules
    network_bypass: NetworkBypass | None = None  # None: `bypass` is not governed
    disable_local_auth: bool = False
    pe_subnets: SubnetMap = field(default_factory=SubnetMap)
    pe_allowed_subnet_ids: tuple[ResourceId, ...] = ()
    dns_zone_resource_group: ResourceId | None = None
    exempt_tag: str = "remediation-exempt"
    exempt_max_days: int = 90  # a tag date further ahead does not exempt
    exempt_account_ids: frozenset[ResourceId] = frozenset()  # exempt without end; only operators set app settings
    max_fixes_per_hour: int = 3
    sweep_schedule: str = "0 */30 * * * *"
    sweep_concurrency: int = 8  # lists the sweep sends side by side (streams of pages, not requests at once)
    arm_endpoint: str = "https://management.azure.com"
    audit_table: str = "remediationaudit"
    eventgrid_topic_endpoint: str | None = None
    client_id: str | None = None
    # How often long-running operations and busy accounts are polled, and how long one reconcile waits
    # for a busy account before deferring. Production defaults; tests lower them.
    poll_interval_seconds: float = 5.0
    ready_timeout_seconds: float = 60.0
    resolution_check: bool = False  # resolve each account's public names and check they answer privately
    dns_resolver: ResolverAddress | None = None  # None: the system resolver

    @property
    def arm_scope(self) -> str:
        """The token scope that matches the Resource Manager endpoint (sovereign clouds, emulator)."""
        return self.arm_endpoint + "/.default"

    @cached_property
    def allowed_subnets(self) -> frozenset[ResourceId]:
        """Subnets whose approved private endpoints count as serving an account."""
        return frozenset((*self.pe_subnets.subnets, *self.pe_allowed_subnet_ids))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, require_storage: bool = True) -> Settings:
        """`require_storage=False` for the operator command, which can run with nothing but an Azure login."""
        return _Reader(os.environ if env is None else env, require_storage).settings()


@dataclass(frozen=True)
class Setting:
    """One app setting: its name, the Settings field it fills, and how its text is parsed."""

    name: str
    field: str
    parse: Callable[[str], Any]


def _default(name: str) -> Any:
    """The field's default; None for a field without one (a required setting)."""
    spec = Settings.__dataclass_fields__[name]
    if spec.default_factory is not MISSING:
        return spec.default_factory()
    return None if spec.default is MISSING else spec.default


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

    def read(self, setting: Setting) -> Any:
        value = self.raw(setting.name)
        if value is None:
            return _default(setting.field)
        try:
            return setting.parse(value)
        except (ValueError, InvalidResourceId, RecursionError) as error:
            problem = error if not isinstance(error, RecursionError) else "nested too deeply"
            self.problems.append(f"{setting.name}: {problem}")
            return _default(setting.field)

    def settings(self) -> Settings:
        values = {setting.field: self.read(setting) for setting in SETTINGS}
        if not values["scopes"] and not any(p.startswith("REMEDIATION_SCOPES") for p in self.problems):
            self.problems.append(
                "REMEDIATION_SCOPES: required (comma-separated /subscriptions/<id>[/resourceGroups/<rg>])")
        named = any(p.startswith("AzureWebJobsStorage") for p in self.problems)
        if values["storage_connection"] is None and values["storage_account_name"] is None \
                and self.require_storage and not named:
            self.problems.append(
                "AzureWebJobsStorage: required (a connection string, UseDevelopmentStorage=true, "
                "or AzureWebJobsStorage__accountName for identity-based access)"
            )
        if self.problems:
            raise SettingsError(self.problems)
        return Settings(**values)


@dataclass(frozen=True)
class ResolverAddress:
    """A DNS resolver to ask (REMEDIATION_DNS_RESOLVER)."""

    host: str
    port: int = 53

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


# Parsers: each takes the raw text and raises ValueError with a message a person can act on.

def _enum(enum: type[E]) -> Callable[[str], E]:
    def parse(value: str) -> E:
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
        vnet_type = SUBNET_TYPE.replace("/subnets", "")
        raise ValueError(f"{value!r} is not a subnet ID (…/providers/{vnet_type}/<vnet>/subnets/<name>)")
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


def _account_ids(value: str) -> frozenset[ResourceId]:
    ids = []
    for part in _split(value):
        try:
            ids.append(parse_account_id(part))
        except InvalidResourceId as error:
            raise ValueError(f"{part[:200]!r}: {error}") from None
    return frozenset(ids)


def _days(value: str) -> int:
    if not (value.isascii() and value.isdigit()) or int(value) > 3650:
        raise ValueError(f"{value[:20]!r} is not a whole number of days from 0 to 3650")
    return int(value)


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a whole number") from None
    if number < 1:
        raise ValueError("must be at least 1")
    return number


def _concurrency(value: str) -> int:
    number = _positive_int(value)
    if number > 64:
        raise ValueError("must be at most 64")
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
        raise ValueError(f"{value!r} is not a six-field NCRONTAB expression "
                         "({second} {minute} {hour} {day} {month} {day-of-week})")
    return value


def _table_name(value: str) -> str:
    if not _TABLE_NAME.fullmatch(value):
        raise ValueError(f"{value!r} is not a table name (3-63 letters and digits, starting with a letter)")
    return value


def _guid(value: str) -> str:
    if not _GUID.fullmatch(value):
        raise ValueError(f"{value!r} is not a client ID (a GUID)")
    return value


def parse_resolver(value: str) -> ResolverAddress:
    """`ip`, `ip:port`, `ipv6` or `[ipv6]:port`; raises ValueError with a message a person can act on."""
    text = value.strip()
    port = 53
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            raise ValueError(f"{value!r} is not ip[:port] or [ipv6]:port")
        if rest:
            port = _port(rest[1:], value)
    elif text.count(":") == 1:
        host, _, port_text = text.partition(":")
        port = _port(port_text, value)
    else:
        host = text
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"{value!r}: {host!r} is not an IP address (a resolver is named by address)") from None
    return ResolverAddress(str(address), port)


def _port(text: str, value: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ValueError(f"{value!r}: the port must be a number from 1 to 65535")
    return int(text)


def _on_off(value: str) -> bool:
    lowered = value.lower()
    if lowered not in ("on", "off"):
        raise ValueError(f"{value!r} is not on or off")
    return lowered == "on"


# Every setting the app reads, in the order docs/configuration.md lists them.
SETTINGS: tuple[Setting, ...] = (
    Setting("REMEDIATION_MODE", "mode", _enum(Mode)),
    Setting("REMEDIATION_SCOPES", "scopes", _scopes),
    Setting("REMEDIATION_KINDS", "kinds", _kinds),
    Setting("REMEDIATION_PUBLIC_NETWORK_ACCESS", "public_network_access", _enum(PublicAccessMode)),
    Setting("REMEDIATION_ALLOWED_IP_RULES", "allowed_ip_rules", _ip_rules),
    Setting("REMEDIATION_ALLOWED_VNET_SUBNET_IDS", "allowed_vnet_subnet_ids", _subnet_list),
    Setting("REMEDIATION_NETWORK_BYPASS", "network_bypass", _enum(NetworkBypass)),
    Setting("REMEDIATION_DISABLE_LOCAL_AUTH", "disable_local_auth", _bool),
    Setting("REMEDIATION_PE_SUBNET_ID", "pe_subnets", _subnet_map),
    Setting("REMEDIATION_PE_ALLOWED_SUBNET_IDS", "pe_allowed_subnet_ids", _subnet_list),
    Setting("REMEDIATION_DNS_ZONE_RESOURCE_GROUP_ID", "dns_zone_resource_group", _resource_group),
    Setting("REMEDIATION_EXEMPT_TAG", "exempt_tag", _tag_name),
    Setting("REMEDIATION_EXEMPT_MAX_DAYS", "exempt_max_days", _days),
    Setting("REMEDIATION_EXEMPT_ACCOUNT_IDS", "exempt_account_ids", _account_ids),
    Setting("REMEDIATION_MAX_FIXES_PER_HOUR", "max_fixes_per_hour", _positive_int),
    Setting("REMEDIATION_SWEEP_SCHEDULE", "sweep_schedule", _ncrontab),
    Setting("REMEDIATION_SWEEP_CONCURRENCY", "sweep_concurrency", _concurrency),
    Setting("REMEDIATION_ARM_ENDPOINT", "arm_endpoint", arm_endpoint),
    Setting("REMEDIATION_AUDIT_TABLE", "audit_table", _table_name),
    Setting("REMEDIATION_EVENTGRID_TOPIC_ENDPOINT", "eventgrid_topic_endpoint", eventgrid_topic),
    Setting("REMEDIATION_POLL_INTERVAL_SECONDS", "poll_interval_seconds", _seconds(0, 300)),
    Setting("REMEDIATION_READY_TIMEOUT_SECONDS", "ready_timeout_seconds", _seconds(0, 600)),
    Setting("REMEDIATION_RESOLUTION_CHECK", "resolution_check", _on_off),
    Setting("REMEDIATION_DNS_RESOLVER", "dns_resolver", parse_resolver),
    Setting("AzureWebJobsStorage", "storage_connection", storage_connection),
    Setting("AzureWebJobsStorage__accountName", "storage_account_name", storage_account_name),
    Setting("AZURE_CLIENT_ID", "client_id", _guid),
)
assert {s.field for s in SETTINGS} == set(Settings.__dataclass_fields__), "every field is read from one setting"
