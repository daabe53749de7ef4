"""The repository explains itself: the generated documents are what the code makes now, and
every link in the README and docs/ leads somewhere inside the repository."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from api import docs_gen
from domain import cloudevents, lifecycle

ROOT = docs_gen.ROOT
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# Written by a colleague on another branch (issue 12); linked from the index already.
_LINK = re.compile(r"\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)|(?:href|src)=\"([^\"]+)\"")
_FENCE = re.compile(r"^\s*(```|~~~)")


def test_the_generated_documents_are_what_the_code_makes_now() -> None:
    # Fails when the event contract, the vocabularies or the lifecycle change without
    # `python -m api.docs_gen` (make docs) being run and its output committed.
    assert docs_gen.stale() == []


def test_the_catalogue_lists_every_published_type_with_its_fields_and_withheld_fields() -> None:
    text = (ROOT / "docs" / "events.md").read_text(encoding="utf-8")
    for contract in cloudevents.CONTRACTS:
        section = text.split(f"\n### {contract.type}\n", 1)[1].split("\n### ", 1)[0]
        for name in contract.fields:
            assert f"| `{name}` |" in section, (contract.type, name)
        for name in contract.withheld:
            assert f"- `{name}`:" in section, (contract.type, name)


def test_domain_md_draws_the_lifecycle_the_service_serves() -> None:
    text = (ROOT / "docs" / "domain.md").read_text(encoding="utf-8")
    diagram = text.split("```mermaid\n", 1)[1].split("\n```", 1)[0]
    served = [line.rstrip() for line in lifecycle.mermaid().rstrip("\n").splitlines()]
    assert diagram.splitlines() == served
    for t in lifecycle.TRANSITIONS:
        assert f"`{t.action.value}` {t.action.zh}" in text


def test_the_check_names_a_document_edited_by_hand(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    for path in (docs_gen.EVENTS, docs_gen.DOMAIN):
        shutil.copy(ROOT / path, tmp_path / path)
    domain = tmp_path / docs_gen.DOMAIN
    domain.write_text(domain.read_text().replace("`refer` 提交支委会", "`refer` 提交"))
    assert docs_gen.stale(tmp_path) == [docs_gen.DOMAIN]
    assert docs_gen.main(["--check", "--root", str(tmp_path)]) == 1
    assert docs_gen.main(["--root", str(tmp_path)]) == 0
    assert docs_gen.stale(tmp_path) == []


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    found: set[str] = set()
    fenced = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if _FENCE.match(line):
            fenced = not fenced
        elif not fenced and (m := re.match(r"#{1,6} (.+)", line)):
            slug, n = _slug(m.group(1)), 1
            while slug in found:  # GitHub numbers repeated headings
                slug, n = f"{_slug(m.group(1))}-{n}", n + 1
            found.add(slug)
    return found


def _links(path: Path) -> list[str]:
    links: list[str] = []
    fenced = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if _FENCE.match(line):
            fenced = not fenced
        elif not fenced:
            links += [a or b for a, b in _LINK.findall(line)]
    return links


def test_every_link_in_the_readme_and_docs_stays_in_the_repository_and_resolves() -> None:
    assert (ROOT / "docs" / "index.md") in DOCUMENTS
    broken: list[str] = []
    for document in DOCUMENTS:
        assert "../shared" not in document.read_text(encoding="utf-8"), document
        for link in _links(document):
            if re.match(r"[a-z]+:", link) or link.startswith("/"):
                continue  # a web address, or a path of the running service (/docs, /ui/)
            target, _, anchor = link.partition("#")
            file = (document.parent / target).resolve() if target else document
            where = f"{document.relative_to(ROOT)}: {link}"
            if not file.is_relative_to(ROOT):
                broken.append(f"{where} (outside the repository)")
            elif not file.exists():
                broken.append(f"{where} (no such file)")
            elif anchor and file.suffix == ".md" and anchor not in _anchors(file):
                broken.append(f"{where} (no such heading)")
    assert broken == []
