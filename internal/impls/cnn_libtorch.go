//go:build libtorch

package impls

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/mlbench/mlbench/bench/worker"
	"github.com/mlbench/mlbench/torch"
)

// go-libtorch for dl/cnn: the seed CNN trained through package torch, the
// same libtorch kernels as python-pytorch (reference/python/cnn.py), the same
// work in the same order: load, then per epoch train_epoch and eval.

func init() {
	worker.Register("dl/cnn", cnnInfo, runCNN)
}

var cnnInfo = worker.Info{Impl: "go-libtorch", Framework: "libtorch", FrameworkVersion: torch.Version()}

const (
	cnnEvalBatch  = 1000 // test-set batch of the accuracy after each epoch
	cnnProbeSteps = 10   // losses in the loss_steps probe
	cnnImageBytes = 3 * 32 * 32
	cnnLoadChunk  = 256 // images normalised per libtorch call in load: 3 MB of float32, cache-sized, reused by malloc
)

// cnnParams are the seed CNN's parameters: PyTorch names and shapes, in the
// order given to Adam (Net.parameters() order).
var cnnParams = []struct {
	name  string
	shape []int64
}{
	{"conv1.weight", []int64{32, 3, 3, 3}}, {"conv1.bias", []int64{32}},
	{"conv2.weight", []int64{64, 32, 3, 3}}, {"conv2.bias", []int64{64}},
	{"fc1.weight", []int64{512, 4096}}, {"fc1.bias", []int64{512}},
	{"fc2.weight", []int64{10, 512}}, {"fc2.bias", []int64{10}},
}

// cnnNet is the model: its parameters, in cnnParams order.
type cnnNet struct{ p []*torch.Tensor }

// forward is Net.forward of cnn.py: conv1-relu-maxpool2-conv2-relu-maxpool2-
// flatten-fc1-relu-fc2, giving the logits. Each intermediate handle is closed
// as soon as the next op has used it, as Python's reference counting frees
// it (autograd keeps what backward needs), so the memory held at once is
// the same; the Scope keeps the result.
func (n *cnnNet) forward(s *torch.Scope, x *torch.Tensor) *torch.Tensor {
	p, h := n.p, x
	then := func(next *torch.Tensor) {
		if h != x {
			h.Close()
		}
		h = next
	}
	then(s.Conv2d(h, p[0], p[1], 1, 1))
	then(s.ReLU(h))
	then(s.MaxPool2d(h, 2, 0))
	then(s.Conv2d(h, p[2], p[3], 1, 1))
	then(s.ReLU(h))
	then(s.MaxPool2d(h, 2, 0))
	then(s.Flatten(h))
	then(s.Linear(h, p[4], p[5]))
	then(s.ReLU(h))
	then(s.Linear(h, p[6], p[7]))
	return h
}

func (n *cnnNet) Close() error {
	for _, t := range n.p {
		t.Close()
	}
	return nil
}

// cnnData is what load leaves on the device.
type cnnData struct {
	trainX, trainY, testX, testY, order *torch.Tensor
	nTrain, nTest, epochs, perEpoch     int64
	init                                map[string]*torch.Tensor // on the CPU, as read
}

func (d *cnnData) Close() {
	for _, t := range []*torch.Tensor{d.trainX, d.trainY, d.testX, d.testY, d.order} {
		t.Close()
	}
	torch.CloseAll(d.init)
}

