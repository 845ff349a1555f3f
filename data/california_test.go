package data

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mlbench/mlbench/internal/dirlock"
	"github.com/mlbench/mlbench/internal/testenv"
	"github.com/stretchr/testify/require"
)

func calRows(n int) []byte {
	var b strings.Builder
	b.WriteString("-122.230000,37.880000,41.000000,880.000000,129.000000,322.000000,126.000000,8.325200,452600.000000\n")
	for i := 1; i < n; i++ {
		fmt.Fprintf(&b, "-121.%06d,36.5,%d.000000,%d.000000,%d.000000,%d.000000,%d.000000,%d.5,%d00.000000\n",
			i, 10+i, 1000+i, 200+i, 500+i, 100+i, i%9, 1000+i)
	}
	return []byte(b.String())
}

func calTgz(t testing.TB, extra ...tarEntry) []byte {
	es := []tarEntry{
		{name: "CaliforniaHousing/", typeflag: '5'},
		{name: "CaliforniaHousing/cal_housing.data", body: calRows(10)},
		{name: "CaliforniaHousing/cal_housing.domain", body: []byte("longitude: continuous.\n")},
	}
	return makeTarGz(t, append(es, extra...))
}

func checkCalRow0(t *testing.T, dir string) {
	X := readNPY(t, filepath.Join(dir, "X.npy"))
	y := readNPY(t, filepath.Join(dir, "y.npy"))
	require.Equal(t, []float64{8.3252, 41, 6.984126984126984, 1.0238095238095237, 322, 2.5555555555555554, 37.88, -122.23}, X.Data[:8])
	require.Equal(t, 4.526, y.Data[0])
	require.Equal(t, "<f8", X.DType)
}

func TestCaliforniaGoldenMirror(t *testing.T) {
	testenv.MirrorFile(t, "california_housing/cal_housing.tgz")
	realMirror := testenv.Mirror(t)
	root := t.TempDir()
	var log bytes.Buffer
	o := Options{Root: root, Mirror: realMirror, Progress: &log}
	require.NoError(t, Prepare([]string{"california_housing"}, o))
	dir := filepath.Join(root, "california_housing")
	X := readNPY(t, filepath.Join(dir, "X.npy"))
	y := readNPY(t, filepath.Join(dir, "y.npy"))
	require.Equal(t, []int{20640, 8}, X.Shape)
	require.Equal(t, []int{20640}, y.Shape)
	mean := 0.0
	for _, v := range y.Data {
		mean += v
	}
	require.InDelta(t, 2.068558, mean/20640, 1e-6)
	checkCalRow0(t, dir)
	tr := readNPY(t, filepath.Join(dir, "train_idx.npy"))
	te := readNPY(t, filepath.Join(dir, "test_idx.npy"))
	require.Equal(t, "<i8", tr.DType)
	require.Len(t, tr.Data, 16512)
	require.Len(t, te.Data, 4128)
	seen := make([]bool, 20640)
	for _, v := range append(append([]float64{}, tr.Data...), te.Data...) {
		require.False(t, seen[int(v)])
		seen[int(v)] = true
	}
	m := readMetaT(t, dir)
	require.Equal(t, "eb072065647645264d6dfcd99b2d82d67be725e3156c48915eeb2a710827ad30", m["sha256"])
	require.Equal(t, false, m["official"])
	require.Contains(t, m["source"], "mirror:california_housing/cal_housing.tgz (official https://ndownloader.figshare.com/files/5976036)")

	// Second run: skipped, files untouched.
	st1, _ := os.Stat(filepath.Join(dir, "X.npy"))
	log.Reset()
	require.NoError(t, Prepare([]string{"california_housing"}, o))
	st2, _ := os.Stat(filepath.Join(dir, "X.npy"))
	require.Equal(t, st1.ModTime(), st2.ModTime())
	require.Contains(t, log.String(), "up to date")

	es, err := List(o)
	require.NoError(t, err)
	require.Equal(t, "california_housing", es[0].Name)
	require.True(t, es[0].Prepared)
	require.False(t, es[0].Ref.Official)
	require.Len(t, es[0].Files, 4)
	require.False(t, es[1].Prepared) // digits
}

// serveFile serves body at /f with Range support, counting requests and
// remembering Range headers.
type fileServer struct {
	*httptest.Server
	body     []byte
	requests atomic.Int32
	ranges   []string
	dropOnce atomic.Bool // first request: send half, then cut the connection
}

