// Package data knows the benchmark's datasets: where each comes from (its
// official URL and checksum, or an offline mirror), how it is verified, and
// how it is turned into the prepared files every implementation reads
// (docs/PROTOCOL.md, "Prepared data").
package data

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/mlbench/mlbench/internal/atomicfile"
	"github.com/mlbench/mlbench/internal/dirlock"
)

// Options for Prepare and List.
type Options struct {
	Root       string       // processed-data dir; each dataset in Root/<dir>/ with meta.json
	Cache      string       // download cache dir; "" = <user cache dir>/mlbench/downloads
	Mirror     string       // "" or a folder holding MANIFEST.json
	Python     string       // interpreter with scikit-learn (for digits); "" = "python3"
	Progress   io.Writer    // progress output; nil = silent
	BlobSizes  []int        // nil = {1000, 10000, 100000, 1000000}
	HTTPClient *http.Client // nil = http.DefaultClient
}

// DefaultBlobSizes are the blob sizes prepared when Options.BlobSizes is nil.
var DefaultBlobSizes = []int{1000, 10000, 100000, 1000000}

func (o *Options) blobSizes() []int {
	if o.BlobSizes == nil {
		return DefaultBlobSizes
	}
	return o.BlobSizes
}

func (o *Options) cacheDir() string {
	if o.Cache != "" {
		return o.Cache
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "mlbench", "downloads")
	}
	return filepath.Join(os.TempDir(), "mlbench-downloads")
}

func (o *Options) python() string {
	if o.Python != "" {
		return o.Python
	}
	return "python3"
}

func (o *Options) logf(format string, args ...any) {
	if o.Progress != nil {
		fmt.Fprintf(o.Progress, format+"\n", args...)
	}
}

// sourceFile is one file a dataset is made from, as published.
type sourceFile struct {
	Name   string // local file name (in the cache, and in errors)
	URL    string // official URL
	SHA256 string // official sha256; "" when not published
	MD5    string // official md5, used when SHA256 is unknown
	Size   int64  // official size in bytes; 0 when unknown
}

// dataset is one registry entry.
type dataset struct {
	name    string
	dir     string   // slash path under Root
	aliases []string // other names the mirror manifest may use
	sources []sourceFile
	outputs []string // files written into dir (meta.json excluded)
	// build turns the verified sources into the outputs in dir out; it
	// returns text for the meta note (counts...).
	build func(b *buildCtx) (string, error)
	// special: "" (sources + build), "digits", "blobs", "prompts", "llm_sweep"
	kind string
}

func (d *dataset) manifestNames() []string { return append([]string{d.name}, d.aliases...) }

// buildCtx is what a build function gets.
type buildCtx struct {
	ds  *dataset
	o   *Options
	out string      // staging directory
	src []*obtained // verified sources, in ds.sources order
}

func (b *buildCtx) errf(file, format string, args ...any) error {
	return fmt.Errorf("%s: %s: %s", b.ds.name, file, oneLine(fmt.Sprintf(format, args...)))
}

// registry is the list of datasets; tests swap URLs in it.
var registry = defaultRegistry()

func defaultRegistry() []*dataset {
	return []*dataset{
		californiaDataset(),
		digitsDataset(),
		blobsDataset(),
		cifarDataset(),
		squadDataset(),
		promptsDataset(),
		gpt2TokenizerDataset(),
		bertTokenizerDataset(),
		llmSweepDataset(),
	}
}

// Names returns the registry's dataset names in a stable order.
func Names() []string {
	out := make([]string, len(registry))
	for i, d := range registry {
		out[i] = d.name
	}
	return out
}

func lookupDataset(name string) (*dataset, int, bool) {
	for _, d := range registry {
		if d.name == name {
			return d, 0, true
		}
	}
	if n, ok := strings.CutPrefix(name, "blobs/n"); ok {
		var size int
		if _, err := fmt.Sscanf(n, "%d", &size); err == nil && size > 0 && fmt.Sprint(size) == n {
			for _, d := range registry {
				if d.kind == "blobs" {
					return d, size, true
				}
			}
		}
	}
	return nil, 0, false
}

