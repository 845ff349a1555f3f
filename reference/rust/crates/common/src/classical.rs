//! What the classical tasks share across frameworks: loading the prepared
//! splits, the metrics (defined once so every implementation computes them
//! the same way) and one-vs-one voting for binary SVMs.

use crate::{read_indices, read_npy, Res, Spec};

/// Row-major rows of X and their targets for the train and test parts.
#[derive(Debug, Clone)]
pub struct Split {
    pub d: usize,
    pub x_train: Vec<f64>,
    pub y_train: Vec<f64>,
    pub x_test: Vec<f64>,
    pub y_test: Vec<f64>,
}

/// Reads a 2-D `.npy` as row-major f64 and returns (data, rows, cols).
pub fn read_matrix(path: &str) -> Res<(Vec<f64>, usize, usize)> {
    let a = read_npy::<f64>(path)?;
    match a.shape[..] {
        [n, d] => Ok((a.data, n, d)),
        _ => Err(format!("{path}: want a 2-D array, got shape {:?}", a.shape).into()),
    }
}

/// Reads inputs X, y, train_idx, test_idx and gathers the rows; the training
/// rows are tiled `replicate` times.
pub fn load_split(spec: &Spec, replicate: usize) -> Res<Split> {
    let (x, n, d) = read_matrix(spec.input("X")?)?;
    let y = read_npy::<f64>(spec.input("y")?)?.data;
    if y.len() != n {
        return Err(format!("y has {} rows, X has {n}", y.len()).into());
    }
    let gather = |name: &str, times: usize| -> Res<(Vec<f64>, Vec<f64>)> {
        let idx = read_indices(spec.input(name)?, n).map_err(|e| format!("{name}: {e}"))?;
        let (mut xs, mut ys) = (Vec::with_capacity(idx.len() * d * times), Vec::with_capacity(idx.len() * times));
        for _ in 0..times {
            for &i in &idx {
                xs.extend_from_slice(&x[i * d..(i + 1) * d]);
                ys.push(y[i]);
            }
        }
        Ok((xs, ys))
    };
    let (x_train, y_train) = gather("train_idx", replicate.max(1))?;
    let (x_test, y_test) = gather("test_idx", 1)?;
    Ok(Split { d, x_train, y_train, x_test, y_test })
}

/// Coefficient of determination, as scikit-learn's `r2_score`.
pub fn r2(y: &[f64], pred: &[f64]) -> f64 {
    let mean = y.iter().sum::<f64>() / y.len() as f64;
    let ss_res: f64 = y.iter().zip(pred).map(|(a, b)| (a - b).powi(2)).sum();
    let ss_tot: f64 = y.iter().map(|a| (a - mean).powi(2)).sum();
    1.0 - ss_res / ss_tot
}

pub fn rmse(y: &[f64], pred: &[f64]) -> f64 {
    (y.iter().zip(pred).map(|(a, b)| (a - b).powi(2)).sum::<f64>() / y.len() as f64).sqrt()
}

pub fn accuracy(y: &[f64], pred: &[f64]) -> f64 {
    y.iter().zip(pred).filter(|(a, b)| a == b).count() as f64 / y.len() as f64
}

/// Sum of squared distances of each row of x (d columns) to the centre of its label.
pub fn inertia(x: &[f64], d: usize, centres: &[f64], labels: &[usize]) -> f64 {
    x.chunks_exact(d).zip(labels).map(|(r, &l)| r.iter().zip(&centres[l * d..(l + 1) * d]).map(|(a, c)| (a - c).powi(2)).sum::<f64>()).sum()
}

/// The mean of the rows of each of k labels (row-major k x d; an empty cluster's centre is 0).
pub fn label_means(x: &[f64], d: usize, labels: &[usize], k: usize) -> Vec<f64> {
    let mut sums = vec![0.0; k * d];
    let mut counts = vec![0usize; k];
    for (r, &l) in x.chunks_exact(d).zip(labels) {
        counts[l] += 1;
        sums[l * d..(l + 1) * d].iter_mut().zip(r).for_each(|(s, v)| *s += v);
    }
    for (l, &c) in counts.iter().enumerate() {
        sums[l * d..(l + 1) * d].iter_mut().for_each(|s| *s /= c.max(1) as f64);
    }
    sums
}

