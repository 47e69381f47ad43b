"""lib.seeding: BOOK_SEED selects independent seed sets; 0 keeps the published seeds."""

import numpy as np
import pytest

from lib.seeding import book_seed, rng, seed_offset, torch_generator


def test_offset_zero_is_the_base(monkeypatch):
    monkeypatch.delenv("BOOK_SEED", raising=False)
    assert seed_offset() == 0
    assert book_seed(123) == 123


def test_offsets_give_distinct_seeds(monkeypatch):
    seeds = {book_seed(b, offset=s) for b in range(20) for s in range(1, 21)}
    assert len(seeds) == 400
    assert all(0 <= s < 2**63 for s in seeds)
    monkeypatch.setenv("BOOK_SEED", "3")
    assert book_seed(5) == book_seed(5, offset=3) != 5
    a, b = rng(5).random(3), np.random.default_rng(book_seed(5, offset=3)).random(3)
    assert np.array_equal(a, b)
    assert torch_generator(5).initial_seed() == book_seed(5, offset=3)


@pytest.mark.parametrize("raw", ["x", "-1", "2.5"])
def test_bad_book_seed(monkeypatch, raw):
    monkeypatch.setenv("BOOK_SEED", raw)
    with pytest.raises(ValueError, match="BOOK_SEED"):
        seed_offset()