func newFileServer(t *testing.T, body []byte) *fileServer {
	fs := &fileServer{body: body}
	fs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fs.requests.Add(1)
		fs.ranges = append(fs.ranges, r.Header.Get("Range"))
		if fs.dropOnce.CompareAndSwap(true, false) {
			w.Header().Set("Content-Length", fmt.Sprint(len(fs.body)))
			w.WriteHeader(200)
			w.Write(fs.body[:len(fs.body)/2])
			w.(http.Flusher).Flush()
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.(*net.TCPConn).SetLinger(0)
				conn.Close()
			}
			return
		}
		http.ServeContent(w, r, "f", time.Unix(0, 0), bytes.NewReader(fs.body))
	}))
	t.Cleanup(fs.Close)
	return fs
}

func useServer(t *testing.T, fs *fileServer, body []byte) {
	setSource(t, "california_housing", 0, func(s *sourceFile) {
		s.URL, s.SHA256, s.Size = fs.URL+"/f", sha(body), int64(len(body))
	})
}

func TestDownloadAndPrepare(t *testing.T) {
	body := calTgz(t)
	fs := newFileServer(t, body)
	useServer(t, fs, body)
	root, cache := t.TempDir(), t.TempDir()
	var log bytes.Buffer
	o := Options{Root: root, Cache: cache, Progress: &log, HTTPClient: fs.Client()}
	require.NoError(t, Prepare([]string{"california_housing"}, o))
	dir := filepath.Join(root, "california_housing")
	checkCalRow0(t, dir)
	require.Len(t, readNPY(t, filepath.Join(dir, "test_idx.npy")).Data, 2)
	require.Len(t, readNPY(t, filepath.Join(dir, "train_idx.npy")).Data, 8)
	m := readMetaT(t, dir)
	require.Equal(t, true, m["official"])
	require.Equal(t, fs.URL+"/f", m["source"])
	require.Equal(t, sha(body), m["sha256"])
	require.Contains(t, log.String(), "100.0%")
	_, err := os.Stat(filepath.Join(cache, "california_housing", "cal_housing.tgz"))
	require.NoError(t, err)

	// Prepared again: skipped without any request.
	n := fs.requests.Load()
	require.NoError(t, Prepare([]string{"california_housing"}, o))
	require.Equal(t, n, fs.requests.Load())

	// Output removed, cache kept: rebuilt from the cache without a request.
	require.NoError(t, os.RemoveAll(dir))
	require.NoError(t, Prepare([]string{"california_housing"}, o))
	require.Equal(t, n, fs.requests.Load())
	checkCalRow0(t, dir)
}

func TestDownloadResumesPartFile(t *testing.T) {
	body := calTgz(t)
	fs := newFileServer(t, body)
	useServer(t, fs, body)
	root, cache := t.TempDir(), t.TempDir()
	part := filepath.Join(cache, "california_housing", "cal_housing.tgz.part")
	require.NoError(t, os.MkdirAll(filepath.Dir(part), 0o755))
	require.NoError(t, os.WriteFile(part, body[:len(body)/2], 0o644))
	require.NoError(t, Prepare([]string{"california_housing"}, Options{Root: root, Cache: cache, HTTPClient: fs.Client()}))
	require.Equal(t, []string{fmt.Sprintf("bytes=%d-", len(body)/2)}, fs.ranges)
	checkCalRow0(t, filepath.Join(root, "california_housing"))
	_, err := os.Stat(part)
	require.True(t, os.IsNotExist(err))
}

func TestDownloadRetriesAndResumesAfterDrop(t *testing.T) {
	body := calTgz(t)
	fs := newFileServer(t, body)
	fs.dropOnce.Store(true)
	useServer(t, fs, body)
	root, cache := t.TempDir(), t.TempDir()
	require.NoError(t, Prepare([]string{"california_housing"}, Options{Root: root, Cache: cache, HTTPClient: fs.Client()}))
	require.Equal(t, int32(2), fs.requests.Load())
	require.Equal(t, "", fs.ranges[0])
	require.True(t, strings.HasPrefix(fs.ranges[1], "bytes="), fs.ranges)
	require.NotEqual(t, "bytes=0-", fs.ranges[1])
	checkCalRow0(t, filepath.Join(root, "california_housing"))
}

func TestDownloadChecksumMismatch(t *testing.T) {
	body := calTgz(t)
	fs := newFileServer(t, body)
	setSource(t, "california_housing", 0, func(s *sourceFile) {
		s.URL, s.SHA256, s.Size = fs.URL+"/f", strings.Repeat("0", 64), int64(len(body))
	})
	root, cache := t.TempDir(), t.TempDir()
	err := Prepare([]string{"california_housing"}, Options{Root: root, Cache: cache, HTTPClient: fs.Client()})
	require.Error(t, err)
	msg := err.Error()
	require.NotContains(t, msg, "\n")
	require.Contains(t, msg, "california_housing")
	require.Contains(t, msg, "cal_housing.tgz")
	require.Contains(t, msg, "sha256 mismatch: got "+sha(body)+", want "+strings.Repeat("0", 64)+" (official)")
	ents, _ := os.ReadDir(filepath.Join(cache, "california_housing"))
	require.Empty(t, ents, "a file that fails verification is deleted")
	requireNotPrepared(t, root, "california_housing")
}

