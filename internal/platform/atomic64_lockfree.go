//go:build 386 || amd64 || arm64 || loong64 || mips64 || mips64le || ppc64 || ppc64le || riscv64 || s390x

package platform

// The architectures whose 64-bit atomics are lock-free and so work between
// processes: the Atomic strategy is offered.
//
// On the 64-bit architectures they are single instructions, or LL/SC loops,
// on the memory itself. 386 qualifies too, though it is 32-bit: the Go
// runtime (internal/runtime/atomic/atomic_386.s) loads and stores 64-bit
// words with one 8-byte MMX/SSE MOVQ, which x86 performs atomically on an
// 8-byte-aligned address (Intel SDM vol. 3A, 9.1.1, since the Pentium), and
// does compare-and-swap, add and swap with LOCK CMPXCHG8B; the store is
// followed by a locked instruction, a full fence, as on amd64. No lock
// private to the process is involved, and every word scb shares is 8-byte
// aligned (the runtime panics on an unaligned one).

// LockFreeAtomic64 reports whether sync/atomic's 64-bit operations work on
// the memory itself, and so are atomic between processes sharing a mapping.
const LockFreeAtomic64 = true
