package data

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// ManifestEntry is one file of an offline mirror (MANIFEST.json).
type ManifestEntry struct {
	Dataset             string `json:"dataset"`
	File                string `json:"file"`
	OfficialURL         string `json:"official_url"`
	OfficialSHA256      string `json:"official_sha256,omitempty"`
	OfficialMD5         string `json:"official_md5,omitempty"`
	OfficialBytes       int64  `json:"official_bytes,omitempty"`
	IdenticalToOfficial bool   `json:"identical_to_official"`
	Note                string `json:"note,omitempty"`
	Bytes               int64  `json:"bytes"`
	SHA256              string `json:"sha256"`
	MD5                 string `json:"md5,omitempty"`
}

// Manifest is a mirror's MANIFEST.json.
type Manifest struct {
	About string          `json:"about"`
	Files []ManifestEntry `json:"files"`
}

// ReadManifest reads DIR/MANIFEST.json.
func ReadManifest(dir string) (*Manifest, error) {
	p := filepath.Join(dir, "MANIFEST.json")
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("mirror: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("mirror: %s: %v", p, err)
	}
	return &m, nil
}

// lookup finds the entry for one source file of a dataset: same official URL
// (preferred), or same dataset name and file base name.
func (m *Manifest) lookup(names []string, src sourceFile) (*ManifestEntry, bool) {
	for i := range m.Files {
		if m.Files[i].OfficialURL == src.URL {
			return &m.Files[i], true
		}
	}
	for i := range m.Files {
		e := &m.Files[i]
		for _, n := range names {
			if e.Dataset == n && filepath.Base(e.File) == src.Name {
				return e, true
			}
		}
	}
	return nil, false
}

// obtained is one source file ready on disk and verified.
type obtained struct {
	src      sourceFile
	path     string
	sha256   string
	official bool
	source   string // URL or "mirror:<file> (official <url>)"
	note     string // the manifest's note, if any
}

// fileDigest returns the size, sha256 and md5 of a file.
func fileDigest(path string) (int64, string, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, "", "", err
	}
	defer f.Close()
	s, m := sha256.New(), md5.New()
	n, err := io.Copy(io.MultiWriter(s, m), f)
	if err != nil {
		return 0, "", "", err
	}
	return n, hex.EncodeToString(s.Sum(nil)), hex.EncodeToString(m.Sum(nil)), nil
}

// fromMirror takes a source file from the mirror and verifies it against the
// manifest.
func fromMirror(ds *dataset, man *Manifest, mirror string, src sourceFile) (*obtained, error) {
	e, ok := man.lookup(ds.manifestNames(), src)
	if !ok {
		return nil, fmt.Errorf("%s: %s: dataset %s not in mirror MANIFEST (%s)", ds.name, src.Name, ds.name, filepath.Join(mirror, "MANIFEST.json"))
	}
	p := filepath.Join(mirror, filepath.FromSlash(e.File))
	n, sum, m5, err := fileDigest(p)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %v", ds.name, src.Name, err)
	}
	if e.Bytes > 0 && n != e.Bytes {
		return nil, fmt.Errorf("%s: %s: size mismatch: got %d bytes, want %d (manifest)", ds.name, p, n, e.Bytes)
	}
	if !strings.EqualFold(sum, e.SHA256) {
		return nil, fmt.Errorf("%s: %s: sha256 mismatch: got %s, want %s (manifest)", ds.name, p, sum, e.SHA256)
	}
	if e.MD5 != "" && !strings.EqualFold(m5, e.MD5) {
		return nil, fmt.Errorf("%s: %s: md5 mismatch: got %s, want %s (manifest)", ds.name, p, m5, e.MD5)
	}
	official := e.IdenticalToOfficial
	if official && src.SHA256 != "" && sum != src.SHA256 {
		return nil, fmt.Errorf("%s: %s: manifest says identical to official, but sha256 %s differs from the official %s", ds.name, p, sum, src.SHA256)
	}
	if official && src.SHA256 == "" && src.MD5 != "" && m5 != src.MD5 {
		return nil, fmt.Errorf("%s: %s: manifest says identical to official, but md5 %s differs from the official %s", ds.name, p, m5, src.MD5)
	}
	return &obtained{src: src, path: p, sha256: sum, official: official,
		source: fmt.Sprintf("mirror:%s (official %s)", e.File, src.URL), note: e.Note}, nil
}

// Download tuning; tests shorten the backoff.
var (
	downloadAttempts = 3
	downloadBackoff  = 2 * time.Second
)

