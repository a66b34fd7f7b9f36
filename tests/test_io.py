import os
import stat

import numpy as np
import pandas as pd
import pytest

from lookbook import io


def test_atomic_path_failure_keeps_old_file(tmp_path):
    target = tmp_path / "result.json"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with io.atomic_open(target) as handle:
            handle.write("partial")
            raise RuntimeError("job killed")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["result.json"]


def test_atomic_path_result_is_world_readable(tmp_path):
    target = tmp_path / "table.tsv"
    io.write_tsv(target, pd.DataFrame({"id": [1, 2]}))
    mode = stat.S_IMODE(os.stat(target).st_mode)
    assert mode & stat.S_IROTH
    assert mode & stat.S_IRUSR


def test_write_json_converts_numpy_values(tmp_path):
    target = tmp_path / "values.json"
    io.write_json(target, {"count": np.int64(3), "shares": np.array([0.5, 0.5])})
    assert io.read_json(target) == {"count": 3, "shares": [0.5, 0.5]}


def test_save_npy_keeps_suffix_and_content(tmp_path):
    target = tmp_path / "images.npy"
    io.save_npy(target, np.arange(6, dtype=np.uint8).reshape(2, 3))
    assert np.load(target).tolist() == [[0, 1, 2], [3, 4, 5]]
