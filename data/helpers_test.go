package data

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) {
	downloadBackoff = 5 * time.Millisecond
	os.Exit(m.Run())
}

type tarEntry struct {
	name     string
	body     []byte
	typeflag byte
	link     string
}

func makeTarGz(t testing.TB, entries []tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.body)), Typeflag: e.typeflag, Linkname: e.link, ModTime: time.Unix(0, 0)}
		if e.typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Typeflag != tar.TypeReg {
			h.Size = 0
		}
		require.NoError(t, tw.WriteHeader(h))
		if h.Typeflag == tar.TypeReg {
			_, err := tw.Write(e.body)
			require.NoError(t, err)
		}
	}
	require.NoError(t, tw.Close())
	require.NoError(t, gz.Close())
	return buf.Bytes()
}

func sha(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// mirrorFile is one file of a test mirror.
type mirrorFile struct {
	dataset, file, url string
	body               []byte
	identical          bool
	badSHA             bool // write a wrong sha256 in the manifest
}

// newMirror writes a mirror folder with a MANIFEST.json for files.
func newMirror(t testing.TB, files ...mirrorFile) string {
	t.Helper()
	dir := t.TempDir()
	var man Manifest
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.file))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, f.body, 0o644))
		s := sha(f.body)
		if f.badSHA {
			s = sha(append([]byte("x"), f.body...))
		}
		man.Files = append(man.Files, ManifestEntry{Dataset: f.dataset, File: f.file, OfficialURL: f.url,
			IdenticalToOfficial: f.identical, Note: "test copy", Bytes: int64(len(f.body)), SHA256: s})
	}
	b, err := json.Marshal(man)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "MANIFEST.json"), b, 0o644))
	return dir
}

// setSource changes one registry source for the duration of the test.
func setSource(t testing.TB, name string, i int, f func(s *sourceFile)) {
	t.Helper()
	d, _, ok := lookupDataset(name)
	require.True(t, ok)
	old := d.sources[i]
	f(&d.sources[i])
	t.Cleanup(func() { d.sources[i] = old })
}

// requireNotPrepared checks that a failed Prepare left nothing behind:
// no dataset directory and no staging directories.
func requireNotPrepared(t testing.TB, root, dir string) {
	t.Helper()
	_, err := os.Stat(filepath.Join(root, dir, "meta.json"))
	require.True(t, os.IsNotExist(err), "meta.json must not exist after a failure")
	_, err = os.Stat(filepath.Join(root, dir))
	require.True(t, os.IsNotExist(err), "dataset dir must not exist after a failure")
	ents, _ := os.ReadDir(filepath.Dir(filepath.Join(root, dir)))
	for _, e := range ents {
		require.NotContains(t, e.Name(), ".tmp-", "staging left behind")
	}
}

func readNPY(t testing.TB, path string) *Array {
	t.Helper()
	a, err := ReadNPY(path)
	require.NoError(t, err)
	return a
}

func readMetaT(t testing.TB, dir string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "meta.json"))
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	return m
}
