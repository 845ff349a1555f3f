//go:build libtorch

// Command embed shows package torch of mlbench used from another Go module,
// as an outside program would: it trains a two-layer MLP on a synthetic
// problem and prints the loss falling, and, given a GPT-2 checkpoint folder
// (config.json + model.safetensors), greedy-generates with package models.
// With -loop N it repeats that work N times and checks that the process's
// resident memory stays flat (no tensor or native memory leaks).
//
// Build it with libtorch 2.11 as package torch documents (go doc
// github.com/mlbench/mlbench/torch):
//
//	export LIBTORCH=$(python3 -c 'import torch, os; print(os.path.dirname(torch.__file__))')
//	export CGO_CPPFLAGS="-I$LIBTORCH/include -I$LIBTORCH/include/torch/csrc/api/include"
//	export CGO_LDFLAGS="-L$LIBTORCH/lib -Wl,-rpath,$LIBTORCH/lib"
//	go run -tags libtorch . -gpt2 path/to/gpt2
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"

	"github.com/mlbench/mlbench/models"
	"github.com/mlbench/mlbench/torch"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "embed:", err)
		os.Exit(1)
	}
}

type options struct {
	steps  int
	gpt2   string
	prompt []int64
	newTok int
	loop   int
}

func run(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("embed", flag.ContinueOnError)
	var o options
	var prompt string
	fs.IntVar(&o.steps, "steps", 200, "MLP training steps")
	fs.StringVar(&o.gpt2, "gpt2", "", "GPT-2 checkpoint folder (config.json, model.safetensors); empty: no generation")
	fs.StringVar(&prompt, "prompt", "464,2068,7586", "prompt token ids, comma-separated")
	fs.IntVar(&o.newTok, "new", 20, "tokens to generate")
	fs.IntVar(&o.loop, "loop", 0, "repeat training and generation this many times and check that RSS stays flat")
	if err := fs.Parse(args); err != nil {
		return err
	}
	for _, s := range strings.Split(prompt, ",") {
		id, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return fmt.Errorf("-prompt: %q is not a token id", s)
		}
		o.prompt = append(o.prompt, id)
	}
	// libtorch's OpenMP threads belong to the calling OS thread (see
	// package torch, "Threads and global state").
	runtime.LockOSThread()
	if err := torch.Available(); err != nil {
		return err
	}
	dev := torch.CPU
	if torch.CUDAAvailable() {
		dev = torch.CUDA
	}
	fmt.Fprintf(out, "libtorch %s, device %v, libtorch_cuda.so loaded: %v\n", torch.Version(), dev, cudaLibraryLoaded())
	if err := torch.ManualSeed(1); err != nil {
		return err
	}
	var gpt *models.GPT2
	if o.gpt2 != "" {
		var err error
		if gpt, err = models.LoadGPT2(o.gpt2, dev); err != nil {
			return err
		}
		defer gpt.Close()
	}
	if o.loop == 0 {
		return once(o, dev, gpt, out)
	}
	return flatRSS(o, dev, gpt, out)
}

// once trains the MLP (printing the loss) and generates, once.
func once(o options, dev torch.Device, gpt *models.GPT2, out io.Writer) error {
	losses, err := trainMLP(o.steps, dev)
	if err != nil {
		return err
	}
	for i, l := range losses {
		if i%(max(1, o.steps/10)) == 0 || i == len(losses)-1 {
			fmt.Fprintf(out, "mlp step %4d  loss %.5f\n", i, l)
		}
	}
	first, last := losses[0], losses[len(losses)-1]
	if !(last < first/4) {
		return fmt.Errorf("mlp: loss went from %.5f to %.5f: it did not fall", first, last)
	}
	fmt.Fprintf(out, "mlp: loss fell from %.5f to %.5f\n", first, last)
	if gpt == nil {
		return nil
	}
	ids, err := generate(gpt, o.prompt, o.newTok)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "gpt2: prompt %v -> %d new tokens %v\n", o.prompt, len(ids), ids)
	return nil
}

