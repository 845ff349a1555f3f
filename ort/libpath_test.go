package ort

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestVersionFromPath(t *testing.T) {
	assert.Equal(t, "1.30.0", VersionFromPath("/x/capi/libonnxruntime.so.1.30.0"))
	assert.Equal(t, "", VersionFromPath("/x/libonnxruntime.so"))
}
