//go:build libtorch

package torch_test

import (
	"fmt"
	"log"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/mlbench/mlbench/torch"
)

// Tensors come from Go slices (one copy into libtorch's memory) and go back
// to Go slices (one copy out); every tensor is closed by its owner.
func Example() {
	x, err := torch.FromFloat32s([]float32{1, 2, 3, 4, 5, 6}, 2, 3)
	if err != nil {
		log.Fatal(err)
	}
	defer x.Close()
	w, err := torch.FromFloat32s([]float32{1, 0, 0, 1, 1, 1}, 3, 2)
	if err != nil {
		log.Fatal(err)
	}
	defer w.Close()
	y, err := torch.MatMul(x, w)
	if err != nil {
		log.Fatal(err)
	}
	defer y.Close()
	v, err := y.Float32s()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(y.Shape(), y.DType(), v)
	// Output: [2 2] float32 [4 5 10 11]
}

// A two-layer MLP learns y = sin(3x) with autograd and Adam. A Scope holds
// the temporaries of each step and closes them at once.
func Example_mlp() {
	if err := torch.ManualSeed(1); err != nil {
		log.Fatal(err)
	}
	// The data, made in Go.
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 256
	xs, ys := make([]float32, n), make([]float32, n)
	for i := range xs {
		xs[i] = float32(rng.Float64()*2 - 1)
		ys[i] = float32(math.Sin(3 * float64(xs[i])))
	}
	x, _ := torch.FromFloat32s(xs, n, 1)
	y, _ := torch.FromFloat32s(ys, n, 1)
	defer x.Close()
	defer y.Close()

	// The parameters: leaves that require gradients.
	params := []*torch.Tensor{}
	param := func(shape ...int64) *torch.Tensor {
		t, err := torch.Randn(shape, torch.Float32, torch.CPU)
		if err != nil {
			log.Fatal(err)
		}
		s, _ := torch.Scale(t, 0.5)
		t.Close()
		if err := s.SetRequiresGrad(true); err != nil {
			log.Fatal(err)
		}
		params = append(params, s)
		return s
	}
	w1, b1, w2, b2 := param(32, 1), param(32), param(1, 32), param(1)
	defer func() {
		for _, p := range params {
			p.Close()
		}
	}()
	opt, err := torch.NewAdam(params, torch.DefaultAdam(0.01))
	if err != nil {
		log.Fatal(err)
	}
	defer opt.Close()

	var first, last float64
	for step := 0; step < 300; step++ {
		s := torch.NewScope()
		pred := s.Linear(s.Tanh(s.Linear(x, w1, b1)), w2, b2)
		diff := s.Sub(pred, y)
		loss := s.Mean(s.Mul(diff, diff))
		if err := s.Err(); err != nil {
			log.Fatal(err)
		}
		if err := opt.ZeroGrad(); err != nil {
			log.Fatal(err)
		}
		if err := loss.Backward(); err != nil {
			log.Fatal(err)
		}
		if err := opt.Step(); err != nil {
			log.Fatal(err)
		}
		v, _ := loss.Item()
		if step == 0 {
			first = v
		}
		last = v
		s.Close()
	}
	fmt.Println("loss fell to under a tenth:", last < first/10)
	// Output: loss fell to under a tenth: true
}

// Tensors round-trip through a safetensors file, the format of Hugging Face
// checkpoints (the file is written atomically).
func ExampleSaveSafetensors() {
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	w, _ := torch.FromFloat32s([]float32{0.5, -1, 2, 4}, 2, 2)
	ids, _ := torch.FromInt64s([]int64{7, 8, 9})
	defer w.Close()
	defer ids.Close()
	path := filepath.Join(dir, "model.safetensors")
	if err := torch.SaveSafetensors(path, map[string]*torch.Tensor{"w": w, "ids": ids}); err != nil {
		log.Fatal(err)
	}
	m, err := torch.LoadSafetensors(path)
	if err != nil {
		log.Fatal(err)
	}
	defer torch.CloseAll(m)
	wv, _ := m["w"].Float32s()
	iv, _ := m["ids"].Int64s()
	fmt.Println(m["w"].Shape(), wv)
	fmt.Println(m["ids"].DType(), iv)
	// Output:
	// [2 2] [0.5 -1 2 4]
	// int64 [7 8 9]
}

// A program picks CUDA when libtorch and the machine have it, and the CPU
// otherwise; the same binary runs on both.
func ExampleCUDAAvailable() {
	dev := torch.CPU
	if torch.CUDAAvailable() {
		dev = torch.CUDA
	} else if err := torch.CUDALoadError(); err != nil {
		fmt.Fprintln(os.Stderr, "CUDA library present but not loaded:", err)
	}
	x, _ := torch.FromFloat32s([]float32{1, 2, 3})
	defer x.Close()
	xd, err := x.To(dev) // a copy on dev
	if err != nil {
		log.Fatal(err)
	}
	defer xd.Close()
	y, err := torch.Scale(xd, 2)
	if err != nil {
		log.Fatal(err)
	}
	defer y.Close()
	v, _ := y.Float32s() // copied back to the CPU
	fmt.Println(y.Device() == dev, v)
	// Output: true [2 4 6]
}