/// Adjusted Rand index of two labelings (Hubert and Arabie 1985), as
/// scikit-learn's `adjusted_rand_score`, including its 1.0 for the degenerate
/// cases (one cluster each, or every sample its own cluster).
pub fn ari(a: &[i64], b: &[i64]) -> f64 {
    use std::collections::HashMap;
    let n = a.len();
    let comb2 = |x: usize| (x * x.saturating_sub(1)) as f64 / 2.0;
    let (mut cells, mut rows, mut cols) = (HashMap::new(), HashMap::new(), HashMap::new());
    for (&p, &q) in a.iter().zip(b) {
        *cells.entry((p, q)).or_insert(0usize) += 1;
        *rows.entry(p).or_insert(0usize) += 1;
        *cols.entry(q).or_insert(0usize) += 1;
    }
    if (rows.len() == 1 && cols.len() == 1) || (rows.len() == n && cols.len() == n) || cells.is_empty() {
        return 1.0;
    }
    let index: f64 = cells.values().map(|&c| comb2(c)).sum();
    let sum_a: f64 = rows.values().map(|&c| comb2(c)).sum();
    let sum_b: f64 = cols.values().map(|&c| comb2(c)).sum();
    let expected = sum_a * sum_b / comb2(n);
    let max = (sum_a + sum_b) / 2.0;
    (index - expected) / (max - expected)
}

/// The distinct labels of y, sorted.
pub fn classes(y: &[f64]) -> Vec<f64> {
    let mut c = y.to_vec();
    c.sort_by(f64::total_cmp);
    c.dedup();
    c
}

/// The class pairs (i, j), i < j, one binary classifier each, in libsvm's order.
pub fn ovo_pairs(k: usize) -> Vec<(usize, usize)> {
    (0..k).flat_map(|i| (i + 1..k).map(move |j| (i, j))).collect()
}

/// One-vs-one voting: each binary classifier votes for one class of its pair
/// for every sample; the class with the most votes wins and a tie goes to the
/// lowest class index, as in libsvm (and so scikit-learn's SVC).
pub struct OvoVotes {
    k: usize,
    counts: Vec<u32>,
}

impl OvoVotes {
    pub fn new(n_samples: usize, n_classes: usize) -> OvoVotes {
        OvoVotes { k: n_classes, counts: vec![0; n_samples * n_classes] }
    }
    pub fn vote(&mut self, sample: usize, class: usize) {
        self.counts[sample * self.k + class] += 1;
    }
    /// The winning class index of each sample.
    pub fn winners(&self) -> Vec<usize> {
        self.counts.chunks_exact(self.k).map(|c| c.iter().enumerate().fold(0, |best, (i, &v)| if v > c[best] { i } else { best })).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ari_matches_sklearn() {
        // Expected values from scikit-learn 1.x adjusted_rand_score.
        assert_eq!(ari(&[0, 0, 1, 1], &[1, 1, 0, 0]), 1.0);
        assert!((ari(&[0, 0, 1, 2], &[0, 0, 1, 1]) - 0.5714285714285715).abs() < 1e-12);
        assert!((ari(&[0, 0, 1, 1], &[0, 1, 0, 1]) - (-0.5)).abs() < 1e-12);
        assert!((ari(&[0, 0, 0, 1, 1, 1], &[0, 0, 1, 1, 2, 2]) - 0.24242424242424246).abs() < 1e-12);
        assert_eq!(ari(&[3, 3, 3], &[1, 1, 1]), 1.0);
    }

    #[test]
    fn ovo_votes_majority_then_lowest() {
        assert_eq!(ovo_pairs(3), vec![(0, 1), (0, 2), (1, 2)]);
        let mut v = OvoVotes::new(3, 3);
        // sample 0: 2 wins twice; sample 1: one vote each (tie -> 0); sample 2: 1 and 2 tie -> 1.
        for (s, c) in [(0, 2), (0, 2), (0, 1), (1, 1), (1, 2), (1, 0), (2, 2), (2, 1)] {
            v.vote(s, c);
        }
        assert_eq!(v.winners(), vec![2, 0, 1]);
    }

    #[test]
    fn metrics() {
        let y = [1.0, 2.0, 3.0];
        assert_eq!(r2(&y, &y), 1.0);
        assert!((r2(&y, &[2.0, 2.0, 2.0])).abs() < 1e-12);
        assert!((rmse(&y, &[1.0, 2.0, 5.0]) - (4.0f64 / 3.0).sqrt()).abs() < 1e-12);
        assert_eq!(accuracy(&y, &[1.0, 0.0, 3.0]), 2.0 / 3.0);
        let x = [0.0, 0.0, 2.0, 0.0, 10.0, 10.0];
        let c = label_means(&x, 2, &[0, 0, 1], 2);
        assert_eq!(c, vec![1.0, 0.0, 10.0, 10.0]);
        assert_eq!(inertia(&x, 2, &c, &[0, 0, 1]), 2.0);
    }
}
