// Package dirlock takes an exclusive lock on a directory (a flock on a file
// in it), which the kernel releases when the holding process ends, however
// it ends: results directories and the prepared-data directory are locked
// this way so that two mlbench processes never write one at once.
package dirlock

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// File is the file in a results directory that a run holds an
// exclusive flock on while it writes there. The kernel releases the lock
// when the process ends, however it ends, so a stale file never blocks.
const File = ".lock"

// Lock is a held lock on a results directory.
type Lock struct{ f *os.File }

// Take creates dir if needed and takes its lock, or says which process
// holds it. Two runs into one results directory would share its work
// directory and store each other's results as their own; two prepares of
// one data directory would swap its datasets under each other.
func Take(dir string) (*Lock, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("results directory: %w", err)
	}
	path := filepath.Join(dir, File)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			holder := "another process"
			if b, err := os.ReadFile(path); err == nil {
				if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
					holder = fmt.Sprintf("pid %d", pid)
				}
			}
			return nil, fmt.Errorf("%s is in use by another mlbench process (%s)", dir, holder)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &Lock{f}, nil
}

// Unlock releases the lock; calling it twice is harmless.
func (l *Lock) Unlock() {
	if l != nil && l.f != nil {
		l.f.Close() // closing the only descriptor releases the flock
		l.f = nil
	}
}
