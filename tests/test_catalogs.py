"""Every message a chat can see is in the template, and each catalog translates it faithfully.

A translation that drops a `{placeholder}` breaks `.format()` at run time, and one that
loses a tag makes Telegram refuse the whole message; both only show up in that language,
so they are caught here, for every language with a catalog.
"""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from bot.i18n import DEFAULT_LANGUAGE, DOMAIN, LANGUAGES, catalog_path

ROOT = Path(__file__).resolve().parent.parent
# What `make messages` extracts from, with the same mapping and translator comments.
SOURCE_DIRS = ("bot", "handlers", "jobs")
COMMENT_TAG = "Translators:"
TEMPLATE = ROOT / "bot" / "locales" / f"{DOMAIN}.pot"
_TAG = r"<(/?)([a-zA-Z][\w-]*)[^<>]*?(/?)>"


def code_messages() -> Catalog:
    """The messages the code marks for translation, as `pybabel extract` finds them."""
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    catalog = Catalog(domain=DOMAIN)
    for directory in SOURCE_DIRS:
        for filename, line, message, comments, context in extract_from_dir(
            ROOT / directory,
            method_map,
            options_map,
            keywords=DEFAULT_KEYWORDS,
            comment_tags=(COMMENT_TAG,),
        ):
            catalog.add(message, None, [(filename, line)], auto_comments=comments, context=context)
    return catalog


def placeholders(text: str) -> set[str]:
    """The `{names}` a message formats in."""
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


Tree = tuple[tuple[str, "Tree"], ...]


def tag_tree(text: str) -> Tree | None:
    """The message's HTML tags as a tree, siblings in any order; None if they do not nest."""
    stack: list[tuple[str, list[tuple[str, Tree]]]] = [("", [])]
    for closing, name, self_closing in re.findall(_TAG, text):
        name = name.lower()
        if self_closing:
            stack[-1][1].append((name, ()))
        elif not closing:
            stack.append((name, []))
        else:
            if len(stack) == 1 or stack[-1][0] != name:
                return None
            opened, children = stack.pop()
            stack[-1][1].append((opened, tuple(sorted(children, key=repr))))
    if len(stack) != 1:
        return None
    return tuple(sorted(stack[0][1], key=repr))


def _texts(value: str | tuple[str, ...] | list[str] | None) -> tuple[str, ...]:
    """A message's id or translation as its forms: one, or singular and plurals."""
    return tuple(value) if isinstance(value, (tuple, list)) else (value or "",)


def _label(message: Message) -> str:
    context = f" [{message.context}]" if message.context else ""
    return f"{_texts(message.id)[0]!r}{context}"


def translation_problems(code: Catalog, translated: Catalog) -> list[str]:
    """What is wrong with a language's catalog for the messages the code uses."""
    problems: list[str] = []
    for message in code:
        if not message.id:
            continue
        sources = _texts(message.id)
        found = translated.get(sources[0], message.context)
        label = _label(message)
        if found is None:
            problems.append(f"{label}: missing")
            continue
        if found.fuzzy:
            problems.append(f"{label}: fuzzy")
            continue
        forms = _texts(found.string)
        if message.pluralizable and (len(forms) != translated.num_plurals or not all(forms)):
            # read_po fills the forms a catalog lacks with "": a missing form reads as empty.
            given = sum(1 for form in forms if form)
            problems.append(
                f"{label}: {given} plural forms, the language has {translated.num_plurals}"
            )
            continue
        if not all(forms):
            problems.append(f"{label}: untranslated")
            continue
        # A plural form may leave out the number ("one story"), never add or rename a name.
        allowed = set().union(*(placeholders(text) for text in sources))
        needed = set.intersection(*(placeholders(text) for text in sources))
        for index, form in enumerate(forms):
            names = placeholders(form)
            if not needed <= names <= allowed:
                problems.append(
                    f"{label}: form {index} has placeholders {sorted(names)}, "
                    f"the message has {sorted(allowed)}"
                )
            if tag_tree(form) is None or tag_tree(form) not in {tag_tree(s) for s in sources}:
                problems.append(f"{label}: form {index} has other HTML tags than the message")
    return problems


def _key(message: Message) -> tuple[object, ...]:
    # The template wraps long comments; what counts is their words.
    return (message.id, message.context, " ".join(" ".join(message.auto_comments).split()))


def test_template_is_up_to_date() -> None:
    """The committed template holds exactly what the code marks: `make messages` was run."""
    with TEMPLATE.open("rb") as source:
        template = read_po(source, domain=DOMAIN)
    in_code = {_key(m) for m in code_messages() if m.id}
    in_template = {_key(m) for m in template if m.id}
    stale = [f"new or changed: {k[0]!r}" for k in in_code - in_template]
    stale += [f"gone: {k[0]!r}" for k in in_template - in_code]
    assert not stale, "Run `make messages`; the template is out of date:\n" + "\n".join(stale)


