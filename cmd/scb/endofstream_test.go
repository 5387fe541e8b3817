package main

import (
	"encoding/json"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEndOfStream: pop --follow started before the buffer exists waits for
// it, prints every item, and exits 0 when push --end ends the stream; stat
// and ls say so.
func TestEndOfStream(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := start(t, dir, "pop", "--follow", "jobs")
	ok(t, dir, "", "create", "jobs")
	ok(t, dir, "1\n2\n3\n", "push", "jobs", "--wait", "--end", "-")
	assert.Equal(t, []string{"1", "2", "3"}, p.Lines(3))
	code, rest := p.Exit()
	assert.Equal(t, 0, code, "pop --follow ends with the stream")
	assert.Empty(t, rest)

	var info map[string]any
	require.NoError(t, json.Unmarshal([]byte(ok(t, dir, "", "stat", "jobs", "--json")), &info))
	assert.Equal(t, true, info["ended"])
	assert.Contains(t, info, "readers_waiting")
	assert.Contains(t, ok(t, dir, "", "stat", "jobs"), "stream     ended, run 0 (")
	assert.Contains(t, ok(t, dir, "", "ls"), "ended")

	// Nothing left: a plain pop says empty (status 3); a new writer opens
	// the stream again.
	assert.Equal(t, exitEmpty, runScb(t, dir, "", "pop", "jobs").code)
	ok(t, dir, "", "push", "jobs", "4")
	assert.Equal(t, "4\n", ok(t, dir, "", "pop", "jobs"))
	assert.Contains(t, ok(t, dir, "", "stat", "jobs"), "stream     open, run 1\n")
}

// TestStatShowsAttachedWriter: stat names the process that holds an Atomic
// buffer's writer role.
func TestStatShowsAttachedWriter(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ok(t, dir, "", "create", "jobs", "--length", "2")
	ok(t, dir, "", "push", "jobs", "1", "2")
	p := start(t, dir, "push", "jobs", "--wait", "3") // waits for room, holding the role
	deadline := time.Now().Add(10 * time.Second)
	for {
		var info map[string]any
		require.NoError(t, json.Unmarshal([]byte(ok(t, dir, "", "stat", "jobs", "--json")), &info))
		if pid, _ := info["writer_pid"].(float64); pid > 0 {
			break
		}
		require.True(t, time.Now().Before(deadline), "stat never showed the waiting push's pid")
		time.Sleep(5 * time.Millisecond)
	}
	assert.Regexp(t, `#\d+ +writer, pid \d+`, ok(t, dir, "", "stat", "jobs"))
	assert.Equal(t, "1\n", ok(t, dir, "", "pop", "jobs"))
	code, _ := p.Exit()
	assert.Equal(t, 0, code)
}

// TestPopGrace: pop --follow --grace D exits 1, saying the writers are
// gone, once the writer that wrote has been gone for D without ending the
// stream; without --grace it waits for the next writer (scb push comes and
// goes).
func TestPopGrace(t *testing.T) {
	if runtime.GOOS != "linux" && runtime.GOOS != "windows" {
		t.Skip("no holder locks on " + runtime.GOOS + ": nothing proves a writer gone")
	}
	t.Parallel()
	dir := t.TempDir()
	ok(t, dir, "", "create", "jobs")
	ok(t, dir, "", "push", "jobs", "1", "2")
	p := start(t, dir, "pop", "--follow", "--grace", "200ms", "jobs")
	assert.Equal(t, []string{"1", "2"}, p.Lines(2))
	code, rest := p.Exit()
	assert.Equal(t, 1, code)
	assert.Empty(t, rest)
	assert.Equal(t, `scb: pop "jobs": every writer is gone`+"\n", p.Stderr())

	waiting := start(t, dir, "pop", "--follow", "jobs")
	time.Sleep(700 * time.Millisecond) // past the library's default grace
	ok(t, dir, "", "push", "jobs", "3", "--end")
	assert.Equal(t, []string{"3"}, waiting.Lines(1))
	code, _ = waiting.Exit()
	assert.Equal(t, 0, code)
}

// TestPushEndAlone: push --end without a value ends the stream (it once
// said "missing VALUE"; it took "-" and an empty standard input).
func TestPushEndAlone(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ok(t, dir, "", "create", "jobs")
	ok(t, dir, "", "push", "jobs", "7")
	ok(t, dir, "", "push", "jobs", "--end")
	assert.Equal(t, "7\n", ok(t, dir, "", "pop", "jobs", "--follow"), "pop --follow reads 7 and ends with the stream")
	assert.Contains(t, ok(t, dir, "", "stat", "jobs"), "stream     ended, run 0 (")
}
