"""Keyword suggestions written into a rubric's YAML text as small edits in place.

A teacher's rubric file holds comments, a key order and line breaks of their own that
``dump_rubric`` would lose. Here each keyword change a suggestion makes (an alternative added to
or removed from a group, a group added or removed) is made where it belongs in the text, found
from the positions PyYAML's composer gives its nodes; every other byte is kept. The result is
parsed back and must equal the rubric with the suggestions applied in memory
(``suggestions.apply_suggestions``); anything this cannot do safely raises
``TextEditError``, so that the caller writes the whole rubric instead. Text in, text out: no
files here (``loader.write_suggestions`` writes them).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

import yaml

from .errors import EssaycheckError, RubricError
from .rubric import Rubric, compose_rubric, parse_rubric
from .suggestions import Suggestion, SuggestionError, apply_suggestion

#: a flow sequence longer than this on one line after an insertion goes on to the next line
#: (``dump_rubric``'s width)
WIDTH = 96
_Groups = tuple[tuple[str, ...], ...]
_REST_OF_LINE = re.compile(r"[ \t]*(?:#[^\r\n]*)?")
_DASH = re.compile(r"[ \t]*-[ \t]+")
_DASHES = re.compile(r"[ \t]*(?:-[ \t]+)+")
_FLOW_GAP = re.compile(r"\s*,\s*")
_NEXT_ITEM = re.compile(r"[ \t]*(?:#[^\r\n]*)?\r?\n[ \t]*-[ \t]+")


class TextEditError(EssaycheckError):
    """The suggestions cannot be written into this text as small edits; the message says why."""

    code = "rubric_text_edit"


def apply_suggestions_to_text(text: str, rubric: Rubric, suggestions: Iterable[Suggestion],
                              expected: Rubric, source: str = "<rubric>") -> str:
    """``text`` (the YAML that parses to ``rubric``) with the suggestions' keyword changes made
    in place, every other byte unchanged; ``TextEditError`` unless it parses to ``expected``
    (the suggestions applied in memory)."""
    try:
        if parse_rubric(text, source) != rubric:
            raise TextEditError("the file no longer holds the rubric the suggestions were "
                                "made for")
    except RubricError as exc:
        raise TextEditError(f"the file cannot be read: {exc}") from None
    newline = "\r\n" if "\r\n" in text else "\n"
    current = rubric
    for suggestion in suggestions:
        if suggestion.question_id != rubric.id:
            continue
        try:
            after = apply_suggestion(current, suggestion)
        except SuggestionError:  # skipped, as apply_suggestions skips it
            continue
        point_id = suggestion.point_id
        for operation in _operations(current.point(point_id).keywords,
                                     after.point(point_id).keywords):
            text = _edit(text, point_id, operation, newline)
        current = after
    try:
        edited = parse_rubric(text, source)
    except RubricError as exc:
        raise TextEditError(f"the edited text would not be a valid rubric: {exc}") from None
    if edited != expected:
        raise TextEditError("the edited text does not read back as the rubric with the "
                            "suggestions applied")
    return text


def _operations(old: _Groups, new: _Groups) -> list[tuple[Any, ...]]:
    """The edits that turn one point's keyword groups into the other's, as a suggestion makes
    them: an alternative appended to a group or removed from it (every spelling of it), a group
    appended with one alternative, or a group removed (with it the last: the key)."""
    if old == new:
        return []
    if len(new) == len(old) + 1 and new[:-1] == old and len(new[-1]) == 1:
        return [("add_group", new[-1][0])]
    if len(new) == len(old):
        differ = [g for g in range(len(old)) if old[g] != new[g]]
        if len(differ) == 1:
            g = differ[0]
            before, after = old[g], new[g]
            if len(after) == len(before) + 1 and after[:-1] == before:
                return [("add_alt", g, after[-1], before)]
            removed = _removed(before, after)
            if removed:
                return [("remove_alt", g, k) for k in reversed(removed)]
    if len(new) == len(old) - 1:
        for g in range(len(old)):
            if old[:g] + old[g + 1:] == new:
                return [("remove_group", g)] if new else [("remove_keywords",)]
    raise TextEditError("the keyword change is not one a suggestion makes")


def _removed(before: tuple[str, ...], after: tuple[str, ...]) -> list[int] | None:
    """The indices of ``before`` left out of ``after``, if ``after`` is ``before`` with some
    alternatives left out."""
    removed, j = [], 0
    for k, alternative in enumerate(before):
        if j < len(after) and after[j] == alternative:
            j += 1
        else:
            removed.append(k)
    return removed if j == len(after) and removed else None


# -- finding the nodes -----------------------------------------------------------------------
def _value(mapping: yaml.Node, key: str) -> tuple[yaml.Node, yaml.Node] | None:
    """The key node and value node of ``key`` in a mapping node, or None."""
    for key_node, value_node in mapping.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
            return key_node, value_node
    return None


def _point_node(text: str, point_id: str) -> yaml.MappingNode:
    """The mapping node of the point with this id."""
    try:
        root = compose_rubric(text)
    except yaml.YAMLError as exc:
        raise TextEditError(f"the YAML cannot be read: {exc}") from None
    found = _value(root, "points") if isinstance(root, yaml.MappingNode) else None
    if found is None or not isinstance(found[1], yaml.SequenceNode):
        raise TextEditError("the file has no list of points")
    for node in found[1].value:
        if isinstance(node, yaml.MappingNode):
            ids = _value(node, "id")
            if ids is not None and isinstance(ids[1], yaml.ScalarNode) \
                    and ids[1].value == point_id:
                return node
    raise TextEditError(f"no point {point_id!r} found in the text")


def _block(node: yaml.Node) -> bool:
    return isinstance(node, yaml.CollectionNode) and not node.flow_style


def _content_end(node: yaml.Node) -> yaml.Mark:
    """Where a node's own text ends: a block collection's end mark lies past any comments
    and blank lines after it, so this is the end of its last item instead."""
    while _block(node) and node.value:
        last = node.value[-1]
        node = last[1] if isinstance(node, yaml.MappingNode) else last
    return node.end_mark


def _line_end(text: str, index: int) -> int:
    """The index of the line break ending the line ``index`` is on (``len(text)`` on the last
    line); ``TextEditError`` unless only spaces or a comment lie between."""
    end = text.find("\n", index)
    end = len(text) if end < 0 else end - (text[end - 1:end] == "\r")
    if not _REST_OF_LINE.fullmatch(text, index, end):
        raise TextEditError("more than a comment follows the value on its line")
    return end


def _insert_line_after(text: str, node: yaml.Node, line: str, newline: str) -> str:
    """``line`` inserted as a line of its own after the line where ``node``'s text ends."""
    end = _content_end(node)
    if end.column == 0 and end.index > 0 and text[end.index - 1] == "\n":
        # a block scalar ('|', '>') ends after its line break: the next line starts here
        return text[:end.index] + line + newline + text[end.index:]
    at = _line_end(text, end.index)
    return text[:at] + newline + line + text[at:]