func runCNN(c *worker.Context) error {
	if c.Spec.Task != "dl/cnn" {
		return fmt.Errorf("unknown task %q: want dl/cnn", c.Spec.Task)
	}
	var epochs, batch, seed int
	var err error
	for _, p := range []struct {
		name string
		dst  *int
	}{{"epochs", &epochs}, {"batch_size", &batch}, {"seed", &seed}} {
		if *p.dst, err = c.Spec.Int(p.name); err != nil {
			return err
		}
	}
	lr, err := c.Spec.Float("lr")
	if err != nil {
		return err
	}
	mean, err := cnnChannelParam(c, "mean")
	if err != nil {
		return err
	}
	std, err := cnnChannelParam(c, "std")
	if err != nil {
		return err
	}
	if epochs < 1 || batch < 1 || seed < 0 || !(lr > 0) {
		return fmt.Errorf("epochs = %d, batch_size = %d, seed = %d, lr = %v: want epochs, batch_size >= 1, seed >= 0, lr > 0",
			epochs, batch, seed, lr)
	}
	dev, err := torch.ParseDevice(c.Spec.Device)
	if err != nil {
		return err
	}
	if dev.IsCUDA() && !torch.CUDAAvailable() {
		return fmt.Errorf("device %s: libtorch sees no CUDA device", dev)
	}
	if err := torch.SetNumThreads(c.Spec.Threads); err != nil {
		return err
	}
	if err := torch.ManualSeed(uint64(seed)); err != nil {
		return err
	}
	// As cnn.py: cudnn.benchmark off, cudnn.deterministic off (CUDA only in effect).
	if _, _, err := torch.SetCuDNN(false, false); err != nil {
		return err
	}
	// As Python's result.time(sync=...): synchronise before both clock reads.
	timePhase := func(timed bool, phase string, fn func() error) error {
		if err := torch.Synchronize(dev); err != nil {
			return err
		}
		return c.Time(timed, phase, func() error {
			if err := fn(); err != nil {
				return err
			}
			return torch.Synchronize(dev)
		})
	}

	d := &cnnData{}
	defer d.Close()
	if err := timePhase(true, "load", func() error { return cnnLoad(c, dev, mean, std, d) }); err != nil {
		return err
	}
	if int64(epochs) > d.epochs {
		return fmt.Errorf("order has %d epochs, params ask for %d", d.epochs, epochs)
	}

	var (
		lossSteps, steps []float64
		acc              float64
		imagesTrained    int64
		series           = map[string][]float64{"epoch_loss": {}, "epoch_test_accuracy": {}}
	)
	err = c.Repeat(func(_ int, timed bool) error {
		net, err := cnnNew(d.init, dev) // every repetition trains from the same weights
		if err != nil {
			return err
		}
		defer net.Close()
		opt, err := torch.NewAdam(net.p, torch.DefaultAdam(lr))
		if err != nil {
			return err
		}
		defer opt.Close()
		for e := int64(0); e < int64(epochs); e++ {
			var losses []*torch.Tensor
			err := timePhase(timed, "train_epoch", func() (err error) {
				losses, err = cnnTrainEpoch(net, opt, d, e, int64(batch))
				return err
			})
			if err == nil {
				err = timePhase(timed, "eval", func() (err error) {
					acc, err = cnnAccuracy(net, d.testX, d.testY, d.nTest)
					return err
				})
			}
			if err == nil {
				steps, err = cnnLossValues(losses) // one device-to-host copy, as torch.stack(losses).tolist()
			}
			cnnCloseAll(losses)
			if err != nil {
				return err
			}
			if e == 0 {
				lossSteps = slices.Clone(steps[:min(cnnProbeSteps, len(steps))])
			}
			if timed {
				imagesTrained += d.perEpoch
				series["epoch_loss"] = append(series["epoch_loss"], cnnMean(steps))
				series["epoch_test_accuracy"] = append(series["epoch_test_accuracy"], acc)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}

	trainS := 0.0
	for _, s := range c.Result.Phases["train_epoch"] {
		trainS += s
	}
	c.Result.Metrics["test_accuracy"] = acc
	c.Result.Metrics["final_loss"] = cnnMean(steps)
	c.Result.Metrics["images_per_s"] = float64(imagesTrained) / trainS
	c.Result.Series = series
	c.Result.Probes["loss_steps"] = lossSteps
	adam := torch.DefaultAdam(lr)
	setParams(c, map[string]any{
		"epochs": epochs, "batch_size": batch, "lr": lr, "seed": seed, "optimizer": "adam",
		"betas": []float64{adam.Beta1, adam.Beta2}, "eps": adam.Eps, "weight_decay": adam.WeightDecay, "amsgrad": false,
		"loss": "cross_entropy_mean", "eval_batch_size": cnnEvalBatch, "samples_per_epoch": d.perEpoch,
		"cudnn_benchmark": false, "cudnn_deterministic": false,
		"intra_op_threads": torch.NumThreads(),
	})
	c.Result.Notes = append(c.Result.Notes,
		fmt.Sprintf("package torch (cgo over the libtorch %s of the torch wheel), float32, NCHW; at::set_num_threads(%d), "+
			"at::manual_seed(%d); one cgo call per op, each step's temporaries freed by a torch.Scope", torch.Version(), c.Spec.Threads, seed),
		"load: the image files streamed in chunks of 256 images into one float32 tensor on the device, each chunk "+
			"x/255 then (x - mean) / std per channel by the same libtorch ops as cnn.py (bit-identical values); train_epoch: "+
			"batch gather index_select(x, 0, order[e][i:i+batch]), zero_grad, forward, cross_entropy (mean), backward, "+
			"torch::optim::Adam step (PyTorch defaults but lr; libtorch's C++ Adam, whose update matches "+
			"torch.optim.Adam's single-tensor path up to rounding)",
		"loss_steps[k-1] = the loss computed in the forward pass of batch k of epoch 0, before its optimizer step "+
			"(k = 1..10), of the last repetition; epoch_loss = mean of the epoch's step losses, read from the device once "+
			"per epoch outside the timers",
		fmt.Sprintf("eval: after every epoch, the whole test set under NoGrad in batches of %d", cnnEvalBatch))
	if dev.IsCUDA() {
		c.Result.Notes = append(c.Result.Notes, fmt.Sprintf("CUDA device %s; torch.Synchronize before every clock read; "+
			"cuDNN benchmark off, deterministic off (torch.SetCuDNN, as cnn.py), TF32 as read back (params)", dev))
		return torch.AddCUDAMath(c.Result.Params)
	}
	return nil
}

// cnnChannelParam is a parameter of three numbers (per-channel mean or std).
func cnnChannelParam(c *worker.Context, name string) ([]float32, error) {
	v, ok := c.Spec.Params[name].([]any)
	if !ok || len(v) != 3 {
		return nil, fmt.Errorf("spec: parameter %q must be 3 numbers", name)
	}
	out := make([]float32, 3)
	for i, x := range v {
		f, ok := x.(float64)
		if !ok {
			return nil, fmt.Errorf("spec: parameter %q must be 3 numbers", name)
		}
		out[i] = float32(f)
	}
	return out, nil
}

// cnnNew makes the model's parameters on dev: fresh leaf copies of the
// initial weights that require grad.
func cnnNew(init map[string]*torch.Tensor, dev torch.Device) (*cnnNet, error) {
	n := &cnnNet{}
	for _, p := range cnnParams {
		on, err := init[p.name].To(dev)
		if err != nil {
			n.Close()
			return nil, err
		}
		t, err := on.Clone() // on the CPU, To is the same tensor: the weights must stay as read
		on.Close()
		if err == nil {
			err = t.SetRequiresGrad(true)
		}
		if err != nil {
			t.Close()
			n.Close()
			return nil, err
		}
		n.p = append(n.p, t)
	}
	return n, nil
}

// cnnTrainEpoch is one pass over order[e] in consecutive batches; it returns
// the detached loss of each step (owned by the caller).
func cnnTrainEpoch(net *cnnNet, opt *torch.Optimizer, d *cnnData, e, batch int64) ([]*torch.Tensor, error) {
	losses := make([]*torch.Tensor, 0, (d.perEpoch+batch-1)/batch)
	fail := func(err error) ([]*torch.Tensor, error) {
		cnnCloseAll(losses)
		return nil, err
	}
	s := torch.NewScope()
	defer s.Close()
	row := s.Reshape(s.Narrow(d.order, 0, e, 1), -1) // order[e]
	if err := s.Err(); err != nil {
		return fail(err)
	}
	for i := int64(0); i < d.perEpoch; i += batch {
		st := torch.NewScope()
		idx := st.Narrow(row, 0, i, min(batch, d.perEpoch-i))
		if err := opt.ZeroGrad(); err != nil {
			st.Close()
			return fail(err)
		}
		logits := net.forward(st, st.IndexSelect(d.trainX, 0, idx))
		loss := st.CrossEntropy(logits, st.IndexSelect(d.trainY, 0, idx))
		err := st.Err()
		if err == nil {
			err = loss.Backward()
		}
		if err == nil {
			err = opt.Step()
		}
		var l *torch.Tensor
		if err == nil {
			l, err = loss.Detach()
		}
		st.Close()
		if err != nil {
			return fail(err)
		}
		losses = append(losses, l)
	}
	return losses, nil
}

// accuracy is the share of the test set whose arg-max logit is its label,
// in batches of cnnEvalBatch under NoGrad; one Item (a sync) per batch, as
// cnn.py's .sum().item().
func cnnAccuracy(net *cnnNet, x, y *torch.Tensor, n int64) (acc float64, err error) {
	var correct int64
	torch.NoGrad(func() {
		for i := int64(0); i < n && err == nil; i += cnnEvalBatch {
			s := torch.NewScope()
			b := min(cnnEvalBatch, n-i)
			pred := s.ArgMax(net.forward(s, s.Narrow(x, 0, i, b)), 1, false)
			sum := s.Sum(s.Eq(pred, s.Narrow(y, 0, i, b)))
			if err = s.Err(); err == nil {
				var v float64
				v, err = sum.Item()
				correct += int64(v)
			}
			s.Close()
		}
	})
	return float64(correct) / float64(n), err
}

// cnnLossValues copies the 0-dim step losses to the host in one transfer.
func cnnLossValues(losses []*torch.Tensor) ([]float64, error) {
	if len(losses) == 0 {
		return nil, errors.New("an epoch without steps")
	}
	s := torch.NewScope()
	defer s.Close()
	views := make([]*torch.Tensor, len(losses))
	for i, l := range losses {
		views[i] = s.View(l, 1)
	}
	all := s.Cat(views, 0)
	if err := s.Err(); err != nil {
		return nil, err
	}
	f32, err := all.Float32s()
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(f32))
	for i, v := range f32 {
		out[i] = float64(v)
	}
	return out, nil
}

func cnnCloseAll(ts []*torch.Tensor) {
	for _, t := range ts {
		t.Close()
	}
}

// cnnMean is sum(v)/len(v), summed in order as Python's sum().
func cnnMean(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// ---- load ----

// cnnLoad reads the inputs onto dev: the normalised images, the labels, the
// batch order, and the initial weights (checked against the model).
func cnnLoad(c *worker.Context, dev torch.Device, mean, std []float32, d *cnnData) error {
	path := func(name string) string { p, _ := c.Spec.Input(name); return p }
	for _, name := range []string{"train_x", "train_y", "test_x", "test_y", "order", "init"} {
		if _, err := c.Spec.Input(name); err != nil {
			return err
		}
	}
	m, err := torch.FromFloat32s(mean, 1, 3, 1, 1)
	if err != nil {
		return err
	}
	defer m.Close()
	sd, err := torch.FromFloat32s(std, 1, 3, 1, 1)
	if err != nil {
		return err
	}
	defer sd.Close()
	mDev, err := m.To(dev)
	if err != nil {
		return err
	}
	defer mDev.Close()
	sdDev, err := sd.To(dev)
	if err != nil {
		return err
	}
	defer sdDev.Close()

	if d.trainX, d.nTrain, err = cnnLoadImages(path("train_x"), dev, mDev, sdDev); err != nil {
		return err
	}
	if d.testX, d.nTest, err = cnnLoadImages(path("test_x"), dev, mDev, sdDev); err != nil {
		return err
	}
	var trainY, testY, order []int64
	if d.trainY, trainY, err = cnnLoadInt64s(path("train_y"), dev); err != nil {
		return err
	}
	if d.testY, testY, err = cnnLoadInt64s(path("test_y"), dev); err != nil {
		return err
	}
	if d.order, order, err = cnnLoadInt64s(path("order"), dev); err != nil {
		return err
	}
	if len(trainY) != 1 || trainY[0] != d.nTrain || len(testY) != 1 || testY[0] != d.nTest {
		return fmt.Errorf("labels of shape %v and %v for %d and %d images", trainY, testY, d.nTrain, d.nTest)
	}
	if len(order) != 2 || order[1] == 0 {
		return fmt.Errorf("order has shape %v: want [epochs, samples]", order)
	}
	d.epochs, d.perEpoch = order[0], order[1]
	if d.init, err = torch.LoadSafetensors(path("init")); err != nil {
		return err
	}
	return cnnCheckInit(path("init"), d.init)
}

// cnnCheckInit requires exactly the model's names and shapes, as cnn.py's
// load_state_dict(strict=True).
func cnnCheckInit(path string, init map[string]*torch.Tensor) error {
	if len(init) != len(cnnParams) {
		return fmt.Errorf("%s: %d tensors, want the %d of the model", path, len(init), len(cnnParams))
	}
	for _, p := range cnnParams {
		t, ok := init[p.name]
		if !ok {
			return fmt.Errorf("%s: missing %s", path, p.name)
		}
		i, err := t.Info()
		if err != nil {
			return err
		}
		if !slices.Equal(i.Shape, p.shape) || i.DType != torch.Float32 {
			return fmt.Errorf("%s: %s is %v %v, want %v float32", path, p.name, i.DType, i.Shape, p.shape)
		}
	}
	return nil
}

// cnnLoadImages streams a uint8 [N,3,32,32] .npy into a float32 tensor on dev,
// each chunk (x/255 - mean)/std: the ops of cnn.py, which are elementwise, so
// the values do not depend on the chunking.
func cnnLoadImages(path string, dev torch.Device, mean, std *torch.Tensor) (*torch.Tensor, int64, error) {
	f, shape, err := cnnOpenNPY(path, "|u1")
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	if len(shape) != 4 || shape[1] != 3 || shape[2] != 32 || shape[3] != 32 {
		return nil, 0, fmt.Errorf("%s: shape %v, want [N,3,32,32]", path, shape)
	}
	n := shape[0]
	out, err := torch.Zeros(shape, torch.Float32, dev)
	if err != nil {
		return nil, 0, err
	}
	buf := make([]byte, cnnLoadChunk*cnnImageBytes)
	for i := int64(0); i < n; i += cnnLoadChunk {
		b := min(cnnLoadChunk, n-i)
		chunk := buf[:b*cnnImageBytes]
		if _, err := io.ReadFull(f, chunk); err != nil {
			out.Close()
			return nil, 0, fmt.Errorf("%s: %w", path, err)
		}
		s := torch.NewScope()
		u8 := s.Keep(torch.FromBytes(chunk, torch.Uint8, []int64{b, 3, 32, 32}))
		x := s.Div(s.Sub(s.DivScalar(s.Keep(s.To(u8, dev).ToDType(torch.Float32)), 255), mean), std)
		dst := s.Narrow(out, 0, i, b)
		err := s.Err()
		if err == nil {
			err = dst.CopyFrom(x)
		}
		s.Close()
		if err != nil {
			out.Close()
			return nil, 0, err
		}
	}
	return out, n, nil
}

// cnnLoadInt64s reads an int64 .npy onto dev; it returns the tensor and the
// array's shape.
func cnnLoadInt64s(path string, dev torch.Device) (*torch.Tensor, []int64, error) {
	f, shape, err := cnnOpenNPY(path, "<i8")
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	raw, err := io.ReadAll(f)
	if err != nil {
		return nil, nil, err
	}
	cpu, err := torch.FromBytes(raw, torch.Int64, shape)
	if err != nil {
		return nil, nil, err
	}
	defer cpu.Close()
	t, err := cpu.To(dev)
	return t, shape, err
}

// cnnOpenNPY opens a .npy file (format 1-3, C order) of dtype descr, checks that
// the file holds exactly its data, and returns it positioned at the data
// with the array's shape.
func cnnOpenNPY(path, descr string) (io.ReadCloser, []int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	shape, err := cnnNPYHeader(f, descr)
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, shape, nil
}

func cnnNPYHeader(f *os.File, descr string) ([]int64, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	r := bufio.NewReader(io.LimitReader(f, 1<<16))
	pre := make([]byte, 8)
	if _, err := io.ReadFull(r, pre); err != nil || string(pre[:6]) != "\x93NUMPY" {
		return nil, errors.New("not a .npy file")
	}
	lenBytes := 2
	if pre[6] >= 2 {
		lenBytes = 4
	}
	lb := make([]byte, 4)
	if _, err := io.ReadFull(r, lb[:lenBytes]); err != nil {
		return nil, errors.New("truncated .npy header")
	}
	hlen := int64(binary.LittleEndian.Uint32(lb))
	h := make([]byte, hlen)
	if _, err := io.ReadFull(r, h); err != nil {
		return nil, errors.New("truncated .npy header")
	}
	hs := string(h)
	field := func(key string) string {
		i := strings.Index(hs, "'"+key+"':")
		if i < 0 {
			return ""
		}
		return strings.TrimSpace(hs[i+len(key)+3:])
	}
	if d := field("descr"); !strings.HasPrefix(d, "'"+descr+"'") &&
		!(descr == "|u1" && strings.HasPrefix(d, "'<u1'")) {
		return nil, fmt.Errorf("dtype %s, want %s", strings.SplitN(d, ",", 2)[0], descr)
	}
	if !strings.HasPrefix(field("fortran_order"), "False") {
		return nil, errors.New("not a C-order array")
	}
	sh := field("shape")
	end := strings.IndexByte(sh, ')')
	if !strings.HasPrefix(sh, "(") || end < 0 {
		return nil, errors.New("bad shape in .npy header")
	}
	shape := []int64{}
	numel := int64(1)
	for _, s := range strings.Split(sh[1:end], ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil || v < 0 {
			return nil, fmt.Errorf("bad shape %s in .npy header", sh[:end+1])
		}
		shape = append(shape, v)
		numel *= v
	}
	start := int64(8+lenBytes) + hlen
	size := map[string]int64{"|u1": 1, "<i8": 8}[descr]
	if fi.Size()-start != numel*size {
		return nil, fmt.Errorf("%d data bytes for shape %v of %s", fi.Size()-start, shape, descr)
	}
	_, err = f.Seek(start, io.SeekStart)
	return shape, err
}
