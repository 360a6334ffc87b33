"""The README and docs/ say what the code says.

- docs/findings.md's table is `FINDINGS`; docs/configuration.md's table and README's first settings are `SETTINGS`
  (names and defaults).
- README's package map lists every module under remediation/, package by package, and nothing else; its picture
  of the layers is the folders and the order of import-linter's layers contract in pyproject.toml.
- README.md fits a front page (at most 200 lines), and every relative link in README.md and docs/*.md leads to a
  file that exists, and to a heading that exists when it names one.

A failing table test prints the table as it should read, ready to paste.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from remediation.core.findings import FINDINGS
from remediation.core.settings import SETTINGS, Settings

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
DOCS = REPO / "docs"
PRODUCT = REPO / "remediation"
MAX_README_LINES = 200


def section(text: str, title: str) -> str:
    """The text from a heading to the next heading of the same or a higher level."""
    match = re.search(rf"^(#+) {re.escape(title)}\n", text, flags=re.M)
    assert match, f"no section {title!r}"
    level = len(match.group(1))
    rest = text[match.end():]
    end = re.search(rf"^#{{1,{level}}} ", rest, flags=re.M)
    return rest[: end.start() if end else len(rest)]


def first_code_block(text: str) -> list[str]:
    match = re.search(r"^```[^\n]*\n(.*?)^```", text, flags=re.M | re.S)
    assert match, "no code block"
    return match.group(1).splitlines()


def table_rows(text: str) -> list[list[str]]:
    rows = [line for line in text.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows[2:]]


# --- tables -------------------------------------------------------------------------------------------------------

def findings_table() -> str:
    rows = ["| finding | severity | when | action |", "|---|---|---|---|"]
    rows += [f"| `{code.value}` | {info.severity.value} | {info.when} | {info.fix} |"
             for code, info in FINDINGS.items()]
    return "\n".join(rows) + "\n"


def test_findings_table_is_the_finding_metadata() -> None:
    expected = findings_table()
    assert expected in (DOCS / "findings.md").read_text(encoding="utf-8"), f"the table should read:\n{expected}"


def settings_rows(text: str) -> dict[str, list[str]]:
    return {row[0].strip("`"): row for row in table_rows(text)}


def check_defaults(rows: dict[str, list[str]], where: str) -> None:
    """Each row's default cell shows the code's default (when it has a non-empty one to show)."""
    defaults = Settings.__dataclass_fields__
    for setting in SETTINGS:
        if setting.name not in rows:
            continue
        default = defaults[setting.field].default
        if isinstance(default, (str, int, float)) and not isinstance(default, bool) and default != "":
            shown = f"{default:g}" if isinstance(default, float) else str(getattr(default, "value", default))
            assert f"`{shown}`" in rows[setting.name][2], f"{where}: {setting.name}'s default is not `{shown}`"
    assert set(rows) <= {s.name for s in SETTINGS}, f"{where} names a setting the code does not read"


def test_configuration_table_names_every_setting_with_its_default() -> None:
    rows = settings_rows((DOCS / "configuration.md").read_text(encoding="utf-8"))
    for setting in SETTINGS:
        if setting.name == "AzureWebJobsStorage__accountName":
            assert setting.name in rows["AzureWebJobsStorage"][1], "the storage row names the identity-based form"
            continue
        assert setting.name in rows, f"{setting.name} is not in docs/configuration.md's table"
    check_defaults(rows, "docs/configuration.md")


def test_readme_first_settings_are_settings_with_their_defaults() -> None:
    rows = settings_rows(section(README.read_text(encoding="utf-8"), "The five settings a first deployment needs"))
    assert len(rows) == 5
    check_defaults(rows, "README")


# --- the layout ---------------------------------------------------------------------------------------------------

def package_map() -> dict[str, list[str]]:
    """README's package map: '' -> the modules at the top of remediation/, each package -> its modules, in order."""
    lines = first_code_block(section(README.read_text(encoding="utf-8"), "The package map"))
    start = next(i for i, line in enumerate(lines) if line.startswith("remediation/"))
    listed: dict[str, list[str]] = {"": []}
    package = ""
    for line in lines[start + 1:]:
        indent = len(line) - len(line.lstrip(" "))
        if indent == 0:
            break  # the next top-level entry: remediation/ ends here
        name = line.split()[0]
        if indent == 2 and name.endswith("/"):
            package = name.removesuffix("/")
            assert package not in listed, f"README's package map lists {package}/ twice"
            listed[package] = []
        else:
            assert (indent, name.endswith(".py")) == (4 if package else 2, True), f"unexpected map line {line!r}"
            listed[package].append(name)
    return listed


