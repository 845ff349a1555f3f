package bench

import (
	"regexp"
	"strings"
)

var (
	// errorStart matches a line that starts an error report: a Go panic or
	// fatal error, a Rust panic, the protocol's "error: ..." line.
	errorStart = regexp.MustCompile(`^(panic: |fatal error: |thread '.*' panicked at |(error|Error|ERROR|fatal|FATAL)(\[[^\]]*\])?: )`)
	// errorWord matches a line that names an error in other words.
	errorWord = regexp.MustCompile(`(?i)\b(error|exception|fatal|panicked|abort(ed)?|segmentation fault|killed by signal)\b`)
)

// errorLine is the line of stderr that says what went wrong: a Python
// traceback's exception line, the first panic or "error:" line (with a Rust
// panic's message, which comes on the next line), else the first line that
// names an error, else the last line. The last line of a panic or traceback
// is noise (a stack frame, "runtime/mgc.go:1695 +0x105").
func errorLine(b []byte) string {
	var lines []string
	for _, l := range strings.Split(string(b), "\n") {
		lines = append(lines, strings.TrimRight(l, "\r"))
	}
	for i, l := range lines {
		if strings.HasPrefix(l, "Traceback (most recent call last):") {
			for _, e := range lines[i+1:] {
				if e != "" && e[0] != ' ' && e[0] != '\t' {
					return strings.TrimSpace(e)
				}
			}
		}
	}
	for i, l := range lines {
		if errorStart.MatchString(l) {
			if strings.HasPrefix(l, "thread '") && strings.HasSuffix(l, ":") && i+1 < len(lines) {
				return strings.TrimSpace(l + " " + lines[i+1])
			}
			return strings.TrimSpace(l)
		}
	}
	for _, l := range lines {
		if errorWord.MatchString(l) {
			return strings.TrimSpace(l)
		}
	}
	return lastLine(b)
}

func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" {
			return l
		}
	}
	return "(nothing on stderr)"
}
