"""docs/SECURITY.md lists every cap with its value and file: each
`Sources/...`: `code` cell of its tables must still appear in that file
(whitespace-insensitive), so the document cannot drift from the code."""
import os
import re

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOC = os.path.join(REPO, "docs", "SECURITY.md")
CELL = re.compile(r"`(Sources/[^`]+\.swift)`: `([^`]+)`")


def squash(s):
    return re.sub(r"\s+", " ", s)


def test_every_documented_cap_is_in_its_file():
    with open(DOC) as f:
        cells = CELL.findall(f.read())
    assert len(cells) >= 40, "the caps table of docs/SECURITY.md looks truncated"
    missing = []
    for path, code in cells:
        full = os.path.join(REPO, path)
        if not os.path.exists(full):
            missing.append(f"{path} does not exist")
            continue
        with open(full) as f:
            if squash(code) not in squash(f.read()):
                missing.append(f"{path}: `{code}` not found")
    assert not missing, "docs/SECURITY.md is out of date:\n" + "\n".join(missing)
