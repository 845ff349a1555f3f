//! classical/* on linfa: OLS (linfa-linear), a linear SVC made one-vs-one from
//! linfa-svm's binary Svm, and k-means (linfa-clustering).

use linfa::prelude::*;
use linfa_clustering::{KMeans, KMeansInit};
use linfa_linear::{FittedLinearRegression, LinearRegression};
use linfa_nn::distance::L2Dist;
use linfa_svm::Svm;
use mlbench_common::classical::{self as cl, OvoVotes};
use mlbench_common::{read_npy, Res, Result, Spec};
use ndarray::{Array1, Array2, Axis};
use rand_xoshiro::rand_core::SeedableRng;
use rand_xoshiro::Xoshiro256Plus;
use serde_json::json;

pub const FRAMEWORK: &str = "linfa";
/// The exact pin of linfa in Cargo.toml (checked by a test).
pub const FRAMEWORK_VERSION: &str = "0.8.1";

pub fn run(spec: &Spec) -> Res<Result> {
    rayon::ThreadPoolBuilder::new().num_threads(spec.threads).build_global()?;
    let mut res = Result::new(spec, FRAMEWORK, FRAMEWORK_VERSION);
    res.notes.push(format!("rayon global pool of {} threads (linfa-clustering's k-means assignment step runs on it; OLS and SVM are single-threaded); pure-Rust linear algebra, no BLAS", spec.threads));
    match spec.task.as_str() {
        "classical/linreg" => linreg(spec, &mut res)?,
        "classical/svm" => svm(spec, &mut res)?,
        "classical/kmeans" => kmeans(spec, &mut res)?,
        t => return Err(format!("classical-linfa: unknown task {t:?}").into()),
    }
    Ok(res)
}

fn matrix(x: Vec<f64>, d: usize) -> Res<Array2<f64>> {
    Ok(Array2::from_shape_vec((x.len() / d, d), x)?)
}

pub fn fit_linreg(x: Array2<f64>, y: Array1<f64>) -> Res<FittedLinearRegression<f64>> {
    Ok(LinearRegression::new().fit(&Dataset::new(x, y))?)
}

fn linreg(spec: &Spec, res: &mut Result) -> Res<()> {
    let replicate = spec.usize("replicate")?;
    let mut last = None;
    for (_, timed) in spec.repetitions() {
        let (x, y, x_test, y_test) = res.time(timed, "load", || -> Res<_> {
            let s = cl::load_split(spec, replicate)?;
            Ok((matrix(s.x_train, s.d)?, Array1::from(s.y_train), matrix(s.x_test, s.d)?, s.y_test))
        })?;
        let model = res.time(timed, "fit", || fit_linreg(x, y))?;
        let pred = res.time(timed, "predict", || model.predict(&x_test));
        last = Some((model, pred, y_test));
    }
    let (model, pred, y_test) = last.unwrap();
    let pred = pred.to_vec();
    res.metric("r2", cl::r2(&y_test, &pred));
    res.metric("rmse", cl::rmse(&y_test, &pred));
    res.probe("coef", model.params().iter().copied().chain([model.intercept()]));
    res.probe("pred_first20", pred.iter().take(20).copied());
    res.params.insert("replicate".into(), json!(replicate));
    res.params.insert("fit_intercept".into(), json!(true));
    res.notes.push("linfa_linear::LinearRegression: least squares on [X | 1] by linfa-linalg's Householder QR".into());
    Ok(())
}

/// A multi-class linear SVC: one linfa-svm binary Svm per class pair, majority vote.
pub struct OvoSvm {
    classes: Vec<f64>,
    models: Vec<((usize, usize), Svm<f64, bool>)>,
}

