//go:build !unix

package database

import "errors"

// fileLock is an OS file lock; this platform has none the portal uses.
type fileLock interface{ unlock() }

func tryFileLock(string) (fileLock, bool, error) {
	return nil, false, errors.New("file locks need a Unix system")
}
