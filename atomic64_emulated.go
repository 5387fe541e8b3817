//go:build !(amd64 || arm64 || loong64 || mips64 || mips64le || ppc64 || ppc64le || riscv64 || s390x)

package scb

// The other architectures, whose 64-bit atomics may be emulated with a lock
// private to the process: only the Flock strategy is offered.

// lockFreeAtomic64 is false on 32-bit architectures, where the Go runtime
// may implement 64-bit atomics with a lock private to the process. Only the
// Flock strategy is offered there.
const lockFreeAtomic64 = false
