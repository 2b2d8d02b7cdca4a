"""Safe YAML reading that remembers where every key and value came from.

PyYAML's parser (libyaml when present) turns a file into events; this module composes those
events into plain Python values itself instead of using a constructor, which is what lets it
promise, for hostile input:

- no tag beyond YAML's plain core tags is honoured, and no Python object is ever constructed;
- a duplicate key is an error at the second key, not a silent overwrite;
- nesting deeper than `MAX_DEPTH` and alias expansion beyond `MAX_NODES` values per document
  are refused (the "billion laughs" bomb is caught while it is still a handful of events), and
  nesting too deep ends the file there: the parser's cost grows with the square of the depth;
- text over `MAX_FILE_BYTES`, not UTF-8, or holding characters YAML forbids (NUL, other control
  characters) is refused before parsing.

Timestamps stay strings (the models parse them where a field wants a time), so a label value such
as `2026-01-01` is not silently turned into a date.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, NoReturn

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

_NOT_UTF8 = "the file is not UTF-8 text"
_TOO_LARGE = f"the file is larger than {MAX_FILE_BYTES // 1024} KiB"
_TOO_DEEP = f"nesting is deeper than {MAX_DEPTH} levels; the rest of the file is not read"

Path = tuple[str | int, ...]
Mark = tuple[int, int]


class _PureParser(Reader, Scanner, Parser):
    """PyYAML's pure-Python event parser, for machines without libyaml."""

    def __init__(self, stream: str) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)


try:  # libyaml. Not `getattr(yaml, "CParser")`: PyYAML exports `CLoader`, never `CParser`.
    from yaml._yaml import CParser as _CParser

    _Parser: Any = _CParser
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    _Parser = _PureParser

#: Characters YAML does not allow in a stream (PyYAML's `Reader.NON_PRINTABLE`).
_NOT_PRINTABLE = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)

_CORE = "tag:yaml.org,2002:"
_ALLOWED_TAGS = {f"{_CORE}{t}" for t in ("str", "int", "float", "bool", "null", "map", "seq")}
_ALLOWED_TAGS.add("!")
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

    def __init__(
        self, mark: Mark, message: str, path: Path = (), *, ends_file: bool = False
    ) -> None:
        super().__init__(message)
        self.mark = mark
        self.message = message
        self.path = path
        #: Stop reading the file, not just this document (skipping on would cost too much).
        self.ends_file = ends_file


@dataclass
class _Anchor:
    value: Any
    size: int


class _MergeKeyType:
    def __repr__(self) -> str:
        return "<<"


_MergeKey = _MergeKeyType()


class _State:
    """One document being composed: its anchors, the open collections, its size so far."""

    __slots__ = ("anchors", "doc", "stack", "total")

    def __init__(self, doc: SourceDocument) -> None:
        self.doc = doc
        self.anchors: dict[str, _Anchor] = {}
        self.stack: list[_Frame] = []
        self.total = 0  # values so far, aliases expanded

    def count(self, values: int, mark: Mark) -> None:
        self.total += values
        if self.total > MAX_NODES:
            raise _Refused(
                mark,
                f"the document expands to more than {MAX_NODES} values "
                "(too many aliases or too large)",
            )


@dataclass(slots=True)
class _Frame:
    """A collection being composed: a mapping (`key_lines` set) or a sequence."""

    path: Path
    mark: Mark
    anchor: str | None
    items: Any  # list[Any] | dict[str, Any]
    key_lines: dict[Any, int] | None  # None for a sequence
    #: How many values the collection holds once aliases are expanded (itself included).
    size: int = 1
    #: The key whose value comes next, and where it stands; None while a key is expected.
    key: str | _MergeKeyType | None = None
    key_mark: Mark = (0, 0)


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


#: Plain scalar text → its value, for the texts manifests repeat (`true`, `60`, `Sum`, ...).
_PLAIN_CACHE: dict[str, Any] = {}
_PLAIN_CACHE_SIZE = 4096

_ScalarEvent = yaml.ScalarEvent
_MappingStart = yaml.MappingStartEvent
_SequenceStart = yaml.SequenceStartEvent
_CollectionEnds = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
_AliasEvent = yaml.AliasEvent
_DocumentEnd = yaml.DocumentEndEvent


