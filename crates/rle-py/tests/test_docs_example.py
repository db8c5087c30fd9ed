"""docs/PYTHON.md's model-free example runs and prints what the page says."""

import contextlib
import io
import re

from conftest import ROOT


def test_the_documented_example_runs_and_prints_what_the_docs_say():
    page = (ROOT / "docs" / "PYTHON.md").read_text()
    m = re.search(r"## Try it without a model.*?```python\n(.*?)```\n\nprints `(.*?)`", page, re.S)
    assert m, "the example section of docs/PYTHON.md moved"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(m.group(1), "docs/PYTHON.md", "exec"), {})
    assert out.getvalue().strip() == m.group(2)
