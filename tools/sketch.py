"""Section 1's picture: the article's one time step beside the fix unrolled over 100 steps.

    python tools/sketch.py            # writes the PNG attached to the notebook's markdown cell

`python tools/nbrun.py` calls it too, so that the picture the page shows is always the one this
code draws. It is a PNG attached to a markdown cell (`attachment:sketch.png`): nbviewer, GitHub,
JupyterLab and nbconvert show it without a kernel, and the notebook's code cells stay the lesson.
"""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

NAME = "sketch.png"  # the attachment's name in the markdown cell


def draw(steps=(1, 2, 3, 4, 5, None, 100), numbers=(1, 0, 1, 2)) -> plt.Figure:
    """The article's ONE step (left) beside the fix over 100 steps (right), shapes on arrows."""
    fig, ax = plt.subplots(figsize=(12, 4.4), dpi=72)
    fig.subplots_adjust(0, 0, 1, 1)
    ax.set(xlim=(-1.4, 15.4), ylim=(-3.3, 3.0), xticks=[], yticks=[], frame_on=False)

    def box(x, y, text, color="lavender", **kw):
        """A rounded box; color "none": plain text on white, no frame."""
        frame = dict(boxstyle="round", fc="white", ec="none") if color == "none" else None
        ax.text(
            x,
            y,
            text,
            ha="center",
            va="center",
            bbox=frame or dict(boxstyle="round", fc=color),
            **kw,
        )

    def arrow(x, y, dx, dy, label=""):
        ax.annotate("", (x + dx, y + dy), (x, y), arrowprops=dict(arrowstyle="->"))
        ax.text(x + dx / 2 + 0.12, y + dy / 2 + 0.25 * (dy == 0), label, va="center")

    # the article: the whole padded sequence is one input vector, read in ONE step from h_0 = 0
    box(1, 2.75, "the article: x.unsqueeze(1)", "none", weight="bold")
    box(1, 0, "nn.RNN\n100 → H")
    box(1, -2.3, "[1,0,1,2,0,…,0]", "white", family="monospace")
    arrow(1, -2.0, 0, 1.5, "input (B, 1, 100):\nONE time step")
    arrow(-1.2, 0, 1.65, 0, "h_0 = 0")
    box(-0.2, -0.85, "W_hh h_0 = 0:\nW_hh unused", "none")
    arrow(1, 0.45, 0, 1.1, "output (B, 1, H)")
    box(1, 1.9, "Linear → ŷ", "honeydew")
    # the fix: one number per time step, a state after every step
    box(9.1, 2.75, "the fix: x.unsqueeze(-1)", "none", weight="bold")
    arrow(2.95, 0, 1.0, 0, "h_0")
    for i, t in enumerate(steps):
        x, real = 4.3 + 1.6 * i, t is not None and t <= len(numbers)
        shade = "gold" if t == len(numbers) else "lavender" if real else "0.85"
        box(x, 0, f"h_{t}" if t else "…", shade)
        number = numbers[t - 1] if real else 0 if t else "…"
        box(x, -2.3, number, "white" if real else "0.85", family="monospace")
        arrow(x, -2.0, 0, 1.65)
        if t != steps[-1]:
            arrow(x + 0.35, 0, 0.9, 0, "W_hh" if i == 0 else "")
    box(9.1, -3.0, "input (B, 100, 1): one number per time step; padding in gray", "none")
    read = "output[i, lengths[i] - 1]: (B, H),\nafter the last number before the padding"
    arrow(9.1, 0.35, 0, 1.2, read)
    box(9.1, 1.9, "Linear → ŷ", "honeydew")
    arrow(13.9, 0.35, 0, 1.2)
    box(13.9, 1.9, "h_n (1, B, H):\nafter the padding", "white")
    box(6.0, 0.75, "output (B, 100, H): every h_t", "none")
    return fig


def png() -> bytes:
    """The picture as PNG bytes, the same on every machine with the pinned matplotlib."""
    buffer = io.BytesIO()
    fig = draw()
    fig.savefig(buffer, format="png", metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()


if __name__ == "__main__":
    import nbrun

    nbrun.attach_sketch()
    print(f"attached {NAME} to {nbrun.NOTEBOOK.name}")