impl OvoSvm {
    pub fn fit(x: &Array2<f64>, y: &[f64], c: f64, tol: f64) -> Res<OvoSvm> {
        let classes = cl::classes(y);
        let label: Vec<usize> = y.iter().map(|v| classes.partition_point(|c| c < v)).collect();
        let models = cl::ovo_pairs(classes.len())
            .into_iter()
            .map(|(i, j)| -> Res<_> {
                let rows: Vec<usize> = (0..y.len()).filter(|&r| label[r] == i || label[r] == j).collect();
                let targets: Array1<bool> = rows.iter().map(|&r| label[r] == i).collect();
                let data = Dataset::new(x.select(Axis(0), &rows), targets);
                let model = Svm::<f64, bool>::params().linear_kernel().pos_neg_weights(c, c).eps(tol).fit(&data)?;
                Ok(((i, j), model))
            })
            .collect::<Res<_>>()?;
        Ok(OvoSvm { classes, models })
    }

    pub fn predict(&self, x: &Array2<f64>) -> Vec<f64> {
        let mut votes = OvoVotes::new(x.nrows(), self.classes.len());
        for ((i, j), model) in &self.models {
            let first: Array1<bool> = model.predict(x);
            first.iter().enumerate().for_each(|(s, &f)| votes.vote(s, if f { *i } else { *j }));
        }
        votes.winners().into_iter().map(|w| self.classes[w]).collect()
    }
}

fn svm(spec: &Spec, res: &mut Result) -> Res<()> {
    let (c, tol) = (spec.f64("C")?, spec.f64("tol")?);
    let mut last = None;
    for (_, timed) in spec.repetitions() {
        let (x, y, x_test, y_test) = res.time(timed, "load", || -> Res<_> {
            let s = cl::load_split(spec, 1)?;
            Ok((matrix(s.x_train, s.d)?, s.y_train, matrix(s.x_test, s.d)?, s.y_test))
        })?;
        let model = res.time(timed, "fit", || OvoSvm::fit(&x, &y, c, tol))?;
        let pred = res.time(timed, "predict", || model.predict(&x_test));
        last = Some((pred, y_test));
    }
    let (pred, y_test) = last.unwrap();
    res.metric("accuracy", cl::accuracy(&y_test, &pred));
    res.probe("test_pred", pred);
    res.params.insert("C".into(), json!(c));
    res.params.insert("tol".into(), json!(tol));
    res.params.insert("kernel".into(), json!("linear"));
    res.params.insert("shrinking".into(), json!(false));
    res.notes.push("linfa-svm is binary: one Svm per class pair (45 for digits) on that pair's training rows, first class of the pair positive; prediction by majority vote, ties to the lowest class (as libsvm)".into());
    res.notes.push("Svm::params().linear_kernel().pos_neg_weights(C, C).eps(tol): linfa's SMO with a dense kernel matrix, stopping when the max violating pair's gradient gap < tol, no shrinking (linfa default)".into());
    Ok(())
}

pub fn fit_kmeans(x: &Array2<f64>, k: usize, seed: u64, max_iter: u64, tol: f64) -> Res<KMeans<f64, L2Dist>> {
    Ok(KMeans::params_with_rng(k, Xoshiro256Plus::seed_from_u64(seed))
        .n_runs(1)
        .max_n_iterations(max_iter)
        .tolerance(tol)
        .fit(&DatasetBase::from(x.view()))?)
}

