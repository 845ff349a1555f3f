package arch

// Layer is a convolution (Kernel > 0) or a fully connected layer
// (Kernel == 0) of a CNN.
type Layer struct {
	Name         string
	In, Out      int // channels, or features
	Kernel       int // square kernel side; 0 for a linear layer
	OutH, OutW   int // output size of a convolution (stride 1, same padding: the input's)
	FirstOfModel bool
}

// WeightShape is the layer's weight shape as PyTorch stores it.
func (l Layer) WeightShape() []int64 {
	if l.Kernel == 0 {
		return []int64{int64(l.Out), int64(l.In)}
	}
	return []int64{int64(l.Out), int64(l.In), int64(l.Kernel), int64(l.Kernel)}
}

// MACs are the layer's multiply-adds for one image.
func (l Layer) MACs() float64 {
	m := float64(l.In) * float64(l.Out)
	if l.Kernel > 0 {
		m *= float64(l.Kernel*l.Kernel) * float64(l.OutH*l.OutW)
	}
	return m
}

// SeedCNN is dl/cnn's model (reference/python/cnn.py's Net, models.CNN) on
// 32x32x3 CIFAR-10 images: conv 3->32 at 32x32, 2x2 max-pool, conv 32->64
// at 16x16, 2x2 max-pool, linear 4096->512, linear 512->10.
var SeedCNN = []Layer{
	{Name: "conv1", In: 3, Out: 32, Kernel: 3, OutH: 32, OutW: 32, FirstOfModel: true},
	{Name: "conv2", In: 32, Out: 64, Kernel: 3, OutH: 16, OutW: 16},
	{Name: "fc1", In: 64 * 8 * 8, Out: 512},
	{Name: "fc2", In: 512, Out: 10},
}

// TrainFLOPPerImage counts one training step's forward and backward FLOPs
// per image: the forward pass (2 FLOP per multiply-add), the gradient of
// each weight (as much again) and the gradient of each layer's input (as
// much again, except for the first layer, whose input is the data).
func TrainFLOPPerImage(layers []Layer) float64 {
	var f float64
	for _, l := range layers {
		passes := 3.0
		if l.FirstOfModel {
			passes = 2
		}
		f += passes * 2 * l.MACs()
	}
	return f
}
