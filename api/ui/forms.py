"""Forms to commands and back: form fields validated with the API's own request models, and
every refusal turned into messages in the reader's words (api/ui/refusals.py), by field
where it names one."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from api.ui.refusals import FormInvalid, Problem, problems_of, say, say_problem
from api.ui.web import Form
from domain.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Invalid,
    NotFound,
    TransitionNotAllowed,
    VersionMismatch,
)
from domain.photos import TooLarge

M = TypeVar("M", bound=BaseModel)
_TRUE = {"true", "on", "yes", "1"}
_FALSE = {"false", "off", "no", "0"}


@dataclass
class Errors:
    """What to show with a form that was refused: messages by field, others at the top;
    `first` is the field the page puts the focus on."""

    status: int
    fields: dict[str, list[str]] = field(default_factory=dict)
    top: list[str] = field(default_factory=list)
    summary: list[tuple[str, str]] = field(default_factory=list)
    first: str | None = None

    def of(self, name: str) -> list[str]:
        """The messages for one field (empty if none)."""
        return self.fields.get(name, [])


def field_name(loc: tuple[Any, ...]) -> str:
    """A pydantic error location as the API names the field: ("resident", "phone") ->
    "resident.phone"."""
    if loc and loc[0] in ("body", "query", "path", "header"):
        loc = loc[1:]
    return ".".join(str(p) for p in loc) or "body"


def parse(model: type[M], data: dict[str, Any]) -> M:
    """Validate `data` with one of the API's request models; Invalid with its messages."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise FormInvalid(
            [
                Problem(
                    field_name(tuple(e.get("loc", ()))),
                    e.get("type", "value_error"),
                    e.get("msg", "invalid"),
                    {**(e.get("ctx") or {}), "input": e.get("input")},
                )
                for e in exc.errors()
            ]
        ) from None


def payload(
    form: Form, model: type[BaseModel], prefix: str = "", lists: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The request body a form stands for: blank optional fields left out, booleans
    made booleans, repeated fields as lists (names as in the model, after `prefix`)."""
    data: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        key = prefix + name
        if name in lists:
            data[name] = [v for v in form.getlist(key) if v.strip()]
            continue
        if not form.has(key):
            continue
        raw = form.get(key)
        if info.annotation is bool:
            lowered = raw.strip().lower()
            data[name] = True if lowered in _TRUE else False if lowered in _FALSE else raw
        elif raw.strip() or info.is_required():
            data[name] = raw
    return data


def errors_of(exc: DomainError, lang: str, prefix: str = "") -> Errors:
    """The page's errors for a refused command: the API's status, and messages in the
    reader's language that name the field."""
    if isinstance(exc, Invalid):
        errors = Errors(422)
        for problem in problems_of(exc):
            name = prefix + problem.field
            message = say_problem(lang, problem)
            errors.fields.setdefault(name, []).append(message)
            errors.summary.append((name, message))
            errors.first = errors.first or name
        return errors
    if isinstance(exc, TooLarge):  # a photo: said by its field, answered 413
        errors = Errors(413)
        name, message = prefix + exc.field, say(lang, exc)
        errors.fields[name] = [message]
        errors.summary.append((name, message))
        errors.first = name
        return errors
    status = 409
    if isinstance(exc, Forbidden):
        status = 403
    elif isinstance(exc, NotFound):
        status = 404
    elif isinstance(exc, VersionMismatch):
        status = 412
    elif isinstance(exc, TransitionNotAllowed | Conflict):
        status = 409
    return Errors(status, top=[say(lang, exc)])