fn kmeans(spec: &Spec, res: &mut Result) -> Res<()> {
    let (k, seed, max_iter, tol) = (spec.usize("k")?, spec.usize("seed")? as u64, spec.usize("max_iter")? as u64, spec.f64("tol")?);
    let mut last = None;
    for (_, timed) in spec.repetitions() {
        let (x, y) = res.time(timed, "load", || -> Res<_> {
            let (x, _, d) = cl::read_matrix(spec.input("X")?)?;
            Ok((matrix(x, d)?, read_npy::<i64>(spec.input("y")?)?.data))
        })?;
        let model = res.time(timed, "fit", || fit_kmeans(&x, k, seed, max_iter, tol))?;
        let labels: Array1<usize> = res.time(timed, "predict", || model.predict(&x));
        last = Some((x, y, model, labels));
    }
    let (x, y, model, labels) = last.unwrap();
    let labels = labels.to_vec();
    let inertia = cl::inertia(x.as_slice().unwrap(), x.ncols(), model.centroids().as_slice().unwrap(), &labels);
    res.metric("inertia", inertia);
    res.metric("ari", cl::ari(&y, &labels.iter().map(|&l| l as i64).collect::<Vec<_>>()));
    // Parity fit, untimed: Lloyd from the shared initial centres.
    let (init, _, d) = cl::read_matrix(spec.input("init")?)?;
    let shared = KMeans::params_with_rng(k, Xoshiro256Plus::seed_from_u64(seed))
        .n_runs(1)
        .max_n_iterations(max_iter)
        .tolerance(tol)
        .init_method(KMeansInit::Precomputed(matrix(init, d)?))
        .fit(&DatasetBase::from(x.view()))?;
    let shared_labels = shared.predict(&x).to_vec();
    res.metric(
        "inertia_shared_init",
        cl::inertia(x.as_slice().unwrap(), x.ncols(), shared.centroids().as_slice().unwrap(), &shared_labels),
    );
    res.params.insert("k".into(), json!(k));
    res.params.insert("seed".into(), json!(seed));
    res.params.insert("max_iter".into(), json!(max_iter));
    res.params.insert("tol".into(), json!(tol));
    res.params.insert("n_init".into(), json!(1));
    res.params.insert("init".into(), json!("k-means++"));
    res.notes.push("linfa_clustering::KMeans::params_with_rng(k, Xoshiro256Plus::seed_from_u64(seed)).n_runs(1): k-means++ init (linfa's default), Lloyd iterations; stops when the L2 norm of the change of all centroids < tol (absolute, unlike scikit-learn's tol relative to the data variance) or after max_iter".into());
    res.notes.push("inertia = sum of squared distances of X to the fitted centroid of its predicted cluster, computed outside linfa (linfa's own inertia() is a mean)".into());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn version_matches_pin() {
        assert!(include_str!("../Cargo.toml").contains(&format!("linfa = \"={FRAMEWORK_VERSION}\"")));
    }

    #[test]
    fn linreg_exact() {
        let x = array![[1., 2.], [2., 1.], [3., 5.], [4., 3.], [0., 7.], [6., 6.]];
        let y = x.rows().into_iter().map(|r| 3. + 2. * r[0] - r[1]).collect();
        let m = fit_linreg(x, y).unwrap();
        assert!((m.params()[0] - 2.).abs() < 1e-8 && (m.params()[1] + 1.).abs() < 1e-8, "{:?}", m.params());
        assert!((m.intercept() - 3.).abs() < 1e-8, "{}", m.intercept());
    }

    fn three_blobs() -> (Array2<f64>, Vec<f64>) {
        let centres = [[0., 0.], [10., 0.], [0., 10.]];
        let offsets = [[0.1, 0.2], [-0.3, 0.1], [0.2, -0.2], [-0.1, -0.3], [0.3, 0.3]];
        let (mut x, mut y) = (vec![], vec![]);
        for (c, centre) in centres.iter().enumerate() {
            for o in &offsets {
                x.extend([centre[0] + o[0], centre[1] + o[1]]);
                y.push(c as f64);
            }
        }
        (matrix(x, 2).unwrap(), y)
    }

    #[test]
    fn svm_separable_three_classes() {
        let (x, y) = three_blobs();
        let m = OvoSvm::fit(&x, &y, 1.0, 1e-3).unwrap();
        assert_eq!(m.predict(&x), y);
    }

    #[test]
    fn kmeans_three_blobs() {
        let (x, y) = three_blobs();
        let m = fit_kmeans(&x, 3, 42, 300, 1e-4).unwrap();
        let labels: Array1<usize> = m.predict(&x);
        let y: Vec<i64> = y.iter().map(|&v| v as i64).collect();
        assert_eq!(cl::ari(&y, &labels.iter().map(|&l| l as i64).collect::<Vec<_>>()), 1.0);
    }
}
