package bench

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// LockFile is the file in a results directory that a run holds an
// exclusive flock on while it writes there. The kernel releases the lock
// when the process ends, however it ends, so a stale file never blocks.
const LockFile = ".lock"

// DirLock is a held lock on a results directory.
type DirLock struct{ f *os.File }

// LockDir creates dir if needed and takes its lock, or says which process
// holds it. Two runs into one results directory would share its work
// directory and store each other's results as their own; two prepares of
// one data directory would swap its datasets under each other.
func LockDir(dir string) (*DirLock, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("results directory: %w", err)
	}
	path := filepath.Join(dir, LockFile)
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
	return &DirLock{f}, nil
}

// Unlock releases the lock; calling it twice is harmless.
func (l *DirLock) Unlock() {
	if l != nil && l.f != nil {
		l.f.Close() // closing the only descriptor releases the flock
		l.f = nil
	}
}
