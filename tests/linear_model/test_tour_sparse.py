"""The tour's L1 section: skngd's L1 fit and path beside scikit-learn's."""

from skngd._tour import WIDTH, _format


def test_tour_sparse_section_runs_and_fits_the_width():
    from skngd._tour import sparse

    rows = sparse.run()
    models = [r.model for r in rows]
    assert models[0].startswith("skngd LogisticRegression") and "path" in models[2]
    assert any(m.startswith("sklearn") for m in models)
    for r in rows:
        assert 0.9 < r.score <= 1.0, r
    # skngd's default L1 fit selects: some coefficients are exactly zero
    assert "30 coefficients" in rows[0].note and not rows[0].note.startswith("30 of")
    # skngd's own rows raise no warning at their defaults
    assert not rows[0].warnings and not rows[2].warnings
    assert max(len(line) for line in _format(rows).splitlines()) <= WIDTH