def on_disk() -> dict[str, list[str]]:
    found = {"": sorted(p.name for p in PRODUCT.glob("*.py") if p.name != "__init__.py")}
    for folder in sorted(p for p in PRODUCT.iterdir() if p.is_dir() and (p / "__init__.py").exists()):
        found[folder.name] = sorted(p.name for p in folder.glob("*.py") if p.name != "__init__.py")
    return found


def import_linter_layers() -> list[set[str]]:
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    layers = next(c for c in contracts if c["type"] == "layers")["layers"]
    return [{name.strip().removeprefix("remediation.") for name in layer.split("|")} for layer in layers]


def layers_picture() -> list[set[str]]:
    """README's picture of the layers, top down: each line that starts with a folder is a layer."""
    lines = first_code_block(section(README.read_text(encoding="utf-8"), "The layers"))
    layers = []
    for line in lines:
        match = re.match(r"(\w+/(?: \| \w+/)*)(?:\s|$)", line)
        if match:
            layers.append({name.strip().removesuffix("/") for name in match.group(1).split("|")})
    return layers


def test_package_map_lists_every_module_of_every_package() -> None:
    listed, found = package_map(), on_disk()
    assert {k: sorted(v) for k, v in listed.items()} == found
    for package, modules in listed.items():
        assert len(modules) == len(set(modules)), f"README's package map lists a module of {package}/ twice"


def test_package_map_lists_the_packages_top_layer_first() -> None:
    layers = import_linter_layers()
    rank = [next(i for i, layer in enumerate(layers) if package in layer) for package in package_map() if package]
    assert rank == sorted(rank), "README's package map does not list the packages in the contract's layer order"


def test_layers_picture_is_the_import_contract_and_the_folders() -> None:
    picture = layers_picture()
    assert picture == import_linter_layers(), "README's picture of the layers is not pyproject.toml's contract"
    assert set().union(*picture) == set(on_disk()) - {""}, "README's picture of the layers is not the folders"


def test_the_layers_side_by_side_are_independent_in_the_contract() -> None:
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    independent = [{m.removeprefix("remediation.") for m in c["modules"]}
                   for c in config["tool"]["importlinter"]["contracts"] if c["type"] == "independence"]
    for layer in layers_picture():
        if len(layer) > 1:
            assert layer in independent, f"{sorted(layer)} share a layer but no independence contract"


def test_the_picture_parser_sees_a_shared_layer() -> None:
    lines = ["runtime/   top", "   │", "arm/ | store/   side by side", "core/"]
    assert [{n.strip().removesuffix("/") for n in m.group(1).split("|")}
            for line in lines if (m := re.match(r"(\w+/(?: \| \w+/)*)(?:\s|$)", line))] == [
        {"runtime"}, {"arm", "store"}, {"core"}]


# --- the front page and the links ---------------------------------------------------------------------------------

def test_readme_fits_a_front_page() -> None:
    lines = README.read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_README_LINES, f"README.md has {lines} lines; move detail into docs/"


def markdown_files() -> list[Path]:
    return [README, *sorted(DOCS.glob("*.md"))]


