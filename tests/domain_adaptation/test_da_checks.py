"""scikit-learn's estimator checks, with no expected failures."""

from sklearn.linear_model import Ridge
from sklearn.svm import SVC
from sklearn.utils.estimator_checks import parametrize_with_checks

from skngd.domain_adaptation import DomainAdaptedEstimator, OTDomainAdapter


@parametrize_with_checks(
    [
        OTDomainAdapter(),
        OTDomainAdapter(method="emd"),
        OTDomainAdapter(method="gaussian"),
        OTDomainAdapter(method="sinkhorn_class", reg_class=0.1),
        DomainAdaptedEstimator(OTDomainAdapter(), SVC()),
        DomainAdaptedEstimator(OTDomainAdapter(method="gaussian"), Ridge()),
    ]
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