class _Composer:
    """Builds Python values from a parser's events, keeping marks and enforcing the limits.

    This is where validation spends most of its time: keep the per-event path short.
    """

    def __init__(self, file: str, events: Iterator[Any]) -> None:
        self.file = file
        self.events = events
        self.errors: list[ManifestError] = []
        self.stopped = False

    def documents(self) -> Iterator[SourceDocument]:
        for event in self.events:
            if isinstance(event, yaml.DocumentStartEvent):
                yield from self._document(event)
            if self.stopped:
                return

    def _document(self, start: Any) -> Iterator[SourceDocument]:
        state = _State(SourceDocument(self.file, None, *_mark(start)))
        try:
            for event in self.events:
                cls = type(event)
                if cls is _ScalarEvent:
                    self._on_scalar(state, event)
                elif cls is _MappingStart or cls is _SequenceStart:
                    self._on_start(state, event, is_map=cls is _MappingStart)
                elif cls in _CollectionEnds:
                    done = state.stack.pop()
                    if done.anchor is not None:
                        state.anchors[done.anchor] = _Anchor(done.items, done.size)
                    self._place(state, done.items, done.size, done.mark)
                elif cls is _AliasEvent:
                    self._on_alias(state, event)
                elif cls is _DocumentEnd:
                    break
        except _Refused as refused:
            kind, name = _subject(state.stack[0].items if state.stack else None)
            self.errors.append(
                ManifestError(
                    self.file, *refused.mark, format_path(refused.path), refused.message, kind, name
                )
            )
            if refused.ends_file:
                self.stopped = True
            else:
                self._skip_document()
            return
        yield state.doc

    def _on_scalar(self, state: _State, event: Any) -> None:
        mark = _mark(event)
        stack = state.stack
        frame = stack[-1] if stack else None
        if event.tag is not None and event.tag not in _ALLOWED_TAGS:
            self._refuse_tag(event, mark, frame)
        state.count(1, mark)
        if frame is not None and frame.key_lines is not None and frame.key is None:
            if event.anchor is not None:
                state.anchors[event.anchor] = _Anchor(self._scalar(event, mark), 1)
            # Keys are always text: `on:` is the key "on", not True, and `1:` is "1".
            merge = event.value == "<<" and not event.style and event.tag is None
            self._key(frame, _MergeKey if merge else event.value, mark, state.doc)
            return
        value = self._scalar(event, mark)
        if event.anchor is not None:
            state.anchors[event.anchor] = _Anchor(value, 1)
        state.doc.value_marks[_child_path(frame)] = mark
        self._place(state, value, 1, mark)

    def _on_start(self, state: _State, event: Any, *, is_map: bool) -> None:
        mark = _mark(event)
        stack = state.stack
        frame = stack[-1] if stack else None
        if event.tag is not None and event.tag not in _ALLOWED_TAGS:
            self._refuse_tag(event, mark, frame)
        if len(stack) >= MAX_DEPTH:
            raise _Refused(mark, _TOO_DEEP, ends_file=True)
        state.count(1, mark)
        path = _child_path(frame)
        items: Any = {} if is_map else []
        stack.append(_Frame(path, mark, event.anchor, items, {} if is_map else None))
        state.doc.value_marks[path] = mark

    def _on_alias(self, state: _State, event: Any) -> None:
        mark = _mark(event)
        anchor = state.anchors.get(event.anchor)
        if anchor is None:
            raise _Refused(mark, f"unknown alias *{event.anchor}")
        state.count(anchor.size, mark)
        frame = state.stack[-1] if state.stack else None
        state.doc.value_marks.setdefault(_child_path(frame), mark)
        self._place(state, anchor.value, anchor.size, mark)

    def _place(self, state: _State, value: Any, size: int, mark: Mark) -> None:
        """Put a finished value where it belongs: the document, a list, a key or a value."""
        if not state.stack:
            state.doc.value = value
            return
        frame = state.stack[-1]
        frame.size += size
        if frame.key_lines is None:
            frame.items.append(value)
        elif frame.key is None:  # a collection or an alias in the place of a key
            if isinstance(value, (dict, list)):
                raise _Refused(mark, "mapping keys must be plain scalars", frame.path)
            self._key(frame, _show_key(value), mark, state.doc)
        else:
            self._value(frame, value, state.doc)

    def _key(
        self, frame: _Frame, key: str | _MergeKeyType, mark: Mark, doc: SourceDocument
    ) -> None:
        frame.key, frame.key_mark = key, mark
        if isinstance(key, str):
            doc.key_marks[(*frame.path, key)] = mark

    def _value(self, frame: _Frame, value: Any, doc: SourceDocument) -> None:
        key, key_mark, key_lines = frame.key, frame.key_mark, frame.key_lines
        assert key is not None
        assert key_lines is not None
        frame.key = None
        if key in key_lines:
            shown = "<<" if key is _MergeKey else key
            doc.errors.append(
                ManifestError(
                    self.file,
                    *key_mark,
                    format_path((*frame.path, str(shown))),
                    f"duplicate key '{shown}' (first defined at line {key_lines[key]})",
                )
            )
        key_lines[key] = key_mark[0]
        if isinstance(key, str):
            frame.items[key] = value
            return
        sources = value if isinstance(value, list) else [value]
        if not all(isinstance(source, dict) for source in sources):
            raise _Refused(
                key_mark, "a merge key (<<) takes a mapping or a list of mappings", frame.path
            )
        for source in sources:  # keys already present (explicit or merged earlier) win
            for name, item in source.items():
                frame.items.setdefault(name, item)

    def _refuse_tag(self, event: Any, mark: Mark, frame: _Frame | None) -> NoReturn:
        shown = event.tag.replace(_CORE, "!!")
        raise _Refused(
            mark,
            f"YAML tag '{shown}' is not allowed (only plain values, lists and mappings)",
            _child_path(frame),
        )

    def _scalar(self, event: Any, mark: Mark) -> Any:
        text = event.value
        tag = event.tag
        if tag == "!" or (tag is None and not event.implicit[0]):
            return text  # quoted, or `! 12`: YAML's non-specific tag makes a string
        if tag is None:
            cached = _PLAIN_CACHE.get(text, _PLAIN_CACHE)
            if cached is not _PLAIN_CACHE:
                return cached
            tag = _RESOLVER.resolve(ScalarNode, text, (True, False))  # type: ignore[no-untyped-call]
        construct = _SCALARS.get(tag)
        if construct is None:  # str, merge and timestamps, which stay text
            value: Any = text
        else:
            try:
                value = construct(ScalarNode(tag, text))
            except (ValueError, yaml.YAMLError) as exc:
                shown = text if len(text) <= 60 else text[:57] + "..."
                raise _Refused(mark, f"'{shown}' is not a valid {tag[len(_CORE) :]}") from exc
        if event.tag is None and len(_PLAIN_CACHE) < _PLAIN_CACHE_SIZE:
            _PLAIN_CACHE[text] = value
        return value

    def _skip_document(self) -> None:
        for event in self.events:
            if isinstance(event, yaml.DocumentEndEvent):
                return