func TestDownloadSizeMismatchAndHTTPError(t *testing.T) {
	body := calTgz(t)
	fs := newFileServer(t, body)
	setSource(t, "california_housing", 0, func(s *sourceFile) {
		s.URL, s.SHA256, s.Size = fs.URL+"/f", sha(body), int64(len(body))+1
	})
	root := t.TempDir()
	err := Prepare([]string{"california_housing"}, Options{Root: root, Cache: t.TempDir(), HTTPClient: fs.Client()})
	require.ErrorContains(t, err, "size mismatch")
	requireNotPrepared(t, root, "california_housing")

	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	setSource(t, "california_housing", 0, func(s *sourceFile) { s.URL = srv.URL + "/missing" })
	err = Prepare([]string{"california_housing"}, Options{Root: root, Cache: t.TempDir(), HTTPClient: srv.Client()})
	require.ErrorContains(t, err, "404")
	require.ErrorContains(t, err, "california_housing: cal_housing.tgz: download")
}

func calMirror(t *testing.T, body []byte, badSHA bool) string {
	return newMirror(t, mirrorFile{dataset: "california_housing", file: "california_housing/cal_housing.tgz",
		url: "https://ndownloader.figshare.com/files/5976036", body: body, badSHA: badSHA})
}

func TestMirrorManifestMismatch(t *testing.T) {
	body := calTgz(t)
	mirror := calMirror(t, body, true)
	root := t.TempDir()
	err := Prepare([]string{"california_housing"}, Options{Root: root, Mirror: mirror})
	require.Error(t, err)
	require.Contains(t, err.Error(), "california_housing")
	require.Contains(t, err.Error(), "cal_housing.tgz: sha256 mismatch: got "+sha(body)+", want ")
	require.Contains(t, err.Error(), "(manifest)")
	requireNotPrepared(t, root, "california_housing")

	// A dataset the mirror lacks is an error, never a silent download.
	err = Prepare([]string{"squad_v2_dev"}, Options{Root: root, Mirror: mirror})
	require.ErrorContains(t, err, "dataset squad_v2_dev not in mirror MANIFEST")

	// A good mirror copy: official follows identical_to_official, note is the manifest's.
	good := calMirror(t, body, false)
	require.NoError(t, Prepare([]string{"california_housing"}, Options{Root: root, Mirror: good}))
	m := readMetaT(t, filepath.Join(root, "california_housing"))
	require.Equal(t, false, m["official"])
	require.Contains(t, m["note"], "test copy")
	require.Equal(t, sha(body), m["sha256"])
}

func TestSafeExtraction(t *testing.T) {
	cases := map[string]struct {
		extra tarEntry
		want  string
	}{
		"traversal":  {tarEntry{name: "../evil", body: []byte("x")}, `"../evil"`},
		"traversal2": {tarEntry{name: "CaliforniaHousing/../../evil", body: []byte("x")}, `"CaliforniaHousing/../../evil"`},
		"absolute":   {tarEntry{name: "/etc/evil", body: []byte("x")}, `"/etc/evil"`},
		"symlink":    {tarEntry{name: "CaliforniaHousing/link", typeflag: '2', link: "/etc/passwd"}, `"CaliforniaHousing/link" is a link`},
		"hardlink":   {tarEntry{name: "CaliforniaHousing/cal_housing.data", typeflag: '1', link: "/etc/passwd"}, "is a link"},
		"unexpected": {tarEntry{name: "CaliforniaHousing/extra.txt", body: []byte("x")}, `unexpected archive member "CaliforniaHousing/extra.txt"`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			mirror := calMirror(t, calTgz(t, c.extra), false)
			root := t.TempDir()
			err := Prepare([]string{"california_housing"}, Options{Root: root, Mirror: mirror})
			require.Error(t, err)
			require.Contains(t, err.Error(), c.want)
			require.Contains(t, err.Error(), "california_housing: cal_housing.tgz")
			requireNotPrepared(t, root, "california_housing")
			_, err = os.Stat(filepath.Join(filepath.Dir(root), "evil"))
			require.True(t, os.IsNotExist(err))
		})
	}
}