# -- the edits ------------------------------------------------------------------------------
def _edit(text: str, point_id: str, operation: tuple[Any, ...], newline: str) -> str:
    """``text`` with one keyword edit made to the point ``point_id``."""
    point = _point_node(text, point_id)
    if not _block(point):
        raise TextEditError(f"point {point_id!r} is written as a flow mapping ({{...}})")
    keywords = _value(point, "keywords")
    kind = operation[0]
    if kind == "add_group" and keywords is None:
        return _add_keywords(text, point, operation[1], newline)
    if keywords is None or not isinstance(keywords[1], yaml.SequenceNode):
        raise TextEditError(f"point {point_id!r}'s keywords are not a list")
    key_node, groups = keywords
    if kind == "remove_keywords":
        return _remove_lines(text, key_node, keywords[1], after_dash=False)
    if kind == "add_group":
        return _append(text, groups, "[" + _scalar(operation[1], flow=True) + "]", newline)
    group = groups.value[operation[1]]
    if kind == "remove_group":
        return _remove_item(text, groups, operation[1])
    if kind == "add_alt" and isinstance(group, yaml.ScalarNode):
        return _listed(text, group, (*operation[3], operation[2]))
    if not isinstance(group, yaml.SequenceNode):
        raise TextEditError("the keyword group is neither a word nor a list")
    if kind == "add_alt":
        return _append(text, group, _scalar(operation[2], flow=bool(group.flow_style)),
                       newline)
    return _remove_item(text, group, operation[2])


def _append(text: str, sequence: yaml.SequenceNode, item: str, newline: str) -> str:
    """``item`` (YAML text) appended to a sequence, in the sequence's own style."""
    items = sequence.value
    if sequence.flow_style:
        if not items:
            close = sequence.end_mark.index - 1
            if text[close:close + 1] != "]":
                raise TextEditError("an empty flow sequence without its ']'")
            return text[:close] + item + text[close:]
        at = items[-1].end_mark.index
        start = text.rfind("\n", 0, at) + 1
        end = text.find("\n", at)
        length = (len(text) if end < 0 else end) - start
        piece = f", {item}"
        if length + len(piece) > WIDTH:
            # too long for the line: on a line of its own, under the first item
            piece = "," + newline + " " * items[0].start_mark.column + item
        return text[:at] + piece + text[at:]
    last = items[-1]
    dash = sequence.start_mark
    start = text.rfind("\n", 0, last.start_mark.index) + 1
    before = text[start:last.start_mark.index]
    # the last item follows its dash, on its own line or (the first) on its parent's ("- - a")
    if text[dash.index:dash.index + 1] != "-" or not _DASHES.fullmatch(before):
        raise TextEditError("a block sequence laid out in an unusual way")
    gap = max(1, len(before) - before.rindex("-") - 1)
    return _insert_line_after(text, last, " " * dash.column + "-" + " " * gap + item, newline)