// download fetches src.URL into cacheDir/<dataset>/<name> (resuming a
// .part file with HTTP Range, retrying with backoff), then verifies size and
// checksum. A cached file that already verifies is reused; one that does not
// is deleted and fetched again.
func download(ds *dataset, o *Options, src sourceFile) (*obtained, error) {
	dir := filepath.Join(o.cacheDir(), ds.name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("%s: %s: %v", ds.name, src.Name, err)
	}
	final := filepath.Join(dir, src.Name)
	if _, err := os.Stat(final); err == nil {
		if ob, err := verifyDownload(ds, src, final); err == nil {
			return ob, nil
		}
		os.Remove(final)
	}
	part := final + ".part"
	var lastErr error
	for attempt := 1; attempt <= downloadAttempts; attempt++ {
		if attempt > 1 {
			time.Sleep(downloadBackoff * time.Duration(1<<(attempt-2)))
		}
		lastErr = fetchOnce(o, src, part)
		if lastErr == nil {
			break
		}
		var perm permanentError
		if errors.As(lastErr, &perm) {
			break
		}
	}
	if lastErr != nil {
		return nil, fmt.Errorf("%s: %s: download %s: %v", ds.name, src.Name, src.URL, lastErr)
	}
	ob, err := verifyDownload(ds, src, part)
	if err != nil {
		os.Remove(part)
		return nil, err
	}
	if err := os.Rename(part, final); err != nil {
		return nil, fmt.Errorf("%s: %s: %v", ds.name, src.Name, err)
	}
	ob.path = final
	return ob, nil
}

type permanentError struct{ error }

// verifyDownload checks size and the official sha256 (or md5 where only md5
// is published).
func verifyDownload(ds *dataset, src sourceFile, path string) (*obtained, error) {
	n, sum, m5, err := fileDigest(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %v", ds.name, src.Name, err)
	}
	if src.Size > 0 && n != src.Size {
		return nil, fmt.Errorf("%s: %s: size mismatch: got %d bytes, want %d (official)", ds.name, src.Name, n, src.Size)
	}
	switch {
	case src.SHA256 != "" && sum != src.SHA256:
		return nil, fmt.Errorf("%s: %s: sha256 mismatch: got %s, want %s (official)", ds.name, src.Name, sum, src.SHA256)
	case src.SHA256 == "" && src.MD5 != "" && m5 != src.MD5:
		return nil, fmt.Errorf("%s: %s: md5 mismatch: got %s, want %s (official)", ds.name, src.Name, m5, src.MD5)
	}
	note := ""
	if src.SHA256 == "" && src.MD5 == "" {
		note = src.Name + ": no published checksum; taken as served by the official URL"
	}
	return &obtained{src: src, path: path, sha256: sum, official: true, source: src.URL, note: note}, nil
}

// fetchOnce makes one HTTP request, resuming part if it exists.
func fetchOnce(o *Options, src sourceFile, part string) error {
	var have int64
	if st, err := os.Stat(part); err == nil {
		have = st.Size()
	}
	req, err := http.NewRequest(http.MethodGet, src.URL, nil)
	if err != nil {
		return permanentError{err}
	}
	if have > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", have))
	}
	client := o.HTTPClient
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	flags := os.O_CREATE | os.O_WRONLY
	switch {
	case resp.StatusCode == http.StatusPartialContent && have > 0:
		var start int64 = -1
		fmt.Sscanf(resp.Header.Get("Content-Range"), "bytes %d-", &start)
		if start != have {
			os.Remove(part)
			return fmt.Errorf("server resumed at byte %d, not %d", start, have)
		}
		flags |= os.O_APPEND
	case resp.StatusCode == http.StatusOK:
		flags |= os.O_TRUNC
		have = 0
	case resp.StatusCode == http.StatusRequestedRangeNotSatisfiable:
		os.Remove(part) // stale or oversized .part: start over
		return fmt.Errorf("HTTP %s for a resume at byte %d", resp.Status, have)
	case resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusTooManyRequests:
		return permanentError{fmt.Errorf("HTTP %s", resp.Status)}
	default:
		return fmt.Errorf("HTTP %s", resp.Status)
	}
	f, err := os.OpenFile(part, flags, 0o644)
	if err != nil {
		return permanentError{err}
	}
	total := src.Size
	if resp.ContentLength > 0 {
		total = have + resp.ContentLength
	}
	pw := newProgress(o.Progress, src.Name, have, total)
	_, err = io.Copy(f, io.TeeReader(resp.Body, pw))
	pw.done(err == nil)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// progress writes a one-line, carriage-return-updated percentage.
type progress struct {
	w     io.Writer
	name  string
	n     int64
	total int64
	last  time.Time
}

func newProgress(w io.Writer, name string, have, total int64) *progress {
	p := &progress{w: w, name: name, n: have, total: total}
	p.print()
	return p
}

func (p *progress) Write(b []byte) (int, error) {
	p.n += int64(len(b))
	if time.Since(p.last) > 200*time.Millisecond {
		p.print()
	}
	return len(b), nil
}

func (p *progress) print() {
	if p.w == nil {
		return
	}
	p.last = time.Now()
	if p.total > 0 {
		pct := float64(p.n) * 100 / float64(p.total)
		bar := strings.Repeat("#", int(pct/5)) + strings.Repeat(".", 20-min(20, int(pct/5)))
		fmt.Fprintf(p.w, "\r  %-24s [%s] %5.1f%% %s / %s", p.name, bar, pct, human(p.n), human(p.total))
	} else {
		fmt.Fprintf(p.w, "\r  %-24s %s", p.name, human(p.n))
	}
}

func (p *progress) done(ok bool) {
	if p.w == nil {
		return
	}
	p.print()
	if ok {
		fmt.Fprintln(p.w)
	} else {
		fmt.Fprintln(p.w, " (interrupted)")
	}
}

func human(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// hashBytes returns the hex sha256 of b.
func hashBytes(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
