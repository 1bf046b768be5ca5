//go:build !linux

package main

import "os"

// disableEcho is a no-op where the CLI does not know the terminal's
// interface: the token is echoed, but still stays out of the shell history.
func disableEcho(*os.File) (restore func()) { return func() {} }
