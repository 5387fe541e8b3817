// Package scb provides named shared circular buffers between processes.
//
// One process creates a buffer by name; any other process on the machine
// opens it by the same name; items flow through a ring of slots in a file
// that every process maps into memory. No item is copied through the
// kernel, so passing one costs about as much as writing it to memory.
//
//	w, err := scb.Create("jobs", nil) // /dev/shm/jobs.scb on Linux
//	err = w.Push(42)
//
//	r, err := scb.OpenReader("jobs", nil) // in another process
//	v, err := r.PopWait(ctx)
//
// # Items
//
// A buffer has Length slots (default 1024) of up to ItemSize bytes (default
// 8). Integers go in with [Writer.Push] and come out with [Reader.Pop],
// stored big-endian in ItemSize bytes. Byte items go in with
// [Writer.PushBytes] and come out with [Reader.PopBytes], which copies into
// the caller's slice and allocates nothing; an item may be shorter than
// ItemSize and keeps its length, unless the buffer was made with
// Options.FixedSize: then every item is exactly ItemSize bytes and the
// slots keep no length (an 8-byte item takes 8 bytes), for integers and
// records. Calls ending in Wait block, with a context,
// until they can proceed; the others never wait for room or items and
// report [ErrFull] or [ErrEmpty]. (With the Flock strategy a writer's call
// does wait for the writers' lock, which another writer holds for a
// microsecond or so per operation, or for as long as it keeps a Claim
// open; so does every call where there are no holder locks (macOS, the
// BSDs), which lock the buffer file. Such a wait ends with the call's
// context or the handle's Close, not otherwise.)
//
// Every byte-item read sizes its destination by its capacity, not its
// length: PopBytes copies into dst[:cap(dst)] and returns the length n of
// the item, dst[:n]; PopBytesInto reslices each buffer to its item. A
// buffer resliced to a short item therefore keeps its room for the next,
// and make([]byte, 0, size) works too; pass dst[:n:n] to forbid writes
// past n.
//
// # Iteration
//
// [Reader.Values] and [Reader.Items] turn a read loop into a range
// statement, waiting for items until the context is done:
//
//	for v, err := range r.Values(ctx) { ... }
//	for item, err := range r.Items(ctx, buf) { ... } // item valid until the next iteration
//
// One rule ends every iterator: at the end of the stream (a read's error
// matching io.EOF) the loop ends without an error; a Broadcast overrun is
// yielded as the error and the loop continues with the next item; any
// other error, a done context's included, is yielded once and ends the
// loop. A loop body may break at any time: each step reads one item, so
// nothing it was not given is consumed. The iterators allocate nothing per
// item.
//
// # Typed items
//
// [TypedWriter] and [TypedReader] carry values of a fixed-size type, a
// struct of sized numbers for instance, one value per item:
//
//	tw, err := scb.CreateTyped[Reading]("sensors", nil) // ItemSize is Reading's
//	err = tw.Push(Reading{Sensor: 3, Value: 21.5})
//	tr, err := scb.NewTypedReader[Reading](r) // checks Reading once
//	for rd, err := range tr.Values(ctx) { ... }
//
// A value is stored as encoding/binary stores it with binary.LittleEndian,
// binary.Size(T) bytes, the same on every architecture; the type is
// checked when the TypedWriter or TypedReader is made (it must be exactly
// the buffer's ItemSize: a mismatch is refused there, before any item is
// read), and encoding and decoding allocate nothing. Every call of Writer
// and Reader that moves items has its typed form, batches included.
//
// # Batches and zero-copy
//
// [Writer.PushMany], [Reader.PopInto] and their byte-item forms
// [Writer.PushBytesMany] and [Reader.PopBytesInto] move many items per call
// with one cursor update (and, with Flock, one lock or one mark), which is
// several times faster than one call per item. For large items in a Queue
// buffer, [Writer.Claim] hands out the next slot's bytes to fill in place
// and [Writer.Commit] publishes them; [Reader.Peek] takes the next item
// under a lease and shows it in place, and [Reader.Release] consumes it.
// The slices are only valid until then.
//
// # Delivery: leases and positions
//
// A plain read (Pop, PopInto, the iterators) consumes its item before it
// returns: delivery is at most once. A reader that dies between that and
// using the item loses it.
//
// A leased read delivers at least once. [Reader.Take] (and TakeWait,
// TakeBytes, TakeBytesWait, [TypedReader.Take], the [Reader.Leases]
// iterator) takes the next item of a Queue buffer under a [Lease]; the item
// is consumed only when the lease is acknowledged ([Lease.Ack]). A reader
// that cannot process an item gives it back ([Lease.GiveBack]); a reader
// that dies, at any instruction, leaves its leased items to be taken back:
// both go to the next reader that takes, before newer items. No clock is
// involved: a holder's death is proved by the kernel releasing its lock
// (below). [Lease.Deliveries] counts how many times the item was delivered,
// so a program can set aside an item that keeps killing its workers.
// Leased items keep their slots, so a writer waits for them as for unread
// items: back-pressure stays honest. A Reader may hold any number of
// leases at once, up to the buffer's Length.
//
// Every item has a position: its sequence number since the buffer was
// created, the same for every delivery of it. [Lease.Pos] is a leased
// item's; [Reader.Pos] is that of the item (or the first item of the
// batch) the Reader's last read returned, in both modes. A consumer that
// records, with each effect, the position it applied, and skips positions
// it applied already, makes its effects exactly once; the position is also
// an offset to commit.
//
// With the Flock strategy readers take items without a lock: each marks
// the item's state word in the file by compare-and-swap, with its holder
// token. That needs holder locks (Linux and Windows); elsewhere Flock
// readers take under the file lock, and leases are not offered
// ([ErrUnsupported]).
//
// # Waiting
//
// A blocking call first polls the cursor it waits on (see Options.Spin;
// by default for up to 30 µs more while the other side keeps pace), then
// yields the processor to other threads and processes, then sleeps;
// after waits that ended asleep it spins less, and while yields show that
// the machine has more runnable threads than cores it skips yielding and
// sleeps at once (a yield would hand its core away for a time slice). On
// Linux it sleeps on a futex in the shared header and the other side wakes
// it: the side that finds sleepers registered claims them and makes one
// system call per sleep, none when nobody sleeps. macOS and FreeBSD do the
// same with their shared-memory waits, and Windows with a named event per
// wake-up word. A writer waiting for room is woken once a quarter of the
// ring is free, or after at most 5 ms. A reader is woken at the first
// item, unless it is a Queue reader opened with Options.BatchWake asleep
// in a batch read (PopIntoWait, PopManyWait, PopBytesIntoWait, for more
// than one item): a writer of batches (PushMany and its kin) then wakes
// it once a quarter of the ring is ready to take, or its first sleep, a
// nap of at most a millisecond, ends; items may reach it up to about a
// millisecond late, in exchange for a fraction of the wake-ups.
// Elsewhere (NetBSD, OpenBSD) a blocking call sleeps in steps of up to a
// millisecond, so it may wake up to a millisecond late, and a done context
// ends its wait within a millisecond.
//
// If the context is already done, a Wait call may still succeed without
// blocking: it makes its attempt first, and returns the context's error
// only where it would otherwise wait. A PopWait with items ready returns
// one, a PushWait with room writes; a batch call does what it can without
// waiting, and returns the context's error only if it would have to wait
// to finish (PushManyWait with room for part of its batch writes that
// part). The same holds for a context that ends during the wait: an
// item (or room) that came before the call saw the context done is taken,
// so a consumer whose producer pushes its last item and exits (which may
// cancel the consumer's context) gets that item. With the Flock strategy
// a done context also ends the wait for a file lock that another handle
// holds.
//
// # Modes
//
// A [Queue] buffer (the default) delivers every item to exactly one reader,
// in order. Its read cursor lives in the file: a reader that reopens the
// buffer continues where the previous one stopped. When Length items are
// unread, a push fails with ErrFull or waits; nothing is overwritten.
//
// A [Broadcast] buffer gives each reader its own cursor, starting at the
// oldest item still in the buffer (or, with Options.SkipBacklog, at the
// next one written). Every reader sees every item written after it starts.
// The writer never waits: a full ring overwrites its oldest item. A reader
// that falls more than Length items behind is never handed a torn or
// overwritten item; the read that notices skips to the oldest item still held and
// returns an [*OverrunError] with the number lost, and [Reader.Lost] keeps
// the total.
//
// # Strategies
//
// With the [Atomic] strategy (the default) no operation takes a lock. The
// cursors are 64-bit counters in the mapping, updated with sync/atomic, and
// a slot is published only after its bytes are written. There is one writer
// at a time and, for a Queue, one reader at a time; a second gets [ErrBusy].
// Broadcast buffers take any number of readers.
//
// With the [Flock] strategy any number of writers and readers in any number
// of processes may share a buffer; in Queue mode each item still goes to
// exactly one reader. Every write holds the writers' lock for its duration.
// On Linux and Windows that lock is a word in the header, taken by
// compare-and-swap with no system call when free, and Queue readers take
// no lock at all (they mark the items they take, above); elsewhere every
// operation locks the buffer file.
//
// Both strategies hold their roles and file locks with flock(2)
// (LockFileEx on Windows), and prove Flock's lock words free with byte
// locks, all of which the kernel releases when a process dies: a crashed
// process never keeps another out for more than a few milliseconds.
//
// # Files
//
// A buffer called jobs is the file jobs.scb in the directory from
// Options.Dir, else $SCB_DIR, else /dev/shm on Linux or /private/tmp on
// macOS, else os.TempDir() (see [DefaultDir]). The Atomic strategy keeps its role locks in
// jobs.scb.<id>.wlock and jobs.scb.<id>.rlock beside it, named after a
// random id in its header, so that a buffer created again under the same
// name never shares a role with one that was removed. The file begins with
// a header page: magic, format version, the geometry, a checksum, and the
// shared cursors on separate cache lines; internal/layout documents the layout.
// Openers take the geometry from the header, and refuse a file whose magic,
// version, checksum or size is wrong with [ErrCorrupt] before mapping it.
// This is format version 6 (the type record of a buffer made by
// [CreateTyped]; version 5 brought slots without lengths for fixed-size items;
// version 4 brought a holder table after the header page, which records
// every attached handle, and version 3 a Queue buffer's take cursor and
// the state word of each slot): files made by a version of
// this package that wrote an earlier version are refused, and such a
// version refuses this package's files; recreate buffers when upgrading.
// Buffers last until [Remove]; Close only detaches.
//
// # End of stream and liveness
//
// [Writer.CloseWrite] ends the stream: readers read every item written
// before it and then get io.EOF, unwrapped, from every read, blocking ones
// at once, and the iterators end. A writer that attaches later opens the
// stream again: a new run (Info.Generation counts them). A reader that
// attaches to an ended stream belongs to the ended run if it has items
// of it left to read (a Queue's unread items; what a Broadcast ring still
// holds, unless SkipBacklog), or while a writer of that run is still
// attached: it reads them and gets io.EOF. Otherwise the run is over for
// everyone, and the reader belongs to the next one: its blocking reads and
// iterators wait for the next writer instead of ending at once, so a
// program run twice on one name with the calls of a single run
// (CreateOrOpen, CloseWrite, OpenReaderWait, Values) works even when the
// second run's consumer starts first. (Where holder locks cannot tell
// whether a writer is attached, every platform but Linux and Windows, a
// reader belongs to the ended run.) A program whose late readers must see
// the end of a run that nobody writes to any more keeps a writer attached
// until they are done, or removes the buffer when the run ends: then a
// reader of the next run waits in OpenReaderWait for the next Create.
// A reader blocked waiting for items whose writers are all gone, closed or
// dead, without an end of stream, gets [ErrWriterGone] after
// Options.Grace (a standby writer that takes over within it continues the
// stream); a Queue writer blocked on a full ring whose readers are all
// gone, [ErrReaderGone].
//
// [Stat] reports whether the stream ended, and who is
// attached: every handle, of every role, strategy and mode, with its
// process, when it attached and what it waits for (Info.Holders). A
// handle counts as attached only while the kernel holds its holder lock, a
// byte lock that goes with the handle's file or process (Linux and
// Windows; elsewhere Stat proves nobody and lists nobody); a process id
// read from the file is never believed on its own. [ErrBusy] names a
// role's holder only when its lock proves it.
// [OpenReaderWait] and [OpenWriterWait] wait for the buffer to exist and
// the role to be free, so a standby consumer takes over when the active
// one closes or dies; [CreateOrOpen] is for producers that may start
// second. A blocking call whose buffer is removed or replaced while it
// waits returns [ErrRemoved] once it can never proceed.
//
// # Concurrency
//
// A Writer or Reader of the Atomic strategy must be used by one goroutine
// at a time, Close included (open one handle per goroutine of a Broadcast
// reader, for instance). A program that breaks the rule gets errors
// matching ErrBusy from the calls that collide, which publish nothing:
// every cursor moves by compare-and-swap from where its handle left it, so
// other processes never see a damaged buffer. Handles of the Flock
// strategy are safe for concurrent use, and Close ends their goroutines'
// waits.
//
// # Caveats
//
//   - What a crash loses. A push publishes its item with one atomic store
//     of the write cursor, made before it returns; a Queue pop consumes its
//     item with one store of the read cursor, also made before it returns.
//     A writer killed in the middle of a push therefore loses at most that
//     push's item: killed before the store, no reader ever sees the item and
//     the next writer reuses its slot; killed after it, the item is
//     delivered though the push never returned. Every item whose push
//     returned is delivered (Queue) or read or counted lost (Broadcast).
//     In Broadcast mode a push into a full ring has started overwriting the
//     oldest item, which is gone too: a reader that had not read it gets an
//     [*OverrunError] counting it. A Queue reader killed in the middle of a
//     pop loses nothing if it died before consuming (the next reader gets
//     that item), and the items that call was returning if it died after:
//     they are consumed, but the application never had them. No item is
//     ever delivered twice by plain reads, torn, or out of order (a Flock
//     reader that dies mid-pop leaves its items to be taken back, first,
//     by the next reader). A batch call (PushMany, PopInto and their kin)
//     publishes or consumes all its items with one store, so for it the
//     whole batch is what is in doubt. Leased reads lose nothing (see
//     Delivery). A Broadcast reader's cursor is its own, so its death
//     changes nothing for the others.
//   - Roles are held with flock(2) (LockFileEx on Windows), which the
//     kernel releases when a process dies, so a replacement takes the role
//     at once. Flock's lock words are proved dead by byte locks the kernel
//     drops the same way (open file description locks on Linux, LockFileEx
//     byte ranges on Windows), so a lock a dead process held is taken over
//     within a few milliseconds. Create builds the file under a temporary name and links
//     it into place complete, so a Create killed half-way leaves no buffer
//     (Remove deletes its temporary file).
//   - A process stopped (SIGSTOP, a debugger) while it holds a Flock lock
//     stalls the other users of that side of the buffer (writers; every
//     user where Flock locks the file) until it resumes; only death
//     releases a lock. Their calls keep trying, and a Wait call's context or
//     the handle's Close ends the attempt. A stopped reader's leases, or a
//     Flock reader stopped in the middle of a read, keep their items (and
//     slots) until it resumes or dies; other readers take the items after
//     them meanwhile.
//   - Taken back "before newer items" holds once a reader looks: a Flock
//     reader asks the holders of the taken items whether they live at most
//     once a millisecond, when the front of the queue has not moved since
//     its last read or every 64 reads, so a few newer items can come
//     before a dead holder's. A reader waiting for items asks each time its
//     bounded sleep ends (within 100 ms on Linux), and when it is woken
//     while another holder has the item at the front, so a dead holder's
//     item at the front comes before the item whose arrival woke the
//     reader. Deliveries saturate at 255.
//   - A process killed while sleeping in a blocking call leaves its
//     registration as a sleeper in the header, which costs the other side
//     one wake-up system call, once: a wake-up claims every registration.
//   - Truncating a buffer file while it is mapped is outside what scb can
//     guard: a process touching a page past the new end dies of SIGBUS
//     ("unexpected fault address"), as with any mapped file, and openers
//     then refuse the file with [ErrCorrupt]. Zeroing it (truncating and
//     extending again) makes an Atomic reader report ErrCorrupt (the write
//     cursor went back), an Atomic writer on its next publish (its cursor
//     is gone), and Flock handles too (they check the header's magic under
//     every lock); openers refuse it (bad magic). Renaming
//     another file over it leaves the handles working on the old file,
//     which no new opener can reach. Use Remove, which unlinks the file and
//     leaves existing mappings intact.
//   - Handles validate the header at open and keep the geometry they
//     validated (Flock handles also check the header's magic under every
//     lock); damage to the cursors or to a slot's length found later is
//     reported as ErrCorrupt by the call that finds it, never trusted.
//   - The Atomic strategy needs lock-free 64-bit atomics: it is available on
//     64-bit architectures (amd64, arm64, ppc64, riscv64, s390x, loong64,
//     mips64) and on 386, and refused with [ErrUnsupported] elsewhere (arm,
//     mips, wasm), where Flock works.
//   - Where blocking calls poll (NetBSD, OpenBSD), one that has slept wakes
//     up to a millisecond after its item or room arrives; on Windows, one
//     of several sleepers of one word that race a wake-up can miss it and
//     wake up to 10 ms late (about 16 ms with Windows' default clock tick).
package scb
