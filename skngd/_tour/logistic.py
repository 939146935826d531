"""Tour section: LogisticRegression beside scikit-learn's on bundled datasets."""

from skngd._tour import Row, timed_fit


def run():
    from sklearn.datasets import load_breast_cancer, load_digits
    from sklearn.linear_model import LogisticRegression as SkLogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from skngd.linear_model import LogisticRegression

    rows = []
    for task, load in (("binary: breast_cancer", load_breast_cancer),
                       ("multinomial: digits", load_digits)):
        X, y = load(return_X_y=True)
        Xtr, Xte, ytr, yte = train_test_split(X, y, random_state=0, stratify=y)
        models = [
            ("skngd LogisticRegression (auto)", LogisticRegression()),
            ("skngd LogisticRegression (ngd)", LogisticRegression(solver="ngd")),
            ("sklearn LogisticRegression (lbfgs)", SkLogisticRegression(max_iter=1000)),
        ]
        for name, est in models:
            pipe = make_pipeline(StandardScaler(), est)
            pipe, dt = timed_fit(pipe, Xtr, ytr)
            clf = pipe[-1]
            note = f"solver={clf.solver_}, n_iter={clf.n_iter_[0]}" if hasattr(clf, "solver_") else ""
            rows.append(Row(task, name, dt, pipe.score(Xte, yte), "test accuracy", note))
    return rows
