"""Safe YAML reading that remembers where every key and value came from.

PyYAML's parser (libyaml when present) turns a file into events; this module composes those
events into plain Python values itself instead of using a constructor, which is what lets it
promise, for hostile input:

- no tag beyond YAML's plain core tags is honoured, and no Python object is ever constructed;
- a duplicate key is an error at the second key, not a silent overwrite;
- nesting deeper than `MAX_DEPTH` and alias expansion beyond `MAX_NODES` values per document
  are refused (the "billion laughs" bomb is caught while it is still a handful of events);
- files over `MAX_FILE_BYTES` or not UTF-8 text are refused before parsing.

Timestamps stay strings (the models parse them where a field wants a time), so a label value such
as `2026-01-01` is not silently turned into a date.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import ScalarNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import Resolver
from yaml.scanner import Scanner

from reconciler.errors import ManifestError

MAX_FILE_BYTES = 1024 * 1024
MAX_DEPTH = 64
MAX_NODES = 10_000

Path = tuple[str | int, ...]
Mark = tuple[int, int]


class _PureParser(Reader, Scanner, Parser):
    """PyYAML's pure-Python event parser, for machines without libyaml."""

    def __init__(self, stream: str) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)


_Parser: Any = getattr(yaml, "CParser", None) or _PureParser

_CORE = "tag:yaml.org,2002:"
_ALLOWED_TAGS = {f"{_CORE}{t}" for t in ("str", "int", "float", "bool", "null", "map", "seq")}
_ALLOWED_TAGS.add("!")
_MERGE = f"{_CORE}merge"
_RESOLVER = Resolver()
_CONSTRUCTOR = SafeConstructor()
_SCALARS: dict[str, Any] = {
    f"{_CORE}bool": _CONSTRUCTOR.construct_yaml_bool,
    f"{_CORE}int": _CONSTRUCTOR.construct_yaml_int,
    f"{_CORE}float": _CONSTRUCTOR.construct_yaml_float,
    f"{_CORE}null": _CONSTRUCTOR.construct_yaml_null,
}


@dataclass
class SourceDocument:
    """One YAML document: its value and where each of its keys and values stand."""

    file: str
    value: Any
    line: int
    column: int
    key_marks: dict[Path, Mark] = field(default_factory=dict)
    value_marks: dict[Path, Mark] = field(default_factory=dict)
    #: Problems that did not stop the document (duplicate keys); the validator adds its own.
    errors: list[ManifestError] = field(default_factory=list)

    def mark(self, path: Path, *, prefer_value: bool = False) -> Mark:
        """The line and column to blame for `path`: its key, else its value, else its parent's."""
        while True:
            first, second = (
                (self.value_marks, self.key_marks)
                if prefer_value
                else (self.key_marks, self.value_marks)
            )
            if path in first:
                return first[path]
            if path in second:
                return second[path]
            if not path:
                return (self.line, self.column)
            path = path[:-1]


class _Refused(Exception):
    """A problem that ends the current document or file."""

    def __init__(self, mark: Mark, message: str, path: Path = ()) -> None:
        super().__init__(message)
        self.mark = mark
        self.message = message
        self.path = path


@dataclass
class _Anchor:
    value: Any
    size: int


class _MergeKeyType:
    def __repr__(self) -> str:
        return "<<"


_MergeKey = _MergeKeyType()


@dataclass
class _Frame:
    """A collection being composed: a mapping (`keys` set) or a sequence."""

    path: Path
    mark: Mark
    anchor: str | None
    items: list[Any] | dict[Any, Any]
    size: int = 1
    pending_key: tuple[str | _MergeKeyType, Mark] | None = None
    key_lines: dict[Any, int] = field(default_factory=dict)


def _mark(event: Any) -> Mark:
    return (event.start_mark.line + 1, event.start_mark.column + 1)