def links(text: str) -> list[str]:
    """Every inline link target outside code (fenced blocks and `spans`)."""
    prose = re.sub(r"^```.*?^```", "", text, flags=re.M | re.S)
    prose = re.sub(r"`[^`\n]*`", "", prose)
    return re.findall(r"\[[^\]]*\]\(([^)\s]+)\)", prose)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = heading.strip().lower().replace("`", "")
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = re.sub(r"^```.*?^```", "", path.read_text(encoding="utf-8"), flags=re.M | re.S)
    seen: dict[str, int] = {}
    out = set()
    for heading in re.findall(r"^#+ (.+)$", text, flags=re.M):
        base = slug(heading)
        count = seen.get(base, 0)
        out.add(base if count == 0 else f"{base}-{count}")
        seen[base] = count + 1
    return out


@pytest.mark.parametrize("path", markdown_files(), ids=lambda p: str(p.relative_to(REPO)))
def test_every_relative_link_resolves(path: Path) -> None:
    broken = []
    for target in links(path.read_text(encoding="utf-8")):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):
            continue  # https:, mailto:: not checked offline
        file_part, _, anchor = target.partition("#")
        destination = (path.parent / file_part).resolve() if file_part else path
        if not destination.exists():
            broken.append(f"{target}: no such file")
        elif anchor and destination.suffix == ".md" and anchor not in anchors(destination):
            broken.append(f"{target}: no heading #{anchor} in {destination.relative_to(REPO)}")
    assert not broken, f"{path.relative_to(REPO)}: " + "; ".join(broken)


def test_link_check_sees_a_broken_link_and_anchor(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("# The first `azd up`\n\n[ok](#the-first-azd-up) [bad](#nope) [gone](missing.md) "
                    "`[code](ignored.md)`\n", encoding="utf-8")
    assert links(page.read_text(encoding="utf-8")) == ["#the-first-azd-up", "#nope", "missing.md"]
    assert anchors(page) == {"the-first-azd-up"}


# Paths named in `code`: repository paths, and remediation/'s layer folders named without their prefix.
PATH_SPAN = re.compile(r"`((?:remediation|localdev|tests|bench|infra|docs|core|arm|store|engine|runtime)/[\w./-]*"
                       r"|[\w.-]+\.(?:py|json|yaml|toml|md))`")
MADE_BY_MAKE = {"localdev/node_modules"}  # named as what `make deps` creates


def named_paths(text: str) -> list[str]:
    prose = re.sub(r"^```.*?^```", "", text, flags=re.M | re.S)
    return [path for path in PATH_SPAN.findall(prose) if path not in MADE_BY_MAKE]


def resolve(path: str) -> Path:
    if path.split("/")[0] in {layer for layers in import_linter_layers() for layer in layers}:
        return PRODUCT / path
    return REPO / path


@pytest.mark.parametrize("path", markdown_files(), ids=lambda p: str(p.relative_to(REPO)))
def test_every_path_named_exists(path: Path) -> None:
    missing = sorted({name for name in named_paths(path.read_text(encoding="utf-8")) if not resolve(name).exists()})
    assert not missing, f"{path.relative_to(REPO)} names paths that do not exist: {missing}"


def test_path_check_sees_a_missing_path() -> None:
    text = "`core/triage.py` `remediation/events.py` `host.json` `make test` `python -m remediation`\n"
    assert named_paths(text) == ["core/triage.py", "remediation/events.py", "host.json"]
    assert [resolve(name).exists() for name in named_paths(text)] == [True, False, True]


def test_the_how_it_works_picture_names_files_that_exist() -> None:
    picture = "\n".join(first_code_block(section(README.read_text(encoding="utf-8"), "How it works")))
    named = re.findall(r"\b(\w+/\w+\.py)\b", picture)
    assert len(named) >= 10, named
    assert [name for name in named if not resolve(name).exists()] == []
