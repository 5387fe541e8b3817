// peer: the workloads of `scb bench` on Boost.Interprocess message_queue,
// the lock-based shared-memory queue (a mutex and two condition variables
// in shared memory) that C++ programs reach for. Every measurement runs
// across real processes made with fork(): the parent produces, children
// consume (or echo, or spin as load), and every consumer checks every item.
//
// Counts mirror scb bench with --items N: N 8-byte items per throughput
// run, N/10 1 KiB items, N/10 items per MPMC or oversubscribed run (but
// N for oversubscribed batches), N/100
// round trips; a tenth more first as an untimed warm-up (none for MPMC,
// as in scb bench). Queue capacities match scb's rings in items: 1024
// messages of 8 B, 256 of 1 KiB. message_queue has no batch API, so
// "batches of 64" sends 512-byte messages holding 64 items each, in a
// queue of 16 such messages (1024 items).
//
// Output, one line per figure: id, value, unit, description, tab-separated;
// throughput in M items/s, round trips as the p50 in µs. With --runs R the
// value is the median of R runs.
//
// Usage: peer [--items N] [--runs R] [--only id,id,...] [--load K]
#include <boost/interprocess/ipc/message_queue.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace bip = boost::interprocess;
using Clock = std::chrono::steady_clock;

static const uint64_t kStop = ~uint64_t(0);
static const int kShift = 40; // MPMC items: writer << kShift | sequence
static int load_procs = 4;
static int qcount = 0;

static void die(const std::string &msg) {
    fprintf(stderr, "peer: %s\n", msg.c_str());
    exit(1);
}

static std::string qname() {
    return "scb-peer-" + std::to_string(getpid()) + "-" + std::to_string(qcount++);
}

// A one-byte-per-event pipe from children to the parent.
struct Signal {
    int fd[2];
    Signal() {
        if (pipe(fd) != 0) die("pipe");
    }
    void send() {
        char c = 1;
        if (write(fd[1], &c, 1) != 1) _exit(3);
    }
    void wait(int k = 1) {
        for (int i = 0; i < k; i++) {
            char c;
            if (read(fd[0], &c, 1) != 1) die("a child exited early");
        }
    }
    ~Signal() {
        close(fd[0]);
        close(fd[1]);
    }
};

// child runs f in a new process, which exits with 0 if f returns true.
template <class F> static pid_t child(F f) {
    pid_t p = fork();
    if (p < 0) die("fork");
    if (p == 0) {
        alarm(300); // never outlive a stuck parent by much
        bool ok = false;
        try {
            ok = f();
        } catch (std::exception &e) {
            fprintf(stderr, "peer child: %s\n", e.what());
        }
        _exit(ok ? 0 : 1);
    }
    return p;
}

static void reap(pid_t p) {
    int st;
    if (waitpid(p, &st, 0) != p || !WIFEXITED(st) || WEXITSTATUS(st) != 0) die("a child failed");
}

// Load: k processes spinning on the CPU, killed when it goes.
struct Load {
    std::vector<pid_t> ps;
    explicit Load(int k) {
        for (int i = 0; i < k; i++) {
            pid_t p = fork();
            if (p < 0) die("fork");
            if (p == 0) {
                alarm(300);
                volatile uint64_t x = 0;
                for (;;) x = x + (x >> 3) + 1;
            }
            ps.push_back(p);
        }
    }
    ~Load() {
        for (pid_t p : ps) kill(p, SIGKILL);
        for (pid_t p : ps) waitpid(p, nullptr, 0);
    }
};

// Queue creates a message_queue and removes its name when it goes.
struct Queue {
    std::string name;
    bip::message_queue *q;
    Queue(size_t msgs, size_t size) : name(qname()) {
        bip::message_queue::remove(name.c_str());
        q = new bip::message_queue(bip::create_only, name.c_str(), msgs, size);
    }
    ~Queue() {
        delete q;
        bip::message_queue::remove(name.c_str());
    }
};

static void recv_exact(bip::message_queue &q, void *buf, size_t size) {
    size_t got;
    unsigned prio;
    q.receive(buf, size, got, prio);
    if (got != size) throw std::runtime_error("short message");
}

