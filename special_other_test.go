//go:build !unix

package scb_test

// specialFiles is empty where there are no FIFOs or sockets in the file
// system.
var specialFiles = []struct {
	why  string
	make func(path string) error
}{}