def test_every_message_has_a_whole_template_entry() -> None:
    """Every message is whole: named placeholders, balanced tags, no fragment glued to others."""
    problems = []
    for message in code_messages():
        for text in _texts(message.id):
            if not text:
                continue
            if "" in placeholders(text) or any(name.isdigit() for name in placeholders(text)):
                problems.append(f"{text!r}: a placeholder without a name")
            if tag_tree(text) is None:
                problems.append(f"{text!r}: unbalanced HTML tags")
            if text != text.strip():
                problems.append(f"{text!r}: spaces at an end, the mark of a sentence's fragment")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("language", [code for code in LANGUAGES if code != DEFAULT_LANGUAGE])
def test_catalog_translates_every_message(language: str) -> None:
    """Each language's catalog has every message, not fuzzy, with its placeholders and tags."""
    path = catalog_path(language)
    if not path.is_file():
        pytest.skip(f"no {language} catalog yet")
    with path.open("rb") as source:
        translated = read_po(source, locale=language, domain=DOMAIN)
    problems = translation_problems(code_messages(), translated)
    assert not problems, f"{language} catalog {path}:\n" + "\n".join(problems)


def _catalog(tmp_path: Path, language: str, entries: str) -> Catalog:
    path = tmp_path / f"{language}.po"
    path.write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n'
        '"Plural-Forms: nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 '
        '&& (n%100<10 || n%100>=20) ? 1 : 2);\\n"\n\n' + entries,
        encoding="utf-8",
    )
    with path.open("rb") as source:
        return read_po(source, locale=language, domain=DOMAIN)


def _code(*messages: str | tuple[str, str]) -> Catalog:
    catalog = Catalog(domain=DOMAIN)
    for message in messages:
        catalog.add(message)
    return catalog


CODE = _code(
    "Removed feed {id}: {url}",
    "<b>Stats</b>",
    "Digests stopped.",
    "Saved.",
    "This button has expired.",
    ("+{count} source", "+{count} sources"),
    (
        "<i>The first story matches topics you follow.</i>",
        "<i>The first {count} stories match topics you follow.</i>",
    ),
)


def test_checker_passes_a_faithful_catalog(tmp_path: Path) -> None:
    """A complete translation, numbers left out of one plural form, has no problem."""
    translated = _catalog(
        tmp_path,
        "ru",
        """
msgid "Removed feed {id}: {url}"
msgstr "Лента {id} удалена: {url}"

msgid "<b>Stats</b>"
msgstr "<b>Статистика</b>"

msgid "Digests stopped."
msgstr "Дайджесты остановлены."

msgid "Saved."
msgstr "Сохранено."

msgid "This button has expired."
msgstr "Эта кнопка устарела."

msgid "+{count} source"
msgid_plural "+{count} sources"
msgstr[0] "+{count} источник"
msgstr[1] "+{count} источника"
msgstr[2] "+{count} источников"

msgid "<i>The first story matches topics you follow.</i>"
msgid_plural "<i>The first {count} stories match topics you follow.</i>"
msgstr[0] "<i>Первая {count} новость совпадает с вашими темами.</i>"
msgstr[1] "<i>Первые {count} новости совпадают с вашими темами.</i>"
msgstr[2] "<i>Первые {count} новостей совпадают с вашими темами.</i>"
""",
    )
    assert translation_problems(CODE, translated) == []


def test_checker_names_every_broken_entry(tmp_path: Path) -> None:
    """A catalog broken each way a translator can break it fails, naming each message."""
    translated = _catalog(
        tmp_path,
        "ru",
        """
msgid "Removed feed {id}: {url}"
msgstr "Лента {id} удалена: {adres}"

msgid "<b>Stats</b>"
msgstr "<b>Статистика</i>"

#, fuzzy
msgid "Digests stopped."
msgstr "Дайджесты остановлены."

msgid "Saved."
msgstr ""

msgid "+{count} source"
msgid_plural "+{count} sources"
msgstr[0] "+{count} источник"
msgstr[1] "+{count} источников"

msgid "<i>The first story matches topics you follow.</i>"
msgid_plural "<i>The first {count} stories match topics you follow.</i>"
msgstr[0] "<i>Первая {count} новость совпадает с вашими темами.</i>"
msgstr[1] "<b>Первые {count} новости совпадают с вашими темами.</b>"
msgstr[2] "<i>Первые {n} новостей совпадают с вашими темами.</i>"
""",
    )
    problems = translation_problems(CODE, translated)
    assert problems == [
        "'Removed feed {id}: {url}': form 0 has placeholders ['adres', 'id'], "
        "the message has ['id', 'url']",
        "'<b>Stats</b>': form 0 has other HTML tags than the message",
        "'Digests stopped.': fuzzy",
        "'Saved.': untranslated",
        "'This button has expired.': missing",
        "'+{count} source': 2 plural forms, the language has 3",
        "'<i>The first story matches topics you follow.</i>': form 1 has other HTML tags "
        "than the message",
        "'<i>The first story matches topics you follow.</i>': form 2 has placeholders ['n'], "
        "the message has ['count']",
    ]
