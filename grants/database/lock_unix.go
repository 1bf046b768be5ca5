//go:build unix

package database

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// fileLock is an open lock file holding an exclusive flock(2).
type fileLock interface{ unlock() }

type flockFile struct{ f *os.File }

func (l flockFile) unlock() {
	_ = syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	_ = l.f.Close()
}

// tryFileLock takes an exclusive, non-blocking flock on path. flock locks
// belong to the open file, so two Locks in one process exclude each other
// too, and the kernel drops the lock when the process dies.
func tryFileLock(path string) (fileLock, bool, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, false, fmt.Errorf("opening lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("locking %s: %w", path, err)
	}
	return flockFile{f}, true, nil
}
