//! classical/* on smartcore: OLS (QR solver), a linear SVC made one-vs-one from
//! smartcore's binary SVC, and k-means.

use mlbench_common::classical::{self as cl, OvoVotes};
use mlbench_common::{read_npy, Res, Result, Spec};
use serde_json::json;
use smartcore::cluster::kmeans::{KMeans, KMeansParameters};
use smartcore::linalg::basic::arrays::Array;
use smartcore::linalg::basic::matrix::DenseMatrix;
use smartcore::linear::linear_regression::{LinearRegression, LinearRegressionParameters, LinearRegressionSolverName};
use smartcore::svm::svc::{SVCParameters, SVC};
use smartcore::svm::Kernels;
use std::time::Instant;

pub const FRAMEWORK: &str = "smartcore";
/// The exact pin of smartcore in Cargo.toml (checked by a test).
pub const FRAMEWORK_VERSION: &str = "0.7.0";

pub type Ols = LinearRegression<f64, f64, DenseMatrix<f64>, Vec<f64>>;
pub type Svc<'a> = SVC<'a, f64, i32, DenseMatrix<f64>, Vec<i32>>;
pub type SvcParams = SVCParameters<f64, i32, DenseMatrix<f64>, Vec<i32>>;

pub fn run(spec: &Spec) -> Res<Result> {
    let mut res = Result::new(spec, FRAMEWORK, FRAMEWORK_VERSION);
    res.notes.push(format!("smartcore is single-threaded (no rayon, no BLAS): spec.threads = {} does not change it", spec.threads));
    match spec.task.as_str() {
        "classical/linreg" => linreg(spec, &mut res)?,
        "classical/svm" => svm(spec, &mut res)?,
        "classical/kmeans" => kmeans(spec, &mut res)?,
        t => return Err(format!("classical-smartcore: unknown task {t:?}").into()),
    }
    Ok(res)
}

/// A row-major matrix of rows of d columns.
fn matrix(x: Vec<f64>, d: usize) -> Res<DenseMatrix<f64>> {
    Ok(DenseMatrix::new(x.len() / d, d, x, false)?)
}

pub fn fit_linreg(x: &DenseMatrix<f64>, y: &Vec<f64>) -> Res<Ols> {
    Ok(LinearRegression::fit(x, y, LinearRegressionParameters::default().with_solver(LinearRegressionSolverName::QR))?)
}

fn linreg(spec: &Spec, res: &mut Result) -> Res<()> {
    let replicate = spec.usize("replicate")?;
    let mut last = None;
    for (_, timed) in spec.repetitions() {
        let (x, y, x_test, y_test) = res.time(timed, "load", || -> Res<_> {
            let s = cl::load_split(spec, replicate)?;
            Ok((matrix(s.x_train, s.d)?, s.y_train, matrix(s.x_test, s.d)?, s.y_test))
        })?;
        let model = res.time(timed, "fit", || fit_linreg(&x, &y))?;
        let pred = res.time(timed, "predict", || model.predict(&x_test))?;
        last = Some((model, pred, y_test));
    }
    let (model, pred, y_test) = last.unwrap();
    res.metric("r2", cl::r2(&y_test, &pred));
    res.metric("rmse", cl::rmse(&y_test, &pred));
    res.probe("coef", model.coefficients().iterator(0).copied().chain([*model.intercept()]));
    res.probe("pred_first20", pred.iter().take(20).copied());
    res.params.insert("replicate".into(), json!(replicate));
    res.params.insert("fit_intercept".into(), json!(true));
    res.params.insert("solver".into(), json!("qr"));
    res.notes.push("smartcore LinearRegression with LinearRegressionSolverName::QR: least squares on [X | 1] by smartcore's QR".into());
    Ok(())
}

/// The training rows of each class pair, labelled with the pair's class indices:
/// the data the one-vs-one SVCs borrow.
pub struct OvoData {
    classes: Vec<f64>,
    pairs: Vec<(DenseMatrix<f64>, Vec<i32>)>,
}

