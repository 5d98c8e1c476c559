"""Which file a Document came from, given its ``path``.

Readers name a part of a file by adding a fragment to the file's path: ``answers.csv#row=3`` for a
survey row, ``posts.txt#post-2`` for one blog post. A file name may itself contain ``#`` (``care #1
notes.txt``, ``a#b#c.csv``), so only a trailing fragment of one of those two shapes is taken off.
"""

from __future__ import annotations

import re

_READER_FRAGMENT = re.compile(r"#(?:row=\d+|post-\d+)\Z")


def source_file(path: str | None) -> str:
    """The file part of a Document path: the path less a reader's trailing ``#row=N``/``#post-N``."""
    return _READER_FRAGMENT.sub("", path or "")
