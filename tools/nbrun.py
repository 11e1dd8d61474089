"""Run rnn_sum.ipynb headless in a real Jupyter kernel.

One place for what the tests, the benchmark and the regeneration of the committed notebook
all need: parameters injected after the cell tagged `parameters` (as papermill does), a kernel
that can be asked questions after the notebook ran, and the clean-up of the live widget's output.

    python tools/nbrun.py            # Restart & Run All with the defaults, written in place
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import platform
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "rnn_sum.ipynb"
README_FIGURE = (
    ROOT / "docs" / "trained_to_the_end.png"
)  # the README's figure, from the cell tagged so
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def load(
    params: dict | None = None, path: Path = NOTEBOOK, script: bool = True
) -> nbformat.NotebookNode:
    """The notebook, with a cell that overrides `params` right after the `parameters` cell. With
    script=False the self-contained script (the cell tagged `script`, which trains with its own
    fixed settings whatever the parameters) is left out of the run: tests/test_script.py runs it
    alone instead."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:  # start from a clean slate, as Restart & Run All does
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
            if not script and "script" in cell.metadata.get("tags", []):
                cell.source = "# the script to copy: tests/test_script.py runs it alone"
    if params:
        inject(nb, "\n".join(f"{name} = {value!r}" for name, value in params.items()))
    return nb


def inject(nb: nbformat.NotebookNode, source: str) -> None:
    """Insert a code cell right after the one cell tagged `parameters` (papermill's place)."""
    tagged = [i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])]
    if len(tagged) != 1:
        raise ValueError(f"expected one cell tagged 'parameters', found {len(tagged)}")
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": ["injected-parameters"]})
    nb.cells.insert(tagged[0] + 1, cell)


# What the benchmark and the tests ask a kernel that ran the notebook: a row per trained run
SUMMARY = (
    "[dict(model=k[0], seq_len=k[1], values=list(k[2]), steps=k[3], seed=k[4], lr=k[5], "
    "mse=r['mse'], exact=r['exact'], seconds=r['seconds'], weights=r['weights'], "
    "passed=passed(r['log']), climb=climb(r['log']) if r['log'] else 0.0, "
    "verdict=verdict(r['log'], k[1], k[2]) if r['log'] else 'built') "
    "for k, r in results.items()]"
)
BEYOND = "[dict(model=m, test_len=k * SEQ_LEN, exact=e) for (m, k), e in at_k.items()]"


def client(nb: nbformat.NotebookNode, timeout: int = 1200) -> NotebookClient:
    return NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        record_timing=False,  # no timestamps in cell metadata
        store_widget_state=False,  # no widget state in notebook metadata
        resources={"metadata": {"path": str(ROOT)}},
    )


def merge_streams(nb: nbformat.NotebookNode) -> None:
    """Join consecutive stdout (or stderr) chunks, so that re-runs diff only where text changed."""
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        merged = []
        for out in cell.outputs:
            last = merged[-1] if merged else None
            if out.output_type == "stream" and last and last.get("name") == out.name:
                last.text += out.text
            else:
                merged.append(out)
        cell.outputs = merged


def drop_widget_views(nb: nbformat.NotebookNode) -> None:
    """Remove widget views: they only work in a live kernel and show stale text elsewhere."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs if WIDGET_VIEW not in o.get("data", {})]


class Session:
    """Execute a notebook top to bottom, then keep its kernel open for questions."""

    def __init__(self, nb: nbformat.NotebookNode, timeout: int = 1200):
        self.nb = nb
        self.client = client(nb, timeout)
        self._context = None

    def __enter__(self) -> Session:
        self._context = self.client.setup_kernel()
        self._context.__enter__()
        for index, cell in enumerate(self.nb.cells):
            self.client.execute_cell(cell, index)
        return self

    def __exit__(self, *exc) -> None:
        self._context.__exit__(*exc)

    def run(self, code: str) -> nbformat.NotebookNode:
        """Execute code in the kernel; return the executed cell (raises on an error)."""
        cell = nbformat.v4.new_code_cell(code)
        self.nb.cells.append(cell)  # nbclient writes the result back into the notebook
        try:
            self.client.execute_cell(cell, len(self.nb.cells) - 1)
        finally:
            self.nb.cells.pop()
        return cell

    def eval(self, expression: str):
        """The value of a JSON-serialisable expression, computed in the kernel."""
        cell = self.run(f"import json as _json\nprint(_json.dumps({expression}))")
        text = "".join(o.text for o in cell.outputs if o.get("name") == "stdout")
        return json.loads(text.strip().splitlines()[-1])


def execute(nb: nbformat.NotebookNode, timeout: int = 1200) -> nbformat.NotebookNode:
    """Run every cell in a fresh kernel (raises CellExecutionError on the first error)."""
    client(nb, timeout).execute()
    drop_widget_views(nb)
    return nb


def code_hashes(nb: nbformat.NotebookNode) -> list[str]:
    """A short sha256 of each code cell's source, in order: what the outputs were produced from."""
    return [
        hashlib.sha256(c.source.encode("utf-8")).hexdigest()[:16]
        for c in nb.cells
        if c.cell_type == "code"
    ]


