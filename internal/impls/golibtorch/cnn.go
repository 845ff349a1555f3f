//go:build libtorch

package golibtorch

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/mlbench/mlbench/bench/worker"
	"github.com/mlbench/mlbench/data"
	"github.com/mlbench/mlbench/models"
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

// cnnParams is what a dl/cnn spec asks for.
type cnnParams struct {
	epochs, batch, seed int
	steps               int // batches per epoch (the sweeps); 0: the whole order
	lr                  float64
	mean, std           []float32
}

// readCNNParams reads and checks the spec's parameters.
func readCNNParams(c *worker.Context) (*cnnParams, error) {
	if c.Spec.Task != "dl/cnn" {
		return nil, fmt.Errorf("unknown task %q: want dl/cnn", c.Spec.Task)
	}
	sp := &cnnParams{}
	var err error
	for _, p := range []struct {
		name string
		dst  *int
	}{{"epochs", &sp.epochs}, {"batch_size", &sp.batch}, {"seed", &sp.seed}} {
		if *p.dst, err = c.Spec.Int(p.name); err != nil {
			return nil, err
		}
	}
	if sp.lr, err = c.Spec.Float("lr"); err != nil {
		return nil, err
	}
	if sp.mean, err = cnnChannelParam(c, "mean"); err != nil {
		return nil, err
	}
	if sp.std, err = cnnChannelParam(c, "std"); err != nil {
		return nil, err
	}
	if _, ok := c.Spec.Params["steps"]; ok {
		if sp.steps, err = c.Spec.Int("steps"); err != nil {
			return nil, err
		}
		if sp.steps < 1 {
			return nil, fmt.Errorf("steps = %d: want >= 1", sp.steps)
		}
	}
	if sp.epochs < 1 || sp.batch < 1 || sp.seed < 0 || !(sp.lr > 0) {
		return nil, fmt.Errorf("epochs = %d, batch_size = %d, seed = %d, lr = %v: want epochs, batch_size >= 1, seed >= 0, lr > 0",
			sp.epochs, sp.batch, sp.seed, sp.lr)
	}
	return sp, nil
}

// cnnStart sets up libtorch as cnn.py does: the device, the threads, the
// seed, cuDNN, and the clock's device synchronisation.
func cnnStart(c *worker.Context, seed int) (torch.Device, error) {
	dev, err := torch.ParseDevice(c.Spec.Device)
	if err != nil {
		return dev, err
	}
	if dev.IsCUDA() && !torch.CUDAAvailable() {
		return dev, fmt.Errorf("device %s: libtorch sees no CUDA device", dev)
	}
	if err := torch.SetNumThreads(c.Spec.Threads); err != nil {
		return dev, err
	}
	if err := torch.ManualSeed(uint64(seed)); err != nil {
		return dev, err
	}
	// As cnn.py: cudnn.benchmark off, cudnn.deterministic off (CUDA only in effect).
	if _, _, err := torch.SetCuDNN(false, false); err != nil {
		return dev, err
	}
	// As Python's result.time(sync=...): synchronise before both clock reads.
	c.Sync = func() error { return torch.Synchronize(dev) }
	return dev, nil
}

// cnnOutcome is what the repetitions leave: the last repetition's first
// step losses, last epoch's step losses and accuracy, and the timed
// repetitions' per-epoch series and images trained.
type cnnOutcome struct {
	lossSteps, steps []float64
	acc              float64
	imagesTrained    int64
	series           map[string][]float64
}

func runCNN(c *worker.Context) error {
	sp, err := readCNNParams(c)
	if err != nil {
		return err
	}
	dev, err := cnnStart(c, sp.seed)
	if err != nil {
		return err
	}
	d := &cnnData{}
	defer d.Close()
	if err := c.Time(true, "load", func() error { return cnnLoad(c, dev, sp.mean, sp.std, d) }); err != nil {
		return err
	}
	if int64(sp.epochs) > d.epochs {
		return fmt.Errorf("order has %d epochs, params ask for %d", d.epochs, sp.epochs)
	}
	if sp.steps > 0 {
		// As cnn.py's first_steps: each epoch trains on the first steps batches of its order.
		n := int64(sp.steps) * int64(sp.batch)
		if n > d.perEpoch {
			return fmt.Errorf("steps %d of batch %d: want 1 to %d samples per epoch", sp.steps, sp.batch, d.perEpoch)
		}
		d.perEpoch = n
	}
	o := &cnnOutcome{series: map[string][]float64{"epoch_loss": {}, "epoch_test_accuracy": {}}}
	if err := c.Repeat(func(_ int, timed bool) error { return cnnTrain(c, sp, d, dev, timed, o) }); err != nil {
		return err
	}
	return cnnRecord(c, sp, d, dev, o)
}

