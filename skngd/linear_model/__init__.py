from skngd.linear_model._student_t import StudentTRegressor  # noqa: F401
from skngd.linear_model._logistic import LogisticRegression  # noqa: F401
from skngd.linear_model._glm import GeneralizedLinearRegressor  # noqa: F401
from skngd.linear_model._glm_distributions import GammaRegressor, PoissonRegressor, TweedieRegressor  # noqa: F401
