"""The score and its bands, over all 25 cells of the grid."""

from __future__ import annotations

import pytest

from changeledger.risk.domain import Rating, Score
from changeledger.runtime.domain import InvalidValue

EXPECTED = {  # likelihood (rows) x impact (columns)
    1: ["Low", "Low", "Low", "Low", "Medium"],
    2: ["Low", "Low", "Medium", "Medium", "High"],
    3: ["Low", "Medium", "Medium", "High", "High"],
    4: ["Low", "Medium", "High", "Critical", "Critical"],
    5: ["Medium", "High", "High", "Critical", "Critical"],
}
CELLS = [(likelihood, impact) for likelihood in range(1, 6) for impact in range(1, 6)]


@pytest.mark.parametrize(("likelihood", "impact"), CELLS)
def test_every_cell_scores_and_rates(likelihood: int, impact: int) -> None:
    score = Score(likelihood, impact)
    assert score.value == likelihood * impact
    assert score.rating.value == EXPECTED[likelihood][impact - 1]


@pytest.mark.parametrize(
    ("value", "rating"),
    [
        (1, "Low"),
        (4, "Low"),
        (5, "Medium"),
        (9, "Medium"),
        (10, "High"),
        (15, "High"),
        (16, "Critical"),
        (25, "Critical"),
    ],
)
def test_band_edges(value: int, rating: str) -> None:
    assert Rating.of(value).value == rating


@pytest.mark.parametrize(("likelihood", "impact"), [(0, 3), (6, 1), (3, -1), (2, 9)])
def test_scales_run_from_one_to_five(likelihood: int, impact: int) -> None:
    with pytest.raises(InvalidValue):
        Score(likelihood, impact)