// Prepare obtains, verifies and prepares the named datasets (all when names
// is empty) under o.Root. A dataset whose meta.json still matches its source
// is skipped. Each dataset is prepared in a staging directory and moved into
// place only when complete (meta.json included), so a failure leaves no
// partial output. Failures of several datasets are joined into one line.
func Prepare(names []string, o Options) error {
	if o.Root == "" {
		return errors.New("data: Options.Root is empty")
	}
	if len(names) == 0 {
		names = Names()
	}
	type job struct {
		d    *dataset
		size int
	}
	var jobs []job
	for _, n := range names {
		d, size, ok := lookupDataset(n)
		if !ok {
			return fmt.Errorf("data: unknown dataset %q (known: %s)", n, strings.Join(Names(), ", "))
		}
		jobs = append(jobs, job{d, size})
	}
	// One prepare at a time per data directory; with the lock held, staging
	// directories left by an interrupted prepare are nobody's.
	lock, err := dirlock.Take(o.Root)
	if err != nil {
		return fmt.Errorf("data: %v", err)
	}
	defer lock.Unlock()
	removeStale(&o)
	var man *Manifest
	if o.Mirror != "" {
		m, err := ReadManifest(o.Mirror)
		if err != nil {
			return fmt.Errorf("data: %s", oneLine(err.Error()))
		}
		man = m
	}
	var errs []string
	for _, j := range jobs {
		var err error
		switch j.d.kind {
		case "blobs":
			sizes := o.blobSizes()
			if j.size > 0 {
				sizes = []int{j.size}
			}
			for _, n := range sizes {
				if e := prepareBlobs(&o, n); e != nil && err == nil {
					err = e
				}
			}
		default:
			err = prepareOne(j.d, &o, man)
		}
		if err != nil {
			msg := oneLine(err.Error())
			o.logf("%s: FAILED: %s", j.d.name, msg)
			errs = append(errs, msg)
		}
	}
	if len(errs) > 0 {
		return errors.New("data: " + strings.Join(errs, "; "))
	}
	return nil
}

// removeStale removes the staging (".NAME.tmp-*") and replaced (".NAME.old-*")
// directories that staged leaves when a prepare is killed, in Root and one
// level down (blobs/n1000). CIFAR-10's are 150 MB each.
func removeStale(o *Options) {
	for _, pat := range []string{".*.tmp-*", ".*.old-*", "*/.*.tmp-*", "*/.*.old-*"} {
		ms, _ := filepath.Glob(filepath.Join(o.Root, pat))
		for _, m := range ms {
			if st, err := os.Lstat(m); err == nil && st.IsDir() {
				o.logf("removing %s, left by an interrupted prepare", m)
				os.RemoveAll(m)
			}
		}
	}
}

// resolve gets the dataset's sources, verified.
func resolve(d *dataset, o *Options, man *Manifest) ([]*obtained, error) {
	switch d.kind {
	case "digits":
		ob, err := locateDigits(o)
		if err != nil {
			return nil, err
		}
		return []*obtained{ob}, nil
	case "prompts":
		return []*obtained{promptsSource()}, nil
	case "llm_sweep":
		return []*obtained{llmSweepSourceFile()}, nil
	}
	var out []*obtained
	for _, s := range d.sources {
		var ob *obtained
		var err error
		if man != nil {
			ob, err = fromMirror(d, man, o.Mirror, s)
		} else {
			o.logf("%s: fetching %s", d.name, s.URL)
			ob, err = download(d, o, s)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, ob)
	}
	return out, nil
}

func prepareOne(d *dataset, o *Options, man *Manifest) error {
	target := filepath.Join(o.Root, filepath.FromSlash(d.dir))
	old, err := readMeta(target, d.outputs)
	if err != nil {
		o.logf("%s: %s no longer matches what was prepared (%v): preparing it again", d.name, target, err)
	}
	// Download mode with published sha256s: trust an up-to-date meta.json
	// without touching the network or the cache.
	if old != nil && man == nil && d.kind == "" && allSHAKnown(d) &&
		old.Source == d.sources[0].URL && old.SHA256 == d.sources[0].SHA256 && old.Official {
		o.logf("%s: up to date (%s)", d.name, target)
		return nil
	}
	src, err := resolve(d, o, man)
	if err != nil {
		return err
	}
	ref := DatasetRef{Name: d.name, SHA256: src[0].sha256, Official: true, Source: src[0].source}
	for _, s := range src {
		ref.Official = ref.Official && s.official
	}
	if old != nil && old.SHA256 == ref.SHA256 && old.Source == ref.Source && old.Official == ref.Official && notesHaveSHAs(old.Note, src) {
		o.logf("%s: up to date (%s)", d.name, target)
		return nil
	}
	o.logf("%s: preparing %s", d.name, target)
	start := time.Now()
	err = staged(target, func(out string) (*DatasetRef, error) {
		note, err := d.build(&buildCtx{ds: d, o: o, out: out, src: src})
		if err != nil {
			return nil, err
		}
		ref.Note = composeNote(note, src)
		return &ref, nil
	})
	if err != nil {
		return fmt.Errorf("%s", oneLine(err.Error()))
	}
	o.logf("%s: done in %.1fs (official=%v)", d.name, time.Since(start).Seconds(), ref.Official)
	return nil
}

func allSHAKnown(d *dataset) bool {
	for _, s := range d.sources {
		if s.SHA256 == "" {
			return false
		}
	}
	return len(d.sources) > 0
}

func notesHaveSHAs(note string, src []*obtained) bool {
	if len(src) < 2 {
		return true
	}
	for _, s := range src {
		if !strings.Contains(note, s.sha256) {
			return false
		}
	}
	return true
}

