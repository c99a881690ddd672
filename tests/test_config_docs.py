"""Every environment variable the configuration reads is documented in the README."""

import re

from lms.config import PROJECT_ROOT


def test_every_environment_variable_is_in_the_readme():
    source = (PROJECT_ROOT / "lms" / "config.py").read_text(encoding="utf-8")
    read = set(re.findall(r'(?:os\.environ\.get|_int|_bool)\(\s*"([A-Z][A-Z0-9_]+)"', source))
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert len(read) > 10
    assert sorted(name for name in read if f"`{name}`" not in readme) == []