impl OvoData {
    pub fn new(x: &[f64], d: usize, y: &[f64]) -> Res<OvoData> {
        let classes = cl::classes(y);
        let label: Vec<usize> = y.iter().map(|v| classes.partition_point(|c| c < v)).collect();
        let pairs = cl::ovo_pairs(classes.len())
            .into_iter()
            .map(|(i, j)| -> Res<_> {
                let rows: Vec<usize> = (0..y.len()).filter(|&r| label[r] == i || label[r] == j).collect();
                let xs = rows.iter().flat_map(|&r| x[r * d..(r + 1) * d].iter().copied()).collect();
                Ok((matrix(xs, d)?, rows.iter().map(|&r| label[r] as i32).collect()))
            })
            .collect::<Res<_>>()?;
        Ok(OvoData { classes, pairs })
    }

    /// One binary SVC per class pair.
    pub fn fit<'a>(&'a self, params: &'a SvcParams) -> Res<Vec<Svc<'a>>> {
        Ok(self.pairs.iter().map(|(x, y)| SVC::fit(x, y, params)).collect::<std::result::Result<_, _>>()?)
    }

    /// Majority vote of the pairwise SVCs, ties to the lowest class.
    pub fn predict<'a>(&self, models: &[Svc<'a>], x: &'a DenseMatrix<f64>) -> Res<Vec<f64>> {
        let mut votes = OvoVotes::new(x.shape().0, self.classes.len());
        for m in models {
            m.predict(x)?.iter().enumerate().for_each(|(s, &c)| votes.vote(s, c as usize));
        }
        Ok(votes.winners().into_iter().map(|w| self.classes[w]).collect())
    }
}

pub fn svc_params(c: f64, tol: f64) -> SvcParams {
    SVCParameters::default().with_c(c).with_tol(tol).with_kernel(Kernels::linear())
}

fn svm(spec: &Spec, res: &mut Result) -> Res<()> {
    let (c, tol) = (spec.f64("C")?, spec.f64("tol")?);
    let params = svc_params(c, tol);
    let mut last = None;
    for (_, timed) in spec.repetitions() {
        let (x, d, y, x_test, y_test) = res.time(timed, "load", || -> Res<_> {
            let s = cl::load_split(spec, 1)?;
            Ok((s.x_train, s.d, s.y_train, matrix(s.x_test, s.d)?, s.y_test))
        })?;
        // The SVCs borrow their pair's rows, so the fit phase is timed by hand.
        let t = Instant::now();
        let data = OvoData::new(&x, d, &y)?;
        let models = data.fit(&params)?;
        if timed {
            res.add("fit", t.elapsed().as_secs_f64());
        }
        let pred = res.time(timed, "predict", || data.predict(&models, &x_test))?;
        last = Some((pred, y_test));
    }
    let (pred, y_test) = last.unwrap();
    res.metric("accuracy", cl::accuracy(&y_test, &pred));
    res.probe("test_pred", pred);
    res.params.insert("C".into(), json!(c));
    res.params.insert("tol".into(), json!(tol));
    res.params.insert("kernel".into(), json!("linear"));
    res.params.insert("epoch".into(), json!(params.epoch));
    res.notes.push("smartcore's SVC is binary: one SVC per class pair (45 for digits) on that pair's training rows; prediction by majority vote, ties to the lowest class (as libsvm). smartcore 0.7's own MultiClassSVC is not used: its vote breaks ties in HashMap order, which changes from run to run".into());
    res.notes.push(format!("SVCParameters::default().with_c(C).with_tol(tol).with_kernel(Kernels::linear()): smartcore's LASVM-style approximate solver, {} epochs (default), seed None (fixed 0 in this build)", params.epoch));
    Ok(())
}

pub fn fit_kmeans(x: &DenseMatrix<f64>, k: usize, seed: u64, max_iter: usize) -> Res<KMeans<f64, u32, DenseMatrix<f64>, Vec<u32>>> {
    let params = KMeansParameters { seed: Some(seed), ..Default::default() }.with_k(k).with_max_iter(max_iter);
    Ok(KMeans::fit(x, params)?)
}

