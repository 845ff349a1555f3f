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
// row. Fit takes data and returns an error for anything wrong with it: a
// target or label slice whose length differs from the rows (ErrLength),
// NaN or Inf (ErrNotFinite), empty input (ErrEmpty), too few rows, a
// rank-deficient design, k greater than the number of rows. Programmer
// errors panic: a receiver used before Fit, and a matrix given to
// Predict, Score or a metric whose shape does not match the fitted model or
// the other arguments. Methods only mutate their receiver or a dst
// argument, and random sources are injected by the caller.
package classical
