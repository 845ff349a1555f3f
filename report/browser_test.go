package report

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/mlbench/mlbench/internal/testenv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The browser test opens a report in Debian's Chromium and checks what a
// reader would see: no console error, no request at all besides the page,
// every plot drawn with a size, the embedded font loaded, and a screenshot
// that is not blank.
//
//   - MLBENCH_REPORT_HTML=FILE tests that page (./build.sh test passes the
//     report of its real end-to-end run); else the report of testdata/run1
//     and run3 together, which has every kind of plot.
//   - MLBENCH_CHROMIUM=PATH names the browser; else chromium-headless-shell
//     or chromium from PATH, installed with apt-get when missing and root.
//   - MLBENCH_BROWSER_OUT=DIR keeps the screenshots there.
//
// Without a browser the test skips with the reason, but fails when CI or
// MLBENCH_REQUIRE_ALL=1 is set.

const chromiumPackages = "chromium chromium-headless-shell"

// chromium finds the browser, installing Debian's packages when it is
// missing and the test runs as root.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("MLBENCH_CHROMIUM"); p != "" {
		return p
	}
	find := func() string {
		for _, n := range []string{"chromium-headless-shell", "chromium"} {
			if p, err := exec.LookPath(n); err == nil {
				return p
			}
		}
		return ""
	}
	if p := find(); p != "" {
		return p
	}
	if os.Geteuid() != 0 {
		testenv.Skip(t, "no chromium: install it with apt-get install -y --no-install-recommends %s", chromiumPackages)
	}
	if _, err := exec.LookPath("apt-get"); err != nil {
		testenv.Skip(t, "no chromium and no apt-get to install it (want Debian's %s)", chromiumPackages)
	}
	install := func(args ...string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		out, err := cmd.CombinedOutput()
		if err != nil {
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			return fmt.Errorf("apt-get %s: %v: %s", args[0], err, lines[len(lines)-1])
		}
		return nil
	}
	installArgs := append([]string{"install", "-y", "--no-install-recommends"}, strings.Fields(chromiumPackages)...)
	t.Logf("chromium missing: apt-get %s", strings.Join(installArgs, " "))
	err := install(installArgs...)
	if err != nil { // the package lists may be missing or stale
		if err = install("update"); err == nil {
			err = install(installArgs...)
		}
	}
	if p := find(); p != "" {
		return p
	}
	testenv.Skip(t, "could not install chromium (%s): %v", chromiumPackages, err)
	return ""
}

// browserPage is the report the test opens and how many plots it has.
func browserPage(t *testing.T) (path string, plots int) {
	t.Helper()
	if p := os.Getenv("MLBENCH_REPORT_HTML"); p != "" {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		abs, err := filepath.Abs(p)
		require.NoError(t, err)
		return abs, bytes.Count(b, []byte("<figure "))
	}
	rs := append(load(t, "run1"), load(t, "run3")...)
	ri, err := LoadRunInfo(filepath.Join("testdata", "run3"))
	require.NoError(t, err)
	var b bytes.Buffer
	require.NoError(t, WriteHTML(&b, rs, Page{Source: "testdata/run1 + testdata/run3", Run: ri}))
	secs, err := build(rs)
	require.NoError(t, err)
	path = filepath.Join(t.TempDir(), "report.html")
	require.NoError(t, os.WriteFile(path, b.Bytes(), 0o644))
	return path, len(figures(secs))
}

// events collects what the page did that it must not.
type events struct {
	mu       sync.Mutex
	problems []string
	requests []string
}

func (e *events) add(format string, args ...any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.problems = append(e.problems, fmt.Sprintf(format, args...))
}

func (e *events) listen(page string) func(ev any) {
	return func(ev any) {
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
				e.add("console.%s: %s", ev.Type, argsText(ev.Args))
			}
		case *runtime.EventExceptionThrown:
			e.add("exception: %s", ev.ExceptionDetails.Text)
		case *log.EventEntryAdded:
			if ev.Entry.Level == log.EntryLevelError {
				e.add("browser log (%s): %s %s", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL)
			}
		case *network.EventRequestWillBeSent:
			e.mu.Lock()
			e.requests = append(e.requests, ev.Request.URL)
			e.mu.Unlock()
			if u := ev.Request.URL; u != page && !strings.HasPrefix(u, "data:") {
				e.add("request to %s", u)
			}
		case *network.EventLoadingFailed:
			e.add("failed request %s: %s", ev.RequestID, ev.ErrorText)
		}
	}
}

func argsText(args []*runtime.RemoteObject) string {
	var s []string
	for _, a := range args {
		if len(a.Value) > 0 {
			s = append(s, string(a.Value))
		} else {
			s = append(s, a.Description)
		}
	}
	return strings.Join(s, " ")
}