fn kmeans(spec: &Spec, res: &mut Result) -> Res<()> {
    let (k, seed, max_iter) = (spec.usize("k")?, spec.usize("seed")? as u64, spec.usize("max_iter")?);
    let mut last = None;
    for (_, timed) in spec.repetitions() {
        let (x, d, y) = res.time(timed, "load", || -> Res<_> {
            let (x, _, d) = cl::read_matrix(spec.input("X")?)?;
            Ok((matrix(x, d)?, d, read_npy::<i64>(spec.input("y")?)?.data))
        })?;
        let model = res.time(timed, "fit", || fit_kmeans(&x, k, seed, max_iter))?;
        let labels = res.time(timed, "predict", || model.predict(&x))?;
        last = Some((x, d, y, labels));
    }
    let (x, d, y, labels) = last.unwrap();
    let labels: Vec<usize> = labels.iter().map(|&l| l as usize).collect();
    let rows: Vec<f64> = x.iterator(0).copied().collect();
    let centres = cl::label_means(&rows, d, &labels, k);
    res.metric("inertia", cl::inertia(&rows, d, &centres, &labels));
    res.metric("ari", cl::ari(&y, &labels.iter().map(|&l| l as i64).collect::<Vec<_>>()));
    res.params.insert("k".into(), json!(k));
    res.params.insert("seed".into(), json!(seed));
    res.params.insert("max_iter".into(), json!(max_iter));
    res.params.insert("n_init".into(), json!(1));
    res.params.insert("init".into(), json!("k-means++"));
    res.params.insert("tol".into(), json!(null));
    res.not_applicable.insert(
        "inertia_shared_init".into(),
        "smartcore's KMeans cannot start from given centres (KMeansParameters has no init), so the parity fit from the shared centres cannot be run".into(),
    );
    res.notes.push("smartcore KMeans (KMeansParameters k, max_iter, seed): its own k-means++ init (one candidate per step, SmallRng seeded with seed), then Lloyd steps over a BBD tree (filtering algorithm) until the distortion stops decreasing or max_iter; it has no tol, so tol is not used".into());
    res.notes.push("inertia = sum of squared distances of X to the mean of its predicted cluster (smartcore does not expose its centroids; at convergence these are the fitted centroids)".into());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_matches_pin() {
        assert!(include_str!("../Cargo.toml").contains(&format!("smartcore = \"={FRAMEWORK_VERSION}\"")));
    }

    #[test]
    fn linreg_exact() {
        let rows = [[1., 2.], [2., 1.], [3., 5.], [4., 3.], [0., 7.], [6., 6.]];
        let y = rows.iter().map(|r| 3. + 2. * r[0] - r[1]).collect();
        let m = fit_linreg(&matrix(rows.concat(), 2).unwrap(), &y).unwrap();
        let coef: Vec<f64> = m.coefficients().iterator(0).copied().collect();
        assert!((coef[0] - 2.).abs() < 1e-8 && (coef[1] + 1.).abs() < 1e-8, "{coef:?}");
        assert!((m.intercept() - 3.).abs() < 1e-8, "{}", m.intercept());
    }

    fn three_blobs() -> (Vec<f64>, Vec<f64>) {
        let centres = [[0., 0.], [10., 0.], [0., 10.]];
        let offsets = [[0.1, 0.2], [-0.3, 0.1], [0.2, -0.2], [-0.1, -0.3], [0.3, 0.3]];
        let (mut x, mut y) = (vec![], vec![]);
        for (c, centre) in centres.iter().enumerate() {
            for o in &offsets {
                x.extend([centre[0] + o[0], centre[1] + o[1]]);
                y.push(c as f64);
            }
        }
        (x, y)
    }

    #[test]
    fn svm_separable_three_classes() {
        let (x, y) = three_blobs();
        let data = OvoData::new(&x, 2, &y).unwrap();
        let params = svc_params(1.0, 1e-3);
        let models = data.fit(&params).unwrap();
        let xm = matrix(x, 2).unwrap();
        assert_eq!(data.predict(&models, &xm).unwrap(), y);
    }

    #[test]
    fn kmeans_three_blobs() {
        let (x, y) = three_blobs();
        let xm = matrix(x, 2).unwrap();
        let labels = fit_kmeans(&xm, 3, 42, 300).unwrap().predict(&xm).unwrap();
        let y: Vec<i64> = y.iter().map(|&v| v as i64).collect();
        assert_eq!(cl::ari(&y, &labels.iter().map(|&l| l as i64).collect::<Vec<_>>()), 1.0);
    }
}
