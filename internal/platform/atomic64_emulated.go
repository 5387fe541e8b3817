//go:build !(386 || amd64 || arm64 || loong64 || mips64 || mips64le || ppc64 || ppc64le || riscv64 || s390x)

package platform

// The other architectures (arm, mips, mipsle, wasm, ...), whose 64-bit
// atomics the Go runtime implements with a lock private to the process,
// which other processes cannot see: only the Flock strategy is offered.

// LockFreeAtomic64 is false where 64-bit atomics may take a lock private to
// the process. Only the Flock strategy is offered there.
const LockFreeAtomic64 = false