// throughput moves n items of size bytes, batch per message, and returns
// items per second.
static double throughput(size_t size, int batch, long n, size_t msgs, int load) {
    Load l(load); // first, so that the spinners hold none of the pipes
    size_t msg = size * batch;
    Queue q(msgs, msg);
    long wn = n / 10;
    Signal sig;
    pid_t c = child([&] {
        bip::message_queue r(bip::open_only, q.name.c_str());
        std::vector<char> buf(msg);
        sig.send(); // ready
        for (long i = 0; i < wn + n;) {
            if (i == wn) sig.send(); // warm
            recv_exact(r, buf.data(), msg);
            long end = std::min(i + batch, i < wn ? wn : wn + n);
            for (int j = 0; i < end; j++, i++) {
                uint64_t v;
                memcpy(&v, buf.data() + j * size, 8);
                if (v != uint64_t(i)) {
                    fprintf(stderr, "item %ld has number %llu\n", i, (unsigned long long)v);
                    return false;
                }
            }
        }
        sig.send(); // done
        return true;
    });
    sig.wait();
    std::vector<char> buf(msg);
    Clock::time_point t0;
    for (long i = 0; i < wn + n;) {
        if (i == wn) {
            sig.wait();
            t0 = Clock::now();
        }
        // Batches do not straddle the end of the warm-up.
        long end = std::min(i + batch, i < wn ? wn : wn + n);
        for (int k = 0; i < end; k++, i++) {
            uint64_t v = i;
            memcpy(buf.data() + k * size, &v, 8);
        }
        q.q->send(buf.data(), msg, 0); // a part batch is padded
    }
    sig.wait();
    double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    reap(c);
    return n / secs;
}

// roundtrip bounces n 8-byte items off a child over two queues, blocking
// on both ends, and returns the median round trip in seconds.
static double roundtrip(long n) {
    Queue ping(64, 8), pong(64, 8);
    long wn = n / 10;
    Signal sig;
    pid_t c = child([&] {
        bip::message_queue in(bip::open_only, ping.name.c_str()), out(bip::open_only, pong.name.c_str());
        sig.send();
        for (long i = 0; i < wn + n; i++) {
            uint64_t v;
            recv_exact(in, &v, 8);
            out.send(&v, 8, 0);
        }
        return true;
    });
    sig.wait();
    std::vector<double> rtts(wn + n);
    for (long i = 0; i < wn + n; i++) {
        auto t0 = Clock::now();
        uint64_t v = i;
        ping.q->send(&v, 8, 0);
        recv_exact(*pong.q, &v, 8);
        rtts[i] = std::chrono::duration<double>(Clock::now() - t0).count();
        if (v != uint64_t(i)) die("a round trip came back wrong");
    }
    reap(c);
    std::vector<double> timed(rtts.begin() + wn, rtts.end());
    std::sort(timed.begin(), timed.end());
    return timed[timed.size() / 2];
}

// mpmc moves n items from k writer processes to k reader processes
// through one queue and returns items per second, from the moment all are
// attached to the last item received.
static double mpmc(int k, long n, int load) {
    Load l(load); // first, so that the spinners hold none of the pipes
    Queue q(1024, 8);
    Signal ready, sums;
    int go[2];
    if (pipe(go) != 0) die("pipe");
    std::vector<pid_t> writers, readers;
    uint64_t want = 0;
    for (int w = 0; w < k; w++) {
        long items = n / k + (w < n % k ? 1 : 0);
        for (long i = 0; i < items; i++) want += uint64_t(w) << kShift | uint64_t(i);
        writers.push_back(child([&, w, items] {
            close(go[1]);
            bip::message_queue out(bip::open_only, q.name.c_str());
            ready.send();
            char c;
            if (read(go[0], &c, 1) != 0) return false;
            for (long i = 0; i < items; i++) {
                uint64_t v = uint64_t(w) << kShift | uint64_t(i);
                out.send(&v, 8, 0);
            }
            return true;
        }));
    }
    for (int r = 0; r < k; r++) {
        readers.push_back(child([&] {
            close(go[1]);
            bip::message_queue in(bip::open_only, q.name.c_str());
            ready.send();
            char c;
            if (read(go[0], &c, 1) != 0) return false;
            std::map<uint64_t, uint64_t> next;
            uint64_t res[2] = {0, 0}; // count, sum
            for (;;) {
                uint64_t v;
                recv_exact(in, &v, 8);
                if (v == kStop) break;
                uint64_t w = v >> kShift, seq = v & ((uint64_t(1) << kShift) - 1);
                if (seq < next[w]) return false;
                next[w] = seq + 1;
                res[0]++;
                res[1] += v;
            }
            if (write(sums.fd[1], res, sizeof res) != sizeof res) return false;
            return true;
        }));
    }
    ready.wait(2 * k);
    close(go[0]);
    auto t0 = Clock::now();
    close(go[1]);
    for (pid_t p : writers) reap(p);
    for (int r = 0; r < k; r++) {
        uint64_t v = kStop;
        q.q->send(&v, 8, 0);
    }
    uint64_t count = 0, sum = 0;
    for (int r = 0; r < k; r++) {
        uint64_t res[2];
        if (read(sums.fd[0], res, sizeof res) != sizeof res) die("a reader exited early");
        count += res[0];
        sum += res[1];
    }
    double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    for (pid_t p : readers) reap(p);
    if (count != uint64_t(n) || sum != want) die("MPMC readers got the wrong items");
    return n / secs;
}

