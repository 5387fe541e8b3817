package main

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sharedcbuff/scb"
)

// removedWithin bounds how soon a command following a buffer ends once the
// buffer is removed: the library notices within about a quarter of a
// second; the rest is slack for a loaded machine.
const removedWithin = 5 * time.Second

// TestFollowRemoved removes, or replaces, the buffer that pop --follow and
// watch follow: each ends with status 1 and says so, after printing what it
// had.
func TestFollowRemoved(t *testing.T) {
	t.Parallel()
	for _, replace := range []bool{false, true} {
		for _, args := range [][]string{{"pop", "--follow"}, {"watch", "--interval", "300ms", "--count", "30"}} {
			t.Run(fmt.Sprintf("%s/replace=%v", args[0], replace), func(t *testing.T) {
				if args[0] == "pop" && runtime.GOOS == "windows" {
					t.Skip("Windows refuses to remove a buffer that a process has open")
				}
				t.Parallel()
				dir := t.TempDir()
				ok(t, dir, "", "create", "jobs", "--length", "4")
				ok(t, dir, "", "push", "jobs", "1", "2")
				p := start(t, dir, append(args, "jobs")...)
				if args[0] == "pop" {
					assert.Equal(t, []string{"1", "2"}, p.Lines(2))
				} else {
					assert.Regexp(t, `^jobs \[`, p.Line())
				}
				// Replaced at once, so that watch's next look finds the new
				// buffer, not none.
				require.NoError(t, scb.Remove("jobs", &scb.Options{Dir: dir}))
				removed := time.Now()
				if replace {
					w, err := scb.Create("jobs", &scb.Options{Dir: dir, Length: 4})
					require.NoError(t, err)
					require.NoError(t, w.Push(3))
					require.NoError(t, w.Close())
				}
				code, _ := p.Exit()
				took := time.Since(removed)
				assert.Equal(t, 1, code)
				assert.Equal(t, `scb: `+args[0]+` "jobs": buffer was removed`+"\n", p.Stderr())
				assert.Less(t, took, removedWithin)
				t.Logf("ended %v after the removal", took)
			})
		}
	}
}
