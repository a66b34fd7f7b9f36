import numpy as np
import pytest

from lookbook.gan import quality


@pytest.fixture
def features():
    return np.random.default_rng(0).normal(size=(400, 16))


def test_fid_set_against_itself_near_zero(features):
    assert abs(quality.fid(features, features)) < 1e-6


def test_fid_grows_with_added_noise(features):
    rng = np.random.default_rng(1)
    small = quality.fid(features, features + rng.normal(scale=0.2, size=features.shape))
    large = quality.fid(features, features + rng.normal(scale=1.0, size=features.shape))
    assert small > 0.01
    assert large > small


def test_frechet_distance_matches_gaussian_formula():
    # 1-D: (3 - 0)^2 + 1 + 4 - 2 sqrt(1 * 4) = 10.
    distance = quality.frechet_distance(np.array([0.0]), np.array([[1.0]]), np.array([3.0]), np.array([[4.0]]))
    assert distance == pytest.approx(10.0)


def test_fid_fewer_samples_than_dimensions_is_finite():
    rng = np.random.default_rng(2)
    value = quality.fid(rng.normal(size=(10, 64)), rng.normal(size=(12, 64)))
    assert np.isfinite(value)


def test_feature_statistics_rejects_single_row():
    with pytest.raises(ValueError, match="at least 2 feature rows"):
        quality.feature_statistics(np.zeros((1, 8)))


def test_nearest_neighbours_finds_exact_copy(features):
    indexes, distances = quality.nearest_neighbours(features[[5, 17]], features, k=3)
    assert indexes.shape == (2, 3)
    assert indexes[0, 0] == 5
    assert indexes[1, 0] == 17
    assert distances[0, 0] == pytest.approx(0.0, abs=1e-6)
    assert distances[0, 1] > 0


def test_nearest_neighbours_cosine_distance_scale():
    gallery = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    _, distances = quality.nearest_neighbours(np.array([[2.0, 0.0]]), gallery, k=3)
    assert distances[0].tolist() == pytest.approx([0.0, 1.0, 2.0], abs=1e-6)


def test_class_shares_sum_to_one():
    shares = quality.class_shares(np.array([0, 0, 1, 2]), ["a", "b", "c", "d"])
    assert shares == {"a": 0.5, "b": 0.25, "c": 0.25, "d": 0.0}


def test_agreement_share_of_class():
    assert quality.agreement(np.array([1, 1, 0, 1]), 1) == 0.75


def test_agreement_empty_is_none():
    assert quality.agreement(np.array([], dtype=int), 0) is None