def _listed(text: str, word: yaml.ScalarNode, alternatives: tuple[str, ...]) -> str:
    """A keyword group written as one word replaced, where it stands, by a flow list of
    ``alternatives`` (its word first)."""
    if word.start_mark.line != word.end_mark.line or word.style in ("|", ">"):
        raise TextEditError("a keyword group written over several lines")
    listed = "[" + ", ".join(_scalar(alt, flow=True) for alt in alternatives) + "]"
    return text[:word.start_mark.index] + listed + text[word.end_mark.index:]


def _on_dash_line(text: str, item: yaml.Node) -> bool:
    """Whether a block sequence's item starts on its dash's line, with only indentation
    before the dash."""
    start = text.rfind("\n", 0, item.start_mark.index) + 1
    return bool(_DASH.fullmatch(text, start, item.start_mark.index))


def _remove_item(text: str, sequence: yaml.SequenceNode, index: int) -> str:
    """Item ``index`` of a sequence of two or more items removed: in a flow sequence with the
    comma between it and its neighbour, in a block sequence with its line(s)."""
    items = sequence.value
    if len(items) < 2:
        raise TextEditError("the sequence would be left empty")
    item = items[index]
    if sequence.flow_style:
        if index > 0:
            start, end = items[index - 1].end_mark.index, item.end_mark.index
            gap = (start, item.start_mark.index)
        else:
            start, end = item.start_mark.index, items[1].start_mark.index
            gap = (item.end_mark.index, end)
        if not _FLOW_GAP.fullmatch(text, *gap):
            raise TextEditError("a comment or other text between a flow sequence's items")
        return text[:start] + text[end:]
    if _on_dash_line(text, item):
        return _remove_lines(text, item, item, after_dash=True)
    following = items[1]
    if index == 0 and isinstance(following, yaml.ScalarNode) \
            and following.start_mark.column == item.start_mark.column \
            and _NEXT_ITEM.fullmatch(text, _content_end(item).index, following.start_mark.index):
        # the first item of a sequence that starts on its parent's dash line ("- - a"): the
        # next item moves up into its place
        return text[:item.start_mark.index] + text[following.start_mark.index:]
    raise TextEditError("a block sequence laid out in an unusual way")


def _remove_lines(text: str, first: yaml.Node, last: yaml.Node, after_dash: bool) -> str:
    """The whole lines from ``first``'s start to the end of ``last``'s text removed (their
    line break too); ``first`` must start its line, after indentation (and, ``after_dash``, a
    sequence's dash)."""
    start = text.rfind("\n", 0, first.start_mark.index) + 1
    before = text[start:first.start_mark.index]
    if before.strip() and not (after_dash and _DASH.fullmatch(before)):
        raise TextEditError("the value to remove shares its line with another")
    end = _content_end(last)
    if end.column == 0 and end.index > 0 and text[end.index - 1] == "\n":
        stop = end.index
    else:
        stop = _line_end(text, end.index)
        stop += 2 if text.startswith("\r\n", stop) else 1 if text.startswith("\n", stop) else 0
    return text[:start] + text[stop:]


def _add_keywords(text: str, point: yaml.MappingNode, term: str, newline: str) -> str:
    """A ``keywords:`` key with one group holding ``term``, after the point's text (or its
    last field)."""
    found = _value(point, "text")
    key, value = found if found is not None else point.value[-1]
    column = key.start_mark.column
    lines = (" " * column + "keywords:" + newline + " " * (column + 2) + "- ["
             + _scalar(term, flow=True) + "]")
    return _insert_line_after(text, value, lines, newline)


def _scalar(term: str, flow: bool) -> str:
    """``term`` as YAML that reads back as exactly this string, plain if it can be."""
    quoted = "'" + term.replace("'", "''") + "'"
    for candidate in (term, quoted, json.dumps(term, ensure_ascii=False)):
        if "\n" in candidate or "\r" in candidate:
            continue
        probe = f"[{candidate}]" if flow else f"- {candidate}"
        try:
            if yaml.safe_load(probe) == [term]:
                return candidate
        except yaml.YAMLError:
            continue
    raise TextEditError(f"{term!r} cannot be written as a YAML scalar on one line")
