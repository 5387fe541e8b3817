//go:build amd64 || arm64 || loong64 || mips64 || mips64le || ppc64 || ppc64le || riscv64 || s390x

package scb

// The 64-bit architectures, whose 64-bit atomics are lock-free and so work
// between processes: the Atomic strategy is offered.

// lockFreeAtomic64 reports whether sync/atomic's 64-bit operations are
// single instructions (or LL/SC loops) on the memory itself, and so atomic
// between processes sharing a mapping. True on the 64-bit architectures.
const lockFreeAtomic64 = true