def format_path(path: Path) -> str:
    """`('spec', 'notifications', 0, 'threshold')` → `spec.notifications[0].threshold`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


class _Composer:
    """Builds Python values from a parser's events, keeping marks and enforcing the limits."""

    def __init__(self, file: str, events: Iterator[Any]) -> None:
        self.file = file
        self.events = events
        self.errors: list[ManifestError] = []

    def documents(self) -> Iterator[SourceDocument]:
        for event in self.events:
            if isinstance(event, yaml.DocumentStartEvent):
                yield from self._document(event)

    def _document(self, start: Any) -> Iterator[SourceDocument]:
        doc = SourceDocument(self.file, None, *_mark(start))
        anchors: dict[str, _Anchor] = {}
        stack: list[_Frame] = []
        total = 0
        try:
            for event in self.events:
                if isinstance(event, yaml.DocumentEndEvent):
                    break
                if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                    self._check_tag(event, stack)
                    if len(stack) >= MAX_DEPTH:
                        raise _Refused(_mark(event), f"nesting is deeper than {MAX_DEPTH} levels")
                    path = self._child_path(stack)
                    is_map = isinstance(event, yaml.MappingStartEvent)
                    stack.append(_Frame(path, _mark(event), event.anchor, {} if is_map else []))
                    doc.value_marks[path] = _mark(event)
                    continue
                if isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                    frame = stack.pop()
                    if frame.anchor is not None:
                        anchors[frame.anchor] = _Anchor(frame.items, frame.size)
                    value, size = frame.items, frame.size
                elif isinstance(event, yaml.AliasEvent):
                    if event.anchor not in anchors:
                        raise _Refused(_mark(event), f"unknown alias *{event.anchor}")
                    anchor = anchors[event.anchor]
                    value, size = anchor.value, anchor.size
                    doc.value_marks.setdefault(self._child_path(stack), _mark(event))
                else:  # ScalarEvent
                    self._check_tag(event, stack)
                    value, size = self._scalar(event), 1
                    if event.anchor is not None:
                        anchors[event.anchor] = _Anchor(value, 1)
                    if not (stack and isinstance(stack[-1].items, dict)) or (
                        stack[-1].pending_key is not None
                    ):
                        doc.value_marks[self._child_path(stack)] = _mark(event)
                total += size
                if total > MAX_NODES:
                    raise _Refused(
                        _mark(event),
                        f"the document expands to more than {MAX_NODES} values "
                        "(too many aliases or too large)",
                    )
                if not stack:
                    doc.value = value
                else:
                    self._add(stack[-1], value, size, event, doc)
        except _Refused as refused:
            self._error(refused.mark, format_path(refused.path), refused.message)
            self._skip_document()
            return
        yield doc

    def _child_path(self, stack: list[_Frame]) -> Path:
        if not stack:
            return ()
        frame = stack[-1]
        if isinstance(frame.items, list):
            return (*frame.path, len(frame.items))
        key = frame.pending_key[0] if frame.pending_key else None
        if not isinstance(key, str):
            return frame.path  # composing a key or a merge; neither has a path of its own
        return (*frame.path, key)

    def _add(self, frame: _Frame, value: Any, size: int, event: Any, doc: SourceDocument) -> None:
        frame.size += size
        if isinstance(frame.items, list):
            frame.items.append(value)
            return
        if frame.pending_key is None:
            if isinstance(value, (dict, list)):
                raise _Refused(_mark(event), "mapping keys must be plain scalars", frame.path)
            # Keys are always text: `on:` is the key "on", not True, and `1:` is "1".
            text = event.value if isinstance(event, yaml.ScalarEvent) else str(value)
            if isinstance(event, yaml.ScalarEvent) and text == "<<" and event.style is None:
                frame.pending_key = (_MergeKey, _mark(event))
                return
            frame.pending_key = (text, _mark(event))
            doc.key_marks[(*frame.path, text)] = _mark(event)
            return
        key, key_mark = frame.pending_key
        frame.pending_key = None
        if isinstance(key, _MergeKeyType):
            self._merge(frame, value, key_mark)
            return
        if key in frame.key_lines:
            doc.errors.append(
                ManifestError(
                    self.file,
                    *key_mark,
                    format_path((*frame.path, key)),
                    f"duplicate key '{key}' (first defined at line {frame.key_lines[key]})",
                )
            )
        frame.key_lines[key] = key_mark[0]
        frame.items[key] = value

    def _merge(self, frame: _Frame, value: Any, mark: Mark) -> None:
        sources = value if isinstance(value, list) else [value]
        if not all(isinstance(source, dict) for source in sources):
            raise _Refused(
                mark, "a merge key (<<) takes a mapping or a list of mappings", frame.path
            )
        assert isinstance(frame.items, dict)
        for source in sources:  # keys already present (explicit or merged earlier) win
            for key, item in source.items():
                frame.items.setdefault(key, item)

    def _check_tag(self, event: Any, stack: list[_Frame]) -> None:
        tag = event.tag
        if tag is None or tag in _ALLOWED_TAGS:
            return
        shown = tag.replace(_CORE, "!!")
        raise _Refused(
            _mark(event),
            f"YAML tag '{shown}' is not allowed (only plain values, lists and mappings)",
            self._child_path(stack),
        )

    def _scalar(self, event: Any) -> Any:
        if event.tag in (None, "!"):
            tag = _RESOLVER.resolve(ScalarNode, event.value, event.implicit)  # type: ignore[no-untyped-call]
        else:
            tag = event.tag
        if tag == _MERGE:
            return event.value
        construct = _SCALARS.get(tag)
        if construct is None:  # str, and timestamps, which stay text
            return event.value
        try:
            return construct(ScalarNode(tag, event.value))
        except (ValueError, yaml.YAMLError) as exc:
            raise _Refused(
                _mark(event), f"'{event.value}' is not a valid {tag[len(_CORE) :]}"
            ) from exc

    def _skip_document(self) -> None:
        for event in self.events:
            if isinstance(event, yaml.DocumentEndEvent):
                return

    def _error(self, mark: Mark, path: str, message: str) -> None:
        self.errors.append(ManifestError(self.file, mark[0], mark[1], path, message))


