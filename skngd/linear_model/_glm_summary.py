"""The object returned by ``GeneralizedLinearRegressor.summary()``.

It prints as a statsmodels-like text table and exposes the numbers behind it:
``tables[0]`` the model information, ``tables[1]`` the coefficient table
(rows named after the features of a fitted DataFrame). Each table is a
pandas ``DataFrame`` when pandas is installed, else a plain dictionary in
``DataFrame.to_dict(orient="split")`` layout (``index``, ``columns``,
``data``).
"""

import numpy as np

COEF_COLUMNS = ("coef", "std err", "z", "P>|z|")


def _frame(index, columns, data):
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is optional
        return {"index": list(index), "columns": list(columns), "data": data}
    return pd.DataFrame(data, index=list(index), columns=list(columns))


class GLMSummary:
    """Summary of a fitted GLM: ``print(summary)`` shows the table, and
    :attr:`tables` holds it as data.

    Attributes
    ----------
    title : str
    info : list of (str, object)
        Model information (family, link, number of observations, ...).
    names : list of str
        Parameter names: ``'intercept'`` (if fitted) then the features.
    params, bse, zvalues, pvalues : ndarray of shape (k,)
        Estimates, standard errors, Wald z statistics and two-sided p-values.
    conf_int : ndarray of shape (k, 2)
    alpha : float
        One minus the confidence level of ``conf_int``.
    notes : list of str
    zero : ndarray of bool, shape (k,)
        Coefficients that an L1 penalty set exactly to zero (no standard error).
    """

    def __init__(self, title, info, names, params, bse, zvalues, pvalues, conf_int, alpha,
                 notes=(), zero=None):
        self.zero = (np.zeros(len(params), dtype=bool) if zero is None
                     else np.asarray(zero, dtype=bool))
        self.title, self.info, self.names = title, list(info), list(names)
        self.params, self.bse, self.zvalues, self.pvalues = params, bse, zvalues, pvalues
        self.conf_int, self.alpha, self.notes = conf_int, alpha, list(notes)

    def _ci_columns(self):
        return f"[{self.alpha / 2:.3g}", f"{1 - self.alpha / 2:.3g}]"

    @property
    def tables(self):
        """``[model information, coefficient table]`` (DataFrames with pandas)."""
        info = _frame([k for k, _ in self.info], ["value"], [[v] for _, v in self.info])
        data = np.column_stack([self.params, self.bse, self.zvalues, self.pvalues, self.conf_int])
        coefs = _frame(self.names, COEF_COLUMNS + self._ci_columns(), data)
        return [info, coefs]

    def as_text(self):
        """The text table (what ``print`` shows)."""
        lo, hi = self._ci_columns()
        width = max([len(n) for n in self.names] + [9])
        cols = (f"{'':<{width}} {'coef':>11} {'std err':>11} {'z':>9} {'P>|z|':>8} "
                f"{lo:>11} {hi:>11}")
        rule = "=" * len(cols)
        lines = [self.title.center(len(cols)), rule]
        pairs = [self.info[i:i + 2] for i in range(0, len(self.info), 2)]
        for pair in pairs:
            (a, b), (c, d) = pair[0], pair[1] if len(pair) > 1 else ("", "")
            b, d = _fmt(b), _fmt(d)
            lines.append(f"{a + ':':<16}{b:>20}   {c + ':':<18}{d:>{len(cols) - 57}}")
        lines += [rule, cols, "-" * len(cols)]
        for i, name in enumerate(self.names):
            if self.zero[i]:
                lines.append(f"{name:<{width}} {self.params[i]:>11.4f} {'zero':>11} "
                             f"{'':>9} {'':>8} {'':>11} {'':>11}".rstrip())
                continue
            lines.append(
                f"{name:<{width}} {self.params[i]:>11.4f} {self.bse[i]:>11.4f} "
                f"{self.zvalues[i]:>9.3f} {self.pvalues[i]:>8.3f} {self.conf_int[i, 0]:>11.4f} "
                f"{self.conf_int[i, 1]:>11.4f}")
        lines.append(rule)
        lines += self.notes
        return "\n".join(lines)

    def as_html(self):
        """HTML of both tables (Jupyter shows it)."""
        try:
            info, coefs = self.tables
            return (f"<h4>{self.title}</h4>" + info.to_html(header=False)
                    + coefs.to_html(float_format=lambda v: f"{v:.4f}"))
        except AttributeError:  # pragma: no cover - without pandas
            return "<pre>" + self.as_text() + "</pre>"

    def __str__(self):
        return self.as_text()

    __repr__ = __str__

    def _repr_html_(self):
        return self.as_html()


def _fmt(value):
    if isinstance(value, str):
        return value
    if isinstance(value, (int, np.integer)):
        return str(value)
    return f"{value:.6g}"
