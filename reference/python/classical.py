"""Classical reference (python-sklearn): linreg, svm and kmeans with scikit-learn.

    python classical.py --spec SPEC.json

Inputs, parameters, phases, metrics and probes: docs/PROTOCOL.md.
"""

import numpy as np
import sklearn
from sklearn.cluster import KMeans
from sklearn.linear_model import LinearRegression
from sklearn.metrics import accuracy_score, adjusted_rand_score, r2_score, root_mean_squared_error
from sklearn.svm import SVC
from threadpoolctl import threadpool_limits

import common


def load_split(spec, replicate=1):
    """Train and test rows of X and y, the training rows tiled `replicate` times."""
    a = {name: np.load(path) for name, path in spec["inputs"].items()}
    n = len(a["X"])
    train, test = common.rows(a["train_idx"], n, "train_idx"), common.rows(a["test_idx"], n, "test_idx")
    X_train, y_train = a["X"][train], a["y"][train]
    if replicate > 1:
        X_train, y_train = np.tile(X_train, (replicate, 1)), np.tile(y_train, replicate)
    return X_train, y_train, a["X"][test], a["y"][test]


def linreg(spec, result):
    replicate = common.param_int(spec, "replicate")
    if replicate < 1:
        raise ValueError(f"replicate = {replicate}, want >= 1")
    for _, timed in common.repetitions(spec):
        with result.time("load", timed):
            X_train, y_train, X_test, y_test = load_split(spec, replicate)
        model = LinearRegression()
        with result.time("fit", timed):
            model.fit(X_train, y_train)
        with result.time("predict", timed):
            pred = model.predict(X_test)

    result["params"].update(replicate=replicate, fit_intercept=True)
    result.metric("r2", r2_score(y_test, pred))
    result.metric("rmse", root_mean_squared_error(y_test, pred))
    result.probe("coef", [*model.coef_, model.intercept_])
    result.probe("pred_first20", pred[:20])
    result["notes"].append(
        "LinearRegression: X and y centred, then scipy.linalg.lstsq (LAPACK gelsd, SVD); intercept = mean(y) - mean(X) . coef"
    )


def svm(spec, result):
    params = {"kernel": common.param_str(spec, "kernel"), "C": common.param_float(spec, "C"), "tol": common.param_float(spec, "tol")}
    for _, timed in common.repetitions(spec):
        with result.time("load", timed):
            X_train, y_train, X_test, y_test = load_split(spec)
        model = SVC(**params)
        with result.time("fit", timed):
            model.fit(X_train, y_train)
        with result.time("predict", timed):
            pred = model.predict(X_test)

    result["params"].update(params, shrinking=model.shrinking, cache_size=model.cache_size, max_iter=model.max_iter, multiclass="ovo")
    result.metric("accuracy", accuracy_score(y_test, pred))
    result.probe("test_pred", pred)
    result["notes"].append(
        "SVC: libsvm SMO (WSS3 working-set selection), one-vs-one over all class pairs with "
        "majority vote (ties go to the lowest label, break_ties=False), shrinking=True, "
        "no class weights (sklearn defaults)"
    )


def kmeans(spec, result):
    n_init = common.param_int(spec, "n_init")
    if n_init != 1:
        raise ValueError(f"n_init={n_init}: the protocol compares a single k-means++ run, want 1")
    params = {
        "n_clusters": common.param_int(spec, "k"),
        "init": "k-means++",
        "n_init": 1,
        "max_iter": common.param_int(spec, "max_iter"),
        "tol": common.param_float(spec, "tol"),
        "random_state": common.param_int(spec, "seed"),
        "algorithm": "lloyd",
    }
    n_iter = []
    for _, timed in common.repetitions(spec):
        with result.time("load", timed):
            X, y = np.load(spec["inputs"]["X"]), np.load(spec["inputs"]["y"])
        model = KMeans(**params)
        with result.time("fit", timed):
            model.fit(X)
        with result.time("predict", timed):
            labels = model.predict(X)
        if timed:
            n_iter.append(float(model.n_iter_))

    result["params"].update(n_init=1, init="k-means++", algorithm="lloyd")
    result.metric("inertia", model.inertia_)
    result.metric("ari", adjusted_rand_score(y, labels))
    # Parity fit, untimed: Lloyd from the shared initial centres.
    shared = KMeans(**{**params, "init": np.load(spec["inputs"]["init"])}).fit(X)
    result.metric("inertia_shared_init", shared.inertia_)
    result["series"] = {"n_iter": n_iter}
    result["notes"].append(
        "KMeans: greedy k-means++ (2 + ln k candidates per centre) seeded by random_state, then "
        "Lloyd; stops when labels no longer change or when the squared centre shift summed over "
        "centres <= tol * mean per-feature variance of X (sklearn scales tol by the data); "
        "inertia_ is sum of squared distances to the final centres"
    )


TASKS = {"classical/linreg": linreg, "classical/svm": svm, "classical/kmeans": kmeans}


def run(spec):
    task = TASKS.get(spec["task"])
    if task is None:
        raise ValueError(f"unknown task {spec['task']!r}: want one of {', '.join(TASKS)}")
    result = common.Result(spec, "scikit-learn", sklearn.__version__)
    if spec["device"] != "cpu":
        result["device"] = "cpu"
        result["notes"].append(f"scikit-learn runs on the CPU only; spec asked for {spec['device']}")
    with threadpool_limits(limits=spec["threads"]):
        task(spec, result)
    result["notes"].append(
        f"threadpoolctl.threadpool_limits({spec['threads']}) around load/fit/predict: BLAS (scipy/numpy) and OpenMP (KMeans) pools"
    )
    return result


if __name__ == "__main__":
    common.main(run)
