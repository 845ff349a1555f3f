// Package classical provides the classical machine-learning algorithms of the
// mlbench suite, written over gonum: ordinary least squares with intercept
// (LinearRegression), a linear-kernel support vector classifier trained by
// SMO with one-vs-one multi-class voting (SVC), k-means with k-means++
// initialisation and Lloyd iterations (KMeans), and the quality metrics the
// benchmark reports (R2, RMSE, Accuracy, AdjustedRandIndex, Inertia).
//
// The algorithms follow the scikit-learn implementations they are compared
// with, so that their results agree within the benchmark's parity rules;
// each type's documentation names its source.
//
// Conventions follow gonum: matrices are mat.Matrix with one observation per
// row; shape mismatches between arguments and a receiver used before Fit are
// programmer errors and panic; bad data (NaN, Inf, empty input, too few
// rows, a rank-deficient design, k greater than the number of rows) is
// reported as an error. Methods only mutate their receiver or a dst
// argument, and random sources are injected by the caller.
package classical
