"""Text to terms: the tokenizer and the parser of the filter language.

Why it never raises: what the operator types is parsed as they type it, half-finished quotes and all, and a filter
that cannot be parsed must not blank the screen. Every problem becomes a short message in ``Query.errors`` (the
offending text clipped and made printable, since it is shown under the filter box) and the rest of the query still
works: an unknown ``field:`` is searched as free text, a field without a value or with a value it cannot take is
dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

from console.store.query.evaluate import priority_bound
from console.store.query.fields import ALIASES, FLAGS, KNOWN, NO, YES, YES_NO
from console.store.query.terms import Query, Term

__all__ = ["parse"]

_MAX_MESSAGE_TEXT = 40


@dataclass(slots=True)
class _Token:
    text: str
    negated: bool
    colon: int | None  # index in ``text`` of the first colon outside quotes, before any quote
    quoted: bool


def parse(text: str) -> Query:
    """Parse a filter. Never raises: problems become messages in ``Query.errors``."""
    if not isinstance(text, str):
        return Query(errors=("the filter is not text",))
    tokens, errors = _tokenize(text)
    terms: list[Term] = []
    for token in tokens:
        term = _term(token, errors)
        if term is not None:
            terms.append(term)
    return Query(tuple(terms), tuple(errors))


def _tokenize(text: str) -> tuple[list[_Token], list[str]]:
    tokens: list[_Token] = []
    errors: list[str] = []
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            break
        negated = text[i] == "-"
        if negated:
            i += 1
        buf: list[str] = []
        colon: int | None = None
        quoted = False
        while i < n and not text[i].isspace():
            ch = text[i]
            if ch == '"':
                quoted = True
                i += 1
                while i < n and text[i] != '"':
                    if text[i] == "\\" and i + 1 < n:
                        i += 1
                    buf.append(text[i])
                    i += 1
                if i >= n:
                    errors.append("a quote is not closed")
                i += 1
                continue
            if ch == ":" and colon is None and not quoted:
                colon = len(buf)
            buf.append(ch)
            i += 1
        if not buf and not quoted:
            continue  # a lone "-"
        tokens.append(_Token("".join(buf), negated, colon, quoted))
    return tokens, errors


def _term(token: _Token, errors: list[str]) -> Term | None:
    text = token.text
    if token.colon is None or token.colon == 0:
        flag = None if token.quoted else FLAGS.get(text.casefold())
        if flag is not None:
            return Term(flag, "yes", token.negated)
        return Term(None, text, token.negated) if text else None
    name = text[: token.colon].casefold()
    value = text[token.colon + 1 :]
    name = ALIASES.get(name, name)
    if name not in KNOWN:
        errors.append(f'unknown field "{_clip(name)}:", searched as text')
        return Term(None, text, token.negated)
    if not value:
        errors.append(f"{name}: needs a value")
        return None
    if name in YES_NO:
        folded = value.casefold()
        if folded in YES:
            return Term(name, "yes", token.negated)
        if folded in NO:
            return Term(name, "no", token.negated)
        errors.append(f"{name}: takes yes or no")
        return None
    if name == "priority" and priority_bound(value) is None:
        errors.append("priority: takes a number (1..5, <=2, >3) or critical, high, medium, low")
        return None
    return Term(name, value, token.negated)


def _clip(text: str) -> str:
    text = "".join(ch if ch.isprintable() else "?" for ch in text)
    return text if len(text) <= _MAX_MESSAGE_TEXT else text[: _MAX_MESSAGE_TEXT - 1] + "…"
