"""Telegram's HTML parse mode, as the Bot API applies it: plain text plus entities, or an error.

Strict like the real server: an unknown tag, an unclosed tag or a stray `<` is a 400 "can't
parse entities", so a bot that forgets to escape a trainee's text fails here as it would there.
Offsets and lengths are in UTF-16 code units, as Telegram counts them.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "code": "code",
    "pre": "pre",
    "a": "text_link",
    "blockquote": "blockquote",
    "tg-spoiler": "spoiler",
}


class EntityError(ValueError):
    pass


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.length = 0
        self.open: list[tuple[str, int, dict[str, Any]]] = []
        self.entities: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in TAGS:
            raise EntityError(f'Unsupported start tag "{tag}"')
        extra: dict[str, Any] = {}
        if tag == "a":
            href = dict(attrs).get("href")
            if not href:
                raise EntityError("Can't find end of the link URL")
            extra["url"] = href
        self.open.append((tag, self.length, extra))

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1][0] != tag:
            raise EntityError(f'Unmatched end tag "{tag}"')
        _, start, extra = self.open.pop()
        if self.length > start:
            entity = {"type": TAGS[tag], "offset": start, "length": self.length - start}
            self.entities.append(entity | extra)

    def handle_data(self, data: str) -> None:
        if "<" in data or ">" in data:
            raise EntityError("Unexpected character")
        self.parts.append(data)
        self.length += utf16_len(data)


def parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    """(plain text, entities) of an HTML-formatted message; EntityError if Telegram refuses."""
    parser = _Parser()
    try:
        parser.feed(text)
        parser.close()
    except EntityError:
        raise
    except Exception as error:  # the stdlib parser's own complaints
        raise EntityError(str(error)) from error
    if parser.open:
        raise EntityError(f'Can\'t find end tag corresponding to start tag "{parser.open[-1][0]}"')
    if parser.rawdata:
        raise EntityError("Unexpected end of text")
    return "".join(parser.parts), sorted(parser.entities, key=lambda e: (e["offset"], -e["length"]))