def parse_text(text: str, file: str) -> tuple[list[SourceDocument], list[ManifestError]]:
    """Every document in `text`, and every problem found while reading it."""
    parser = _Parser(text)
    events = _events(parser)
    composer = _Composer(file, events)
    documents: list[SourceDocument] = []
    try:
        for document in composer.documents():
            if document.value is not None:
                documents.append(document)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or exc.context or "malformed YAML"
        composer.errors.append(ManifestError(file, line, column, "", f"invalid YAML: {problem}"))
    except yaml.YAMLError as exc:
        composer.errors.append(ManifestError(file, 1, 1, "", f"invalid YAML: {exc}"))
    finally:
        dispose = getattr(parser, "dispose", None)
        if dispose is not None:
            dispose()
    return documents, composer.errors


def _events(parser: Any) -> Iterator[Any]:
    while True:
        event = parser.get_event()
        if event is None:
            return
        yield event
        if isinstance(event, yaml.StreamEndEvent):
            return


def read_file(
    path: str, display: str | None = None
) -> tuple[list[SourceDocument], list[ManifestError]]:
    """Read and parse one manifest file, refusing oversized and non-text files up front."""
    shown = display or path
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        return [], [ManifestError(shown, 1, 1, "", f"cannot read the file: {exc.strerror}")]
    if len(raw) > MAX_FILE_BYTES:
        return [], [
            ManifestError(shown, 1, 1, "", f"the file is larger than {MAX_FILE_BYTES // 1024} KiB")
        ]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return [], [ManifestError(shown, line, 1, "", "the file is not UTF-8 text")]
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        return [], [
            ManifestError(shown, line, 1, "", "the file contains NUL bytes: not a text file")
        ]
    return parse_text(text, shown)