func TestCorruptAndTruncatedArchives(t *testing.T) {
	good := calTgz(t)
	corrupt := append([]byte{}, good...)
	corrupt[0] = 0 // gzip magic
	crc := append([]byte{}, good...)
	crc[len(crc)-6] ^= 0xff // gzip CRC32 trailer
	cases := map[string]struct {
		body []byte
		want string
	}{
		"corrupt gzip":  {corrupt, "corrupt gzip"},
		"truncated tar": {good[:len(good)/2], "truncated"},
		"bad checksum":  {crc, "corrupt gzip"},
		"missing data member": {makeTarGz(t, []tarEntry{{name: "CaliforniaHousing/cal_housing.domain", body: []byte("x")}}),
			"archive lacks CaliforniaHousing/cal_housing.data"},
		"bad row": {makeTarGz(t, []tarEntry{{name: "CaliforniaHousing/cal_housing.data", body: []byte("1,2,3\n")}}),
			"cal_housing.data: line 1: 3 columns"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			err := Prepare([]string{"california_housing"}, Options{Root: root, Mirror: calMirror(t, c.body, false)})
			require.Error(t, err)
			require.Contains(t, err.Error(), c.want)
			require.Contains(t, err.Error(), "california_housing")
			require.NotContains(t, err.Error(), "\n")
			requireNotPrepared(t, root, "california_housing")
		})
	}
}

func TestFailedRebuildKeepsPreviousOutput(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, Prepare([]string{"california_housing"}, Options{Root: root, Mirror: calMirror(t, calTgz(t), false)}))
	before := readMetaT(t, filepath.Join(root, "california_housing"))
	// A changed source that fails to build leaves the old, complete output.
	bad := calTgz(t, tarEntry{name: "CaliforniaHousing/extra", body: []byte("x")})
	require.Error(t, Prepare([]string{"california_housing"}, Options{Root: root, Mirror: calMirror(t, bad, false)}))
	require.Equal(t, before, readMetaT(t, filepath.Join(root, "california_housing")))
	ents, _ := os.ReadDir(root)
	var names []string
	for _, e := range ents {
		if e.Name() != dirlock.File {
			names = append(names, e.Name())
		}
	}
	require.Equal(t, []string{"california_housing"}, names)
}

func TestRandomSplitSizes(t *testing.T) {
	train, test := randomSplit(20640, Seed, "california_housing/split")
	require.Len(t, train, 16512)
	require.Len(t, test, 4128)
	train2, test2 := randomSplit(20640, Seed, "california_housing/split")
	require.Equal(t, train, train2)
	require.Equal(t, test, test2)
	require.True(t, isSorted(train) && isSorted(test))
}

func isSorted(v []int) bool {
	for i := 1; i < len(v); i++ {
		if v[i] < v[i-1] {
			return false
		}
	}
	return true
}

func TestUnknownDatasetAndOptions(t *testing.T) {
	err := Prepare([]string{"nope"}, Options{Root: t.TempDir()})
	require.ErrorContains(t, err, `unknown dataset "nope"`)
	require.ErrorContains(t, err, "california_housing, digits, blobs, cifar10, squad_v2_dev, prompts, gpt2_tokenizer, bert_tokenizer, llm_sweep")
	require.Error(t, Prepare(nil, Options{}))
	require.Equal(t, []string{"california_housing", "digits", "blobs", "cifar10", "squad_v2_dev", "prompts", "gpt2_tokenizer", "bert_tokenizer", "llm_sweep"}, Names())
	es, err := List(Options{Root: t.TempDir()})
	require.NoError(t, err)
	var names []string
	for _, e := range es {
		require.False(t, e.Prepared)
		require.Empty(t, e.Err)
		names = append(names, e.Name)
	}
	require.Equal(t, []string{"california_housing", "digits", "blobs/n1000", "blobs/n10000", "blobs/n100000", "blobs/n1000000",
		"cifar10", "squad_v2_dev", "prompts", "gpt2_tokenizer", "bert_tokenizer", "llm_sweep"}, names)
}

func TestArchiveMemberSizeIsCapped(t *testing.T) {
	// A header that declares 1 TiB for the data file, and no data: refused
	// from the header, before any allocation (it was a fatal out of memory).
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	require.NoError(t, tw.WriteHeader(&tar.Header{Name: calMember, Mode: 0o644, Size: 1 << 40, Typeflag: tar.TypeReg}))
	_ = tw.Flush() // "missed writing" the body: only the header is wanted
	require.NoError(t, gz.Close())
	mirror := calMirror(t, buf.Bytes(), false)
	root := t.TempDir()
	err := Prepare([]string{"california_housing"}, Options{Root: root, Mirror: mirror})
	require.Error(t, err)
	require.Contains(t, err.Error(), `declares 1099511627776 bytes, more than the 16777216 this dataset can hold`)
	requireNotPrepared(t, root, "california_housing")
}