// flatRSS repeats the work o.loop times and fails when the resident set
// grew after the first fifth (the warm-up: allocator pools, libtorch's
// lazy initialisation) by more than 5% + 8 MiB, or when tensors leaked.
func flatRSS(o options, dev torch.Device, gpt *models.GPT2, out io.Writer) error {
	warm := max(1, o.loop/5)
	var base, peak float64
	live := torch.LiveTensors()
	for i := range o.loop {
		if _, err := trainMLP(o.steps, dev); err != nil {
			return err
		}
		if gpt != nil {
			if _, err := generate(gpt, o.prompt, o.newTok); err != nil {
				return err
			}
		}
		rss, err := rssMiB()
		if err != nil {
			return err
		}
		if i+1 == warm {
			base = rss
		}
		if i+1 > warm {
			peak = max(peak, rss)
		}
	}
	if n := torch.LiveTensors() - live; n != 0 {
		return fmt.Errorf("rss: %d tensors left open after %d iterations", n, o.loop)
	}
	fmt.Fprintf(out, "rss: %d iterations, %.1f MiB after %d, at most %.1f MiB after that\n", o.loop, base, warm, peak)
	if peak > base*1.05+8 {
		return fmt.Errorf("rss: grew from %.1f to %.1f MiB: not flat", base, peak)
	}
	fmt.Fprintln(out, "rss: flat")
	return nil
}

// trainMLP fits y = sin(3x) on [-1, 1] with a 1-32-1 tanh MLP and Adam and
// returns the loss of every step.
func trainMLP(steps int, dev torch.Device) ([]float64, error) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 256
	xs, ys := make([]float32, n), make([]float32, n)
	for i := range xs {
		xs[i] = float32(rng.Float64()*2 - 1)
		ys[i] = float32(math.Sin(3 * float64(xs[i])))
	}
	s := torch.NewScope() // closes the data and parameters at the end
	defer s.Close()
	x := s.To(s.Keep(torch.FromFloat32s(xs, n, 1)), dev)
	y := s.To(s.Keep(torch.FromFloat32s(ys, n, 1)), dev)
	var params []*torch.Tensor
	for _, shape := range [][]int64{{32, 1}, {32}, {1, 32}, {1}} {
		p := s.Scale(s.Keep(torch.Randn(shape, torch.Float32, dev)), 0.5)
		if p != nil {
			if err := p.SetRequiresGrad(true); err != nil {
				return nil, err
			}
		}
		params = append(params, p)
	}
	if err := s.Err(); err != nil {
		return nil, err
	}
	opt, err := torch.NewAdam(params, torch.DefaultAdam(0.01))
	if err != nil {
		return nil, err
	}
	defer opt.Close()
	losses := make([]float64, 0, steps)
	for range steps {
		l, err := mlpStep(x, y, params, opt)
		if err != nil {
			return nil, err
		}
		losses = append(losses, l)
	}
	return losses, nil
}

// mlpStep is one training step; its temporaries live in a Scope of their own.
func mlpStep(x, y *torch.Tensor, p []*torch.Tensor, opt *torch.Optimizer) (float64, error) {
	s := torch.NewScope()
	defer s.Close()
	pred := s.Linear(s.Tanh(s.Linear(x, p[0], p[1])), p[2], p[3])
	d := s.Sub(pred, y)
	loss := s.Mean(s.Mul(d, d))
	if err := s.Err(); err != nil {
		return 0, err
	}
	if err := opt.ZeroGrad(); err != nil {
		return 0, err
	}
	if err := loss.Backward(); err != nil {
		return 0, err
	}
	if err := opt.Step(); err != nil {
		return 0, err
	}
	return loss.Item()
}

// generate greedy-decodes n tokens after prompt with a KV cache.
func generate(m *models.GPT2, prompt []int64, n int) ([]int64, error) {
	cache := m.NewCache()
	defer cache.Close()
	var out []int64
	ids := prompt
	for len(out) < n {
		next, logits, err := m.Step(ids, cache)
		if err != nil {
			return nil, err
		}
		logits.Close()
		out = append(out, next)
		ids = []int64{next}
	}
	return out, nil
}

// cudaLibraryLoaded reports whether libtorch's CUDA library is mapped into
// the process: package torch loads it at start when the libtorch has one.
func cudaLibraryLoaded() bool {
	b, err := os.ReadFile("/proc/self/maps")
	return err == nil && strings.Contains(string(b), "/libtorch_cuda.so")
}

// rssMiB is the process's resident set from /proc/self/statm.
func rssMiB() (float64, error) {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, err
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0, errors.New("rss: /proc/self/statm: unexpected contents")
	}
	pages, err := strconv.ParseFloat(f[1], 64)
	if err != nil {
		return 0, err
	}
	return pages * float64(os.Getpagesize()) / (1 << 20), nil
}
