//go:build !(amd64 || arm64 || loong64 || mips64 || mips64le || ppc64 || ppc64le || riscv64 || s390x)

package scb

// lockFreeAtomic64 is false on 32-bit architectures, where the Go runtime
// may implement 64-bit atomics with a lock private to the process. Only the
// Flock strategy is offered there.
const lockFreeAtomic64 = false
