package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The checked-in files are what ops.def gives: CI fails when someone edits
// the table without `go generate ./torch/`, or a generated file by hand.
func TestGeneratedFilesUpToDate(t *testing.T) {
	dir := filepath.Join("..", "..")
	files, err := generateFrom(dir)
	require.NoError(t, err)
	require.Len(t, files, 6)
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err, "%s missing: run go generate ./torch/", name)
		assert.Equal(t, string(want), string(got), "torch/%s is stale: run go generate ./torch/", name)
	}
}

func TestParseOneLine(t *testing.T) {
	ops, err := parse("// Foo is a test.\nfoo_bar Foo(x, y *Tensor, b *Tensor?, dims []int64, k bool, s ...int64) = at::foo(*x)\n")
	require.NoError(t, err)
	require.Len(t, ops, 1)
	o := ops[0]
	assert.Equal(t, "foo_bar", o.cname)
	assert.Equal(t, "x, y *Tensor, b *Tensor, dims []int64, k bool, s ...int64", o.sig)
	assert.Equal(t, []param{{"x", "*Tensor", false}, {"y", "*Tensor", false}, {"b", "*Tensor", true},
		{"dims", "[]int64", false}, {"k", "bool", false}, {"s", "...int64", false}}, o.params)
	assert.Equal(t, "tensor x, tensor y, tensor b, const int64_t *dims, int dims_n, int k, const int64_t *s, int s_n, tensor *out", cParams(o))
	assert.Equal(t, "ct(x), ct(y), ct(b), i64s(dims), C.int(len(dims)), cbool(k), i64s(s), C.int(len(s)), &out", cArgs(o))
	assert.Equal(t, "x, y, b, dims, k, s...", callArgs(o, false))
	assert.Equal(t, "hx, hy, hb, dims, k, s", callArgs(o, true))
}

func TestParseRejects(t *testing.T) {
	for name, src := range map[string]string{
		"no doc":          "foo Foo(x *Tensor) = at::foo(*x)\n",
		"doc of another":  "// Bar is.\nfoo Foo(x *Tensor) = at::foo(*x)\n",
		"unknown type":    "// Foo is.\nfoo Foo(x *Tensor, o Options) = at::foo(*x)\n",
		"optional scalar": "// Foo is.\nfoo Foo(x *Tensor, v float64?) = at::foo(*x)\n",
		"no tensor":       "// Foo is.\nfoo Foo(v float64) = at::foo(v)\n",
		"variadic first":  "// Foo is.\nfoo Foo(s ...int64, x *Tensor) = at::foo(*x)\n",
		"untyped":         "// Foo is.\nfoo Foo(x) = at::foo(*x)\n",
		"twice":           "// Foo is.\nfoo Foo(x *Tensor) = a\n// Foo is.\nfoo2 Foo(x *Tensor) = a\n",
		"bad line":        "// Foo is.\nFoo(x *Tensor)\n",
		"empty":           "# nothing\n",
	} {
		_, err := parse(src)
		assert.Error(t, err, name)
	}
}
