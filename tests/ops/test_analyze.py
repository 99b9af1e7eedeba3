import numpy as np
from helpers import api_run_env, recipe_copy, run_dj
from matplotlib.colors import to_rgb
from PIL import Image

BAR = [round(255 * v) for v in to_rgb("C0")]  # the colour pandas' hist (Data-Juicer's) fills bars with


def assert_histogram(path) -> None:
    """The PNG is a drawn chart, not a blank canvas: background, axes and text, and bars standing on one
    baseline that fill a visible share of the image."""
    with Image.open(path) as im:
        assert im.format == "PNG"
        pixels = np.asarray(im.convert("RGB"))
    colours, counts = np.unique(pixels.reshape(-1, 3), axis=0, return_counts=True)
    assert len(colours) >= 3 and counts.max() < 0.99 * counts.sum(), path.name  # not one colour, not near-blank
    bar = (pixels == BAR).all(axis=2)
    assert bar.sum() >= 0.01 * bar.size, (path.name, int(bar.sum()))
    columns = [np.flatnonzero(bar[:, x]) for x in np.flatnonzero(bar.any(axis=0))]
    assert len({rows.max() for rows in columns}) == 1, path.name  # every bar rises from the x axis
    assert max(rows.max() - rows.min() for rows in columns) > bar.shape[0] // 10, path.name  # bars, not lines


def test_dj_analyze_draws_histograms_of_our_stats(tmp_path, server):
    recipe = recipe_copy("mindgym_text.yaml", tmp_path, length=8)
    done = run_dj(recipe, api_run_env(server), tool="dj-analyze")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Installing" not in done.stderr  # nothing is pip-installed at run time
    for stat in ("mindgym_depth", "mindgym_breadth", "mindgym_solve_rate"):
        found = list(tmp_path.rglob(f"analysis/{stat}-hist.png"))
        assert len(found) == 1, stat
        assert_histogram(found[0])