// cnnTrain is one repetition: a fresh model from the initial weights and
// Adam, then per epoch the timed train_epoch and eval phases.
func cnnTrain(c *worker.Context, sp *cnnParams, d *cnnData, dev torch.Device, timed bool, o *cnnOutcome) error {
	net, err := models.NewCNN(d.init, dev) // every repetition trains from the same weights
	if err != nil {
		return err
	}
	defer net.Close()
	opt, err := torch.NewAdam(net.Params, torch.DefaultAdam(sp.lr))
	if err != nil {
		return err
	}
	defer opt.Close()
	for e := int64(0); e < int64(sp.epochs); e++ {
		var losses []*torch.Tensor
		err := c.Time(timed, "train_epoch", func() (err error) {
			losses, err = cnnTrainEpoch(net, opt, d, e, int64(sp.batch))
			return err
		})
		if err == nil {
			err = c.Time(timed, "eval", func() (err error) {
				o.acc, err = cnnAccuracy(net, d.testX, d.testY, d.nTest)
				return err
			})
		}
		if err == nil {
			o.steps, err = cnnLossValues(losses) // one device-to-host copy, as torch.stack(losses).tolist()
		}
		cnnCloseAll(losses)
		if err != nil {
			return err
		}
		if e == 0 {
			o.lossSteps = slices.Clone(o.steps[:min(cnnProbeSteps, len(o.steps))])
		}
		if timed {
			o.imagesTrained += d.perEpoch
			o.series["epoch_loss"] = append(o.series["epoch_loss"], cnnMean(o.steps))
			o.series["epoch_test_accuracy"] = append(o.series["epoch_test_accuracy"], o.acc)
		}
	}
	return nil
}

// cnnRecord writes the metrics, series, probes, parameters and notes.
func cnnRecord(c *worker.Context, sp *cnnParams, d *cnnData, dev torch.Device, o *cnnOutcome) error {
	epochs, batch, lr, seed := sp.epochs, sp.batch, sp.lr, sp.seed
	acc, steps, imagesTrained, series, lossSteps := o.acc, o.steps, o.imagesTrained, o.series, o.lossSteps
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
	c.SetParams(map[string]any{
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

// cnnTrainEpoch is one pass over order[e] in consecutive batches; it returns
// the detached loss of each step (owned by the caller).
func cnnTrainEpoch(net *models.CNN, opt *torch.Optimizer, d *cnnData, e, batch int64) ([]*torch.Tensor, error) {
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
		logits := net.Forward(st, st.IndexSelect(d.trainX, 0, idx))
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
func cnnAccuracy(net *models.CNN, x, y *torch.Tensor, n int64) (acc float64, err error) {
	var correct int64
	torch.NoGrad(func() {
		for i := int64(0); i < n && err == nil; i += cnnEvalBatch {
			s := torch.NewScope()
			b := min(cnnEvalBatch, n-i)
			pred := s.ArgMax(net.Forward(s, s.Narrow(x, 0, i, b)), 1, false)
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
	if d.trainY, trainY, err = cnnLoadInt64s(path("train_y"), dev, 0); err != nil {
		return err
	}
	if d.testY, testY, err = cnnLoadInt64s(path("test_y"), dev, 0); err != nil {
		return err
	}
	if d.order, order, err = cnnLoadInt64s(path("order"), dev, d.nTrain); err != nil {
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
	return models.CheckCNNInit(path("init"), d.init)
}

// cnnLoadImages streams a uint8 [N,3,32,32] .npy into a float32 tensor on dev,
// each chunk (x/255 - mean)/std: the ops of cnn.py, which are elementwise, so
// the values do not depend on the chunking.
func cnnLoadImages(path string, dev torch.Device, mean, std *torch.Tensor) (*torch.Tensor, int64, error) {
	f, err := openNPY(path, "|u1")
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	shape := f.Shape
	if len(shape) != 4 || shape[1] != 3 || shape[2] != 32 || shape[3] != 32 {
		return nil, 0, fmt.Errorf("%s: shape %v, want [N,3,32,32]", path, shape)
	}
	n := int64(shape[0])
	out, err := torch.Zeros([]int64{n, 3, 32, 32}, torch.Float32, dev)
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
func cnnLoadInt64s(path string, dev torch.Device, rows int64) (*torch.Tensor, []int64, error) {
	f, err := openNPY(path, "<i8")
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	shape := make([]int64, len(f.Shape))
	for i, d := range f.Shape {
		shape[i] = int64(d)
	}
	raw := make([]byte, f.DataBytes())
	if _, err := io.ReadFull(f, raw); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	if rows > 0 {
		if err := cnnCheckRows(path, raw, rows); err != nil {
			return nil, nil, err
		}
	}
	cpu, err := torch.FromBytes(raw, torch.Int64, shape)
	if err != nil {
		return nil, nil, err
	}
	defer cpu.Close()
	t, err := cpu.To(dev)
	return t, shape, err
}

// cnnCheckRows checks that every little-endian int64 of raw is a row index in
// [0, rows): index_select would fail deep in libtorch on one out of range,
// and a negative one would not mean what the reference means.
func cnnCheckRows(path string, raw []byte, rows int64) error {
	for i := 0; i+8 <= len(raw); i += 8 {
		if v := int64(binary.LittleEndian.Uint64(raw[i:])); v < 0 || v >= rows {
			return fmt.Errorf("%s: index %d out of range [0, %d)", path, v, rows)
		}
	}
	return nil
}

// openNPY opens a .npy file of dtype positioned at its data.
func openNPY(path, dtype string) (*data.NPYFile, error) {
	f, err := data.OpenNPY(path)
	if err != nil {
		return nil, err
	}
	if f.DType != dtype {
		f.Close()
		return nil, fmt.Errorf("%s: dtype %s, want %s", path, f.DType, dtype)
	}
	return f, nil
}