// composeNote joins the build's note, the sources' notes and, for a
// multi-file dataset, each file's sha256.
func composeNote(build string, src []*obtained) string {
	var parts []string
	if build != "" {
		parts = append(parts, build)
	}
	seen := map[string]bool{}
	for _, s := range src {
		if s.note != "" && !seen[s.note] {
			seen[s.note] = true
			if len(src) > 1 {
				parts = append(parts, s.src.Name+": "+s.note)
			} else {
				parts = append(parts, s.note)
			}
		}
	}
	if len(src) > 1 {
		var shas []string
		for _, s := range src {
			shas = append(shas, fmt.Sprintf("%s sha256 %s (%s)", s.src.Name, s.sha256, s.source))
		}
		parts = append(parts, "files: "+strings.Join(shas, "; "))
	}
	return strings.Join(parts, " | ")
}

// staged runs fill in a fresh staging directory next to target, writes the
// returned DatasetRef as meta.json last, and then swaps the staging
// directory into place. On any error the staging directory is removed and
// target is left as it was.
func staged(target string, fill func(out string) (*DatasetRef, error)) (err error) {
	parent := filepath.Dir(target)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	stage, err := os.MkdirTemp(parent, "."+filepath.Base(target)+".tmp-")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(stage)
		}
	}()
	ref, err := fill(stage)
	if err != nil {
		return err
	}
	if ref.Files, err = hashTree(stage); err != nil {
		return err
	}
	meta := filepath.Join(stage, "meta.json")
	if err := atomicfile.WriteJSON(meta, ref); err != nil {
		return err
	}
	if err := os.Chmod(meta, 0o644); err != nil {
		return err
	}
	if err := os.Chmod(stage, 0o755); err != nil {
		return err
	}
	var old string
	if _, e := os.Lstat(target); e == nil {
		old = fmt.Sprintf("%s/.%s.old-%d", parent, filepath.Base(target), time.Now().UnixNano())
		if err := os.Rename(target, old); err != nil {
			return err
		}
	}
	if err := os.Rename(stage, target); err != nil {
		if old != "" {
			os.Rename(old, target)
		}
		return err
	}
	if old != "" {
		os.RemoveAll(old)
	}
	return nil
}

// hashTree records every regular file under dir (meta.json excluded).
func hashTree(dir string) ([]FileHash, error) {
	var out []FileHash
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path == filepath.Join(dir, "meta.json") {
			return err
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s: not a regular file", path)
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		n, sum, err := HashFile(path)
		if err != nil {
			return err
		}
		out = append(out, FileHash{Path: filepath.ToSlash(rel), Size: n, SHA256: sum})
		return nil
	})
	return out, err
}

// readMeta returns dir's meta.json when it exists, parses, every output file
// is present, and every file it records still has its size and sha256 (a
// dataset altered since it was prepared is prepared again).
func readMeta(dir string, outputs []string) (*DatasetRef, error) {
	b, err := os.ReadFile(filepath.Join(dir, "meta.json"))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	var ref DatasetRef
	if err := json.Unmarshal(b, &ref); err != nil {
		return nil, fmt.Errorf("meta.json: %v", err)
	}
	if ref.Name == "" || ref.SHA256 == "" {
		return nil, fmt.Errorf("meta.json: name or sha256 missing")
	}
	for _, f := range outputs {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			return nil, fmt.Errorf("%s missing", f)
		}
	}
	if len(ref.Files) == 0 {
		return nil, fmt.Errorf("meta.json records no file hashes (prepared by an older mlbench)")
	}
	if err := VerifyFiles(dir, ref.Files); err != nil {
		return nil, err
	}
	return &ref, nil
}

// Entry is one prepared (or not) dataset as List reports it.
type Entry struct {
	Name     string
	Prepared bool
	Ref      DatasetRef
	Files    []string // absolute paths of the prepared files (meta.json excluded)
	Err      string   // why a present directory is not usable
	Dir      string   // absolute dataset directory
}

// List reports every registry dataset (blobs: one entry per size, named
// "blobs/n<N>") from Root/<dir>/meta.json.
func List(o Options) ([]Entry, error) {
	if o.Root == "" {
		return nil, errors.New("data: Options.Root is empty")
	}
	root, err := filepath.Abs(o.Root)
	if err != nil {
		return nil, err
	}
	var out []Entry
	add := func(name, dir string, outputs []string) {
		abs := filepath.Join(root, filepath.FromSlash(dir))
		e := Entry{Name: name, Dir: abs, Ref: DatasetRef{Name: name}}
		for _, f := range outputs {
			e.Files = append(e.Files, filepath.Join(abs, f))
		}
		ref, err := readMeta(abs, outputs)
		switch {
		case err != nil:
			e.Err = oneLine(err.Error())
		case ref != nil:
			e.Prepared, e.Ref = true, *ref
		}
		out = append(out, e)
	}
	for _, d := range registry {
		if d.kind == "blobs" {
			sizes := slices.Clone(o.blobSizes())
			slices.Sort(sizes)
			for _, n := range sizes {
				add(blobsName(n), blobsName(n), d.outputs)
			}
			continue
		}
		add(d.name, d.dir, d.outputs)
	}
	return out, nil
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}

// WriteNPYFile writes a .npy file atomically (WriteNPY's dtypes).
func WriteNPYFile(path, dtype string, shape []int, v []float64) error {
	return atomicfile.Write(path, func(w io.Writer) error { return WriteNPY(w, dtype, shape, v) })
}
