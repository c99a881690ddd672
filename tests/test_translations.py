"""The German catalogue is current (every message in the code) and complete (every one translated)."""

import re
from pathlib import Path

from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def test_german_catalogue_is_current_and_complete(tmp_path):
    template = tmp_path / "messages.pot"
    CommandLineInterface().run(
        [
            "pybabel",
            "-q",
            "extract",
            "-F",
            str(ROOT / "babel.cfg"),
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            "-o",
            str(template),
            "--no-location",
            str(ROOT),
        ]
    )
    with template.open("rb") as handle:
        wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(handle) if m.id}
    with (ROOT / "lms/translations/de/LC_MESSAGES/messages.po").open("rb") as handle:
        german = {(m.id if isinstance(m.id, str) else m.id[0]): m for m in read_po(handle) if m.id}
    missing = sorted(wanted - german.keys())
    assert not missing, f"not in the German catalogue (run make update-translations): {missing[:10]}"
    untranslated = sorted(i for i in wanted if not all(_strings(german[i])) or german[i].fuzzy)
    assert not untranslated, f"untranslated or fuzzy: {untranslated[:10]}"
    # A translation uses no placeholder the original lacks; a singular form may leave the number out.
    broken = sorted(
        i
        for i in wanted
        if any(
            not set(PLACEHOLDER.findall(s)) <= set(PLACEHOLDER.findall(i))
            if german[i].pluralizable
            else set(PLACEHOLDER.findall(s)) != set(PLACEHOLDER.findall(i))
            for s in _strings(german[i])[:1]
        )
    )
    assert not broken, f"placeholders differ: {broken[:10]}"


def _strings(message):
    return list(message.string) if isinstance(message.string, (tuple, list)) else [message.string]