// plotBox is what the page says of one figure.
type plotBox struct {
	ID    string  `json:"id"`
	W     float64 `json:"w"`
	H     float64 `json:"h"`
	Texts int     `json:"texts"`
	Error bool    `json:"error"`
}

const plotsJS = `Array.from(document.querySelectorAll('figure')).map(f => {
	const s = f.querySelector('svg.plot');
	const r = s ? s.getBoundingClientRect() : {width: 0, height: 0};
	return {id: f.id, w: r.width, h: r.height, texts: s ? s.querySelectorAll('text').length : 0,
		error: !!f.querySelector('p.failed')};
})`

const fontsJS = `document.fonts.ready.then(() =>
	Array.from(document.fonts).filter(f => f.status === 'loaded').map(f => f.family.replace(/"/g, '')))`

func TestBrowser(t *testing.T) {
	bin := chromium(t)
	page, want := browserPage(t)
	require.Positive(t, want, "the page has no plots to check")
	pageURL := (&url.URL{Scheme: "file", Path: page}).String()

	userDir, err := os.MkdirTemp("", "mlbench-chromium-")
	require.NoError(t, err)
	defer removeAllRetry(userDir)
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(bin), chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.UserDataDir(userDir), chromedp.WindowSize(1280, 1000))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser() // stops the browser process it started

	var ev events
	if err := chromedp.Listen(bctx, ev.listen(pageURL)); err != nil {
		testenv.Skip(t, "chromium %s does not start: %v", bin, err)
	}
	require.NoError(t, chromedp.Do(bctx, chromedp.Navigate(pageURL)))

	fonts, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](fontsJS, chromedp.EvalAwaitPromise))
	require.NoError(t, err)
	assert.Contains(t, fonts, "Liberation Sans", "the embedded font did not load")

	boxes, err := chromedp.Run(bctx, chromedp.Evaluate[[]plotBox](plotsJS))
	require.NoError(t, err)
	assert.Len(t, boxes, want, "plots on the page")
	out := os.Getenv("MLBENCH_BROWSER_OUT")
	for _, b := range boxes {
		assert.False(t, b.Error, "%s: the page says it could not be drawn", b.ID)
		assert.True(t, b.W > 100 && b.H > 50, "%s: %.0fx%.0f px", b.ID, b.W, b.H)
		assert.Positive(t, b.Texts, "%s: no labels", b.ID)
		shot, err := chromedp.Run(bctx, chromedp.Screenshot(chromedp.ID(b.ID)))
		if assert.NoError(t, err, b.ID) {
			checkNotBlank(t, b.ID, shot)
			keep(t, out, b.ID+".png", shot)
		}
	}

	// The first screen (the headline) and the whole page.
	require.NoError(t, chromedp.Do(bctx, chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`)))
	top, err := chromedp.Run(bctx, chromedp.CaptureScreenshot())
	require.NoError(t, err)
	checkNotBlank(t, "first screen", top)
	keep(t, out, "first-screen.png", top)
	full, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	checkNotBlank(t, "page", full)
	keep(t, out, "page.png", full)

	ev.mu.Lock()
	defer ev.mu.Unlock()
	assert.Empty(t, ev.problems, "the page must make no request and log no error")
	assert.Contains(t, ev.requests, pageURL, "the browser saw no request for the page itself: were network events seen?")
}

// checkNotBlank decodes a PNG screenshot and checks that at least 1% of its
// pixels differ from its top-left pixel (the background).
func checkNotBlank(t *testing.T, what string, b []byte) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if !assert.NoError(t, err, what) {
		return
	}
	r := img.Bounds()
	assert.True(t, r.Dx() > 0 && r.Dy() > 0, "%s: empty screenshot", what)
	if frac := inkFraction(img); frac < 0.01 {
		assert.Fail(t, "blank screenshot", "%s: %.4f of the pixels differ from the background", what, frac)
	}
}

// inkFraction is the share of pixels whose colour differs from the top-left one.
func inkFraction(img image.Image) float64 {
	b := img.Bounds()
	r0, g0, b0, _ := img.At(b.Min.X, b.Min.Y).RGBA()
	n := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if r, g, bl, _ := img.At(x, y).RGBA(); r != r0 || g != g0 || bl != b0 {
				n++
			}
		}
	}
	return float64(n) / float64(b.Dx()*b.Dy())
}

func keep(t *testing.T, dir, name string, b []byte) {
	t.Helper()
	if dir == "" {
		return
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), b, 0o644))
}

// removeAllRetry removes the browser's profile: its helper processes may
// still write there for a moment after it stops.
func removeAllRetry(dir string) {
	var err error
	for range 50 {
		if err = os.RemoveAll(dir); err == nil || errors.Is(err, os.ErrNotExist) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}
