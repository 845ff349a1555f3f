package models

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/mlbench/mlbench/models/arch"
)

// arch counts the CNN's FLOPs from its layers: they must be this model's.
func TestArchSeedCNNIsThisCNN(t *testing.T) {
	var want [][]int64
	for _, p := range CNNParams {
		if len(p.Shape) > 1 {
			want = append(want, p.Shape)
		}
	}
	var got [][]int64
	for _, l := range arch.SeedCNN {
		got = append(got, l.WeightShape())
	}
	assert.Equal(t, want, got)
}
