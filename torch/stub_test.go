//go:build !libtorch

package torch

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Without the libtorch tag the package builds and says why it cannot work.
func TestStubReportsNotBuilt(t *testing.T) {
	err := Available()
	require.ErrorIs(t, err, ErrNotBuilt)
	assert.Contains(t, err.Error(), "-tags libtorch and CGO_CPPFLAGS/CGO_LDFLAGS")
	_, err = FromFloat32s([]float32{1})
	require.ErrorIs(t, err, ErrNotBuilt)
	_, err = NewAdam(nil, DefaultAdam(1e-3))
	require.ErrorIs(t, err, ErrNotBuilt)
	assert.False(t, CUDAAvailable())
	assert.Equal(t, "", Version())
	NoGrad(func() {}) // harmless
}
