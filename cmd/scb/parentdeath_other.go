//go:build !linux

package main

import "os/exec"

// dieWithParent does nothing: only Linux has a parent-death signal.
// Elsewhere the child notices that its parent is gone on its own
// (watchParent).
func dieWithParent(cmd *exec.Cmd) {}