def stale(nb: nbformat.NotebookNode) -> str:
    """Why the notebook's outputs may not come from its code ('' if they do): a code cell
    edited, added or removed since the hashes recorded by the last regeneration."""
    recorded = nb.metadata.get("rnn_sum", {}).get("code_sha256")
    if recorded is None:
        return "no code hashes recorded"
    now = code_hashes(nb)
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    changed = [code[k] for k, (a, b) in enumerate(zip(recorded, now, strict=False)) if a != b]
    if changed:
        return f"cell {changed[0]} (a code cell, counting every cell from 0) was edited"
    if len(recorded) != len(now):
        return f"{len(recorded)} code cells when regenerated, {len(now)} now"
    return ""


def platform_id() -> dict:
    """Where the committed numbers were produced, for the record: the torch build, the device,
    and the instruction sets that torch's own CPU kernels, MKL and oneDNN use (each may be
    capped by a variable). Trained digits differ from one platform to the next; no test
    compares them."""
    import torch  # here, so that the tools that never ask for it do not pay for the import

    return {
        "torch": torch.__version__,
        "device": "cuda" if torch.cuda.is_available() else "cpu",
        "machine": platform.machine(),
        "torch_cpu_isa": torch.backends.cpu.get_cpu_capability(),
        "mkl_isa": os.environ.get("MKL_ENABLE_INSTRUCTIONS", "auto"),
        "onednn_isa": os.environ.get(
            "ONEDNN_MAX_CPU_ISA", os.environ.get("DNNL_MAX_CPU_ISA", "auto")
        ),
    }


def readme_figure(nb: nbformat.NotebookNode) -> bytes:
    """The PNG that the cell tagged `readme-figure` drew: the README shows it."""
    cell = next(c for c in nb.cells if "readme-figure" in c.metadata.get("tags", []))
    image = next(o.data["image/png"] for o in cell.outputs if "image/png" in o.get("data", {}))
    return base64.b64decode(image)


def attach_sketch(nb: nbformat.NotebookNode | None = None) -> nbformat.NotebookNode:
    """Attach section 1's picture, drawn by tools/sketch.py, to the markdown cell that shows it
    (written in place when no notebook is given)."""
    import sketch  # here: matplotlib only when the picture is drawn

    target = nb if nb is not None else nbformat.read(NOTEBOOK, as_version=4)
    cell = next(c for c in target.cells if f"(attachment:{sketch.NAME})" in c.source)
    cell.attachments = {sketch.NAME: {"image/png": base64.b64encode(sketch.png()).decode()}}
    if nb is None:
        nbformat.write(target, NOTEBOOK)
    return target


def regenerate(path: Path = NOTEBOOK) -> None:
    """A clean Restart & Run All with the default parameters, written back in place, with a
    hash of every code cell (the provenance that the tests check) and the platform that
    produced its numbers recorded in the notebook's metadata; the README's figure is written
    from its outputs."""
    nb = execute(attach_sketch(load(path=path)))
    merge_streams(nb)
    nb.metadata.pop("widgets", None)
    nb.metadata["rnn_sum"] = {"code_sha256": code_hashes(nb), "platform": platform_id()}
    for index, cell in enumerate(nb.cells):  # stable ids, as nbstripout numbers them
        cell.id = str(index)
    nb.metadata["language_info"] = {"name": "python"}
    nbformat.write(nb, path)
    if path == NOTEBOOK:
        README_FIGURE.parent.mkdir(exist_ok=True)
        README_FIGURE.write_bytes(readme_figure(nb))


if __name__ == "__main__":
    regenerate(Path(sys.argv[1]) if len(sys.argv) > 1 else NOTEBOOK)