def _subject(partial: Any) -> tuple[str | None, str | None]:
    """The kind and name of a document refused half-way, when they were read before the problem."""
    if not isinstance(partial, dict):
        return None, None
    kind, metadata = partial.get("kind"), partial.get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    return (
        kind if isinstance(kind, str) else None,
        name if isinstance(name, str) else None,
    )


def _child_path(frame: _Frame | None) -> Path:
    """The path of the value that comes next inside `frame`."""
    if frame is None:
        return ()
    if frame.key_lines is None:
        return (*frame.path, len(frame.items))
    key = frame.key
    if not isinstance(key, str):
        return frame.path  # composing a key or a merge; neither has a path of its own
    return (*frame.path, key)


def _show_key(value: Any) -> str:
    """An alias used as a key, as the text it would have been written as."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def parse_text(text: str, file: str) -> tuple[list[SourceDocument], list[ManifestError]]:
    """Every document in `text`, and every problem found while reading it.

    Never raises for any input: text too large or not YAML's printable characters is refused
    with one error, before the parser sees it.
    """
    refused = _refuse_text(text, file)
    if refused is not None:
        return [], [refused]
    parser = _Parser(text)
    composer = _Composer(file, iter(parser.get_event, None))
    documents: list[SourceDocument] = []
    try:
        for document in composer.documents():
            if document.value is not None:
                documents.append(document)
    except yaml.MarkedYAMLError as exc:
        composer.errors.append(_invalid_yaml(exc, file))
    except yaml.YAMLError as exc:
        composer.errors.append(ManifestError(file, 1, 1, "", f"invalid YAML: {exc}"))
    finally:
        dispose = getattr(parser, "dispose", None)
        if dispose is not None:
            dispose()
    return documents, composer.errors


def _invalid_yaml(exc: yaml.MarkedYAMLError, file: str) -> ManifestError:
    """The parser's complaint, with where the construct it was reading began."""
    problem, context = exc.problem_mark, exc.context_mark
    mark = problem or context
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    if exc.problem and "nesting depth" in exc.problem:
        # libyaml has a depth limit of its own, met while it scans ahead of our check on events
        # (PyYAML 6.0.4's stops at 1,000 levels): one wording, whichever limit is met first.
        return ManifestError(file, line, column, "", _TOO_DEEP)
    text = f"invalid YAML: {exc.problem or exc.context or 'malformed YAML'}"
    began = (context.line + 1, context.column + 1) if context else None
    if exc.problem and exc.context and began is not None and began != (line, column):
        text += f" ({exc.context} that starts at line {began[0]}, column {began[1]}"
        text += "; check the indentation)" if "block" in exc.context else ")"
    return ManifestError(file, line, column, "", text)


def _refuse_text(text: str, file: str) -> ManifestError | None:
    """The one error for text that must not reach the parser, or None."""
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError as exc:  # lone surrogates: not text any UTF-8 file can hold
        return ManifestError(file, text.count("\n", 0, exc.start) + 1, 1, "", _NOT_UTF8)
    if size > MAX_FILE_BYTES:
        return ManifestError(file, 1, 1, "", _TOO_LARGE)
    found = _NOT_PRINTABLE.search(text)
    if found is None:
        return None
    line = text.count("\n", 0, found.start()) + 1
    column = found.start() - (text.rfind("\n", 0, found.start()) + 1) + 1
    char = found.group()
    what = "NUL bytes" if char == "\x00" else f"the control character U+{ord(char):04X}"
    return ManifestError(file, line, column, "", f"the file contains {what}: not a text file")


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
        return [], [ManifestError(shown, 1, 1, "", _TOO_LARGE)]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return [], [ManifestError(shown, line, 1, "", _NOT_UTF8)]
    return parse_text(text, shown)
