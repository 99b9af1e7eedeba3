from helpers import api_run_env, recipe_copy, run_dj


def test_dj_analyze_draws_histograms_of_our_stats(tmp_path, server):
    recipe = recipe_copy("mindgym_text.yaml", tmp_path, length=8)
    done = run_dj(recipe, api_run_env(server), tool="dj-analyze")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Installing" not in done.stderr  # nothing is pip-installed at run time
    for stat in ("mindgym_depth", "mindgym_breadth", "mindgym_solve_rate"):
        found = list(tmp_path.rglob(f"analysis/{stat}-hist.png"))
        assert len(found) == 1, stat
        data = found[0].read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 2000
        from PIL import Image

        with Image.open(found[0]) as im:
            im.verify()
