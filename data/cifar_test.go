package data

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/mlbench/mlbench/internal/testenv"
	"github.com/stretchr/testify/require"
)

const cifarURL = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"

// smallCIFAR switches to 20 records per batch for the test.
func smallCIFAR(t *testing.T) {
	old := cifarShape
	cifarShape = cifarLayout{perBatch: 20, quick: 10}
	t.Cleanup(func() { cifarShape = old })
}

// cifarBatch makes a batch whose record i of batch k has label (i+k)%10
// and pixels byte(k*31+i+j).
func cifarBatch(k, n int) []byte {
	b := make([]byte, 0, n*cifarRecord)
	for i := 0; i < n; i++ {
		b = append(b, byte((i+k)%10))
		for j := 0; j < cifarPixels; j++ {
			b = append(b, byte(k*31+i+j))
		}
	}
	return b
}

func cifarEntries(n int) []tarEntry {
	es := []tarEntry{{name: "cifar-10-batches-bin/", typeflag: '5'},
		{name: "cifar-10-batches-bin/batches.meta.txt", body: []byte("airplane\n")}}
	// test batch first: the order in the archive must not matter.
	es = append(es, tarEntry{name: "cifar-10-batches-bin/test_batch.bin", body: cifarBatch(5, n)})
	for k := 4; k >= 0; k-- {
		es = append(es, tarEntry{name: fmt.Sprintf("cifar-10-batches-bin/data_batch_%d.bin", k+1), body: cifarBatch(k, n)})
	}
	return append(es, tarEntry{name: "cifar-10-batches-bin/readme.html", body: []byte("<html>")})
}

func cifarMirror(t *testing.T, body []byte) string {
	return newMirror(t, mirrorFile{dataset: "cifar10", file: "cifar10/c.tar.gz", url: cifarURL, body: body})
}

func TestCIFARSynthetic(t *testing.T) {
	smallCIFAR(t)
	root := t.TempDir()
	require.NoError(t, Prepare([]string{"cifar10"}, Options{Root: root, Mirror: cifarMirror(t, makeTarGz(t, cifarEntries(20)))}))
	dir := filepath.Join(root, "cifar10")
	tx := readNPY(t, filepath.Join(dir, "train_x.npy"))
	ty := readNPY(t, filepath.Join(dir, "train_y.npy"))
	ex := readNPY(t, filepath.Join(dir, "test_x.npy"))
	ey := readNPY(t, filepath.Join(dir, "test_y.npy"))
	require.Equal(t, []int{100, 3, 32, 32}, tx.Shape)
	require.Equal(t, "|u1", tx.DType)
	require.Equal(t, []int{20, 3, 32, 32}, ex.Shape)
	require.Equal(t, "<i8", ty.DType)
	for k := 0; k < 5; k++ {
		for _, i := range []int{0, 7, 19} {
			row := k*20 + i
			require.Equal(t, float64((i+k)%10), ty.Data[row])
			require.Equal(t, float64(byte(k*31+i+100)), tx.Data[row*cifarPixels+100])
		}
	}
	require.Equal(t, float64(byte(5*31+3+9)), ex.Data[3*cifarPixels+9])
	require.Equal(t, float64((3+5)%10), ey.Data[3])

	of := readNPY(t, filepath.Join(dir, "order_full.npy"))
	require.Equal(t, []int{10, 100}, of.Shape)
	for e := 0; e < 10; e++ {
		p := slices.Clone(of.Ints()[e*100 : (e+1)*100])
		slices.Sort(p)
		for i, v := range p {
			require.Equal(t, i, v)
		}
	}
	require.NotEqual(t, of.Data[:100], of.Data[100:200], "a new permutation each epoch")
	oq := readNPY(t, filepath.Join(dir, "order_quick.npy"))
	require.Equal(t, []int{1, 10}, oq.Shape)
	classes := map[int]bool{}
	for _, i := range oq.Ints() {
		classes[int(ty.Data[i])] = true
	}
	require.Len(t, classes, 10, "balanced quick subset")

	ts, md, err := ReadSafetensors(filepath.Join(dir, "init.safetensors"))
	require.NoError(t, err)
	require.Len(t, ts, 8)
	require.Equal(t, "pt", md["format"])
	m := readMetaT(t, dir)
	require.Equal(t, false, m["official"])
	require.Contains(t, m["source"], "official "+cifarURL)
}

func TestCIFARBadArchives(t *testing.T) {
	smallCIFAR(t)
	short := cifarEntries(20)
	short[3].body = short[3].body[:len(short[3].body)-1] // data_batch_5 one byte short
	missing := slices.Clone(cifarEntries(20)[:len(cifarEntries(20))-2])
	extra := append(cifarEntries(20), tarEntry{name: "cifar-10-batches-bin/evil.sh", body: []byte("x")})
	badLabel := cifarEntries(20)
	badLabel[4].body = slices.Clone(badLabel[4].body)
	badLabel[4].body[cifarRecord] = 10
	good := makeTarGz(t, cifarEntries(20))
	cases := map[string]struct {
		body []byte
		want string
	}{
		"truncated batch":   {makeTarGz(t, short), "cifar-10-batches-bin/data_batch_5.bin: 61459 bytes, want 61460"},
		"missing batch":     {makeTarGz(t, missing), "archive lacks cifar-10-batches-bin/data_batch_1.bin"},
		"unexpected member": {makeTarGz(t, extra), `unexpected archive member "cifar-10-batches-bin/evil.sh"`},
		"bad label":         {makeTarGz(t, badLabel), "record 1 has label 10"},
		"truncated tar.gz":  {good[:len(good)*2/3], "truncated"},
		"corrupt gzip":      {append([]byte("garbage"), good...), "corrupt gzip"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			err := Prepare([]string{"cifar10"}, Options{Root: root, Mirror: cifarMirror(t, c.body)})
			require.Error(t, err)
			require.Contains(t, err.Error(), c.want)
			require.Contains(t, err.Error(), "cifar10: cifar-10-binary.tar.gz")
			require.NotContains(t, err.Error(), "\n")
			requireNotPrepared(t, root, "cifar10")
		})
	}
}

func TestCIFARRealMirror(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	testenv.MirrorFile(t, "cifar10/cifar-10-binary.tar.gz")
	realMirror := testenv.Mirror(t)
	root := t.TempDir()
	require.NoError(t, Prepare([]string{"cifar10"}, Options{Root: root, Mirror: realMirror}))
	dir := filepath.Join(root, "cifar10")
	for name, size := range map[string]int64{
		"train_x.npy": 128 + 50000*3072, "test_x.npy": 128 + 10000*3072, "train_y.npy": 128 + 50000*8,
		"test_y.npy": 128 + 10000*8, "order_full.npy": 128 + 10*50000*8, "order_quick.npy": 128 + 5000*8,
	} {
		st, err := os.Stat(filepath.Join(dir, name))
		require.NoError(t, err)
		require.Equal(t, size, st.Size(), name)
	}
	ty := readNPY(t, filepath.Join(dir, "train_y.npy"))
	count := make([]int, 10)
	for _, v := range ty.Data {
		count[int(v)]++
	}
	require.Equal(t, []int{5000, 5000, 5000, 5000, 5000, 5000, 5000, 5000, 5000, 5000}, count)
	m := readMetaT(t, dir)
	require.Equal(t, "f0e9e2467c90f193bc5058d8448c85227bab7ec8e7148b3fdf24b8b21f1e6f14", m["sha256"])
	require.Equal(t, false, m["official"])
}
