import pytest


@pytest.fixture(scope="session")
def cluster_client():
    """A real LocalCluster: two worker processes, one thread each."""
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        yield client