struct Figure {
    std::string id, unit, what;
};

int main(int argc, char **argv) {
    long items = 5000000;
    int runs = 1;
    std::set<std::string> only;
    for (int i = 1; i < argc; i++) {
        std::string a = argv[i];
        auto val = [&]() -> std::string {
            if (i + 1 >= argc) die("missing value for " + a);
            return argv[++i];
        };
        if (a == "--items") items = atol(val().c_str());
        else if (a == "--runs") runs = atoi(val().c_str());
        else if (a == "--load") load_procs = atoi(val().c_str());
        else if (a == "--only") {
            std::string s = val();
            size_t p = 0;
            while (p <= s.size()) {
                size_t e = s.find(',', p);
                if (e == std::string::npos) e = s.size();
                if (e > p) only.insert(s.substr(p, e - p));
                p = e + 1;
            }
        } else die("usage: peer [--items N] [--runs R] [--only id,...] [--load K]");
    }
    if (items < 100 || runs < 1) die("--items must be at least 100 and --runs at least 1");
    long medium = items / 10, contended = items / 10, rts = items / 100;
    std::vector<Figure> figs = {
        {"small", "M items/s", "8 B items, 1 per call"},
        {"batch", "M items/s", "8 B items, batches of 64 (512 B messages)"},
        {"1k", "M items/s", "1 KiB items, 1 per call"},
        {"rt-block", "µs", "round trip p50, blocking send/receive"},
        {"mpmc2", "M items/s", "2 writers + 2 readers, 8 B"},
        {"mpmc4", "M items/s", "4 writers + 4 readers, 8 B"},
        {"oversub-small", "M items/s", "8 B items, 1 per call, oversubscribed"},
        {"oversub-batch", "M items/s", "8 B items, batches of 64, oversubscribed"},
        {"oversub-mpmc2", "M items/s", "2 writers + 2 readers, 8 B, oversubscribed"},
    };
    std::map<std::string, std::vector<double>> vals;
    for (int run = 0; run < runs; run++) {
        for (auto &f : figs) {
            if (!only.empty() && !only.count(f.id)) continue;
            double v = 0;
            const std::string &id = f.id;
            if (id == "small") v = throughput(8, 1, items, 1024, 0) / 1e6;
            else if (id == "batch") v = throughput(8, 64, items, 16, 0) / 1e6;
            else if (id == "1k") v = throughput(1024, 1, medium, 256, 0) / 1e6;
            else if (id == "rt-block") v = roundtrip(rts) * 1e6;
            else if (id == "mpmc2") v = mpmc(2, contended, 0) / 1e6;
            else if (id == "mpmc4") v = mpmc(4, contended, 0) / 1e6;
            else if (id == "oversub-small") v = throughput(8, 1, contended, 1024, load_procs) / 1e6;
            // All the items, as scb bench does: a tenth of them in batches
            // takes a few ms, within one time slice, and may miss the load.
            else if (id == "oversub-batch") v = throughput(8, 64, items, 16, load_procs) / 1e6;
            else if (id == "oversub-mpmc2") v = mpmc(2, contended, load_procs) / 1e6;
            vals[id].push_back(v);
            fprintf(stderr, "[run %d/%d] %s: %.3g %s\n", run + 1, runs, f.what.c_str(), v, f.unit.c_str());
        }
    }
    for (auto &f : figs) {
        auto &v = vals[f.id];
        if (v.empty()) continue;
        std::sort(v.begin(), v.end());
        double m = v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
        printf("%s\t%.4g\t%s\t%s\n", f.id.c_str(), m, f.unit.c_str(), f.what.c_str());
        fflush(stdout);
    }
    return 0;
}
