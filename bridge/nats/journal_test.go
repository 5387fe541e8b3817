package natsbridge

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestJournal writes journals and reads them back, and tells which
// messages are in the ring for each count of items written.
func TestJournal(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j")
	j, err := readJournal(path)
	require.NoError(t, err)
	assert.Empty(t, j.inRing(100), "no journal: nothing known in the ring")

	j = journal{start: 10, seqs: []uint64{7, 8, 9}, skip: []uint64{3}}
	require.NoError(t, j.write(path))
	got, err := readJournal(path)
	require.NoError(t, err)
	assert.Equal(t, j, got)
	for _, tc := range []struct {
		written uint64
		want    map[uint64]bool
	}{
		{5, map[uint64]bool{3: true}},
		{10, map[uint64]bool{3: true}},
		{11, map[uint64]bool{3: true, 7: true}},
		{13, map[uint64]bool{3: true, 7: true, 8: true, 9: true}},
		{99, map[uint64]bool{3: true, 7: true, 8: true, 9: true}},
	} {
		assert.Equal(t, tc.want, got.inRing(tc.written), "written %d", tc.written)
	}
}

// TestJournalDamaged: every damage is a clear error matching errJournal.
func TestJournalDamaged(t *testing.T) {
	good := (&journal{start: 1, seqs: []uint64{5, 6}, skip: []uint64{2}}).encode()
	for name, b := range map[string][]byte{
		"empty":     {},
		"short":     good[:20],
		"magic":     append([]byte("SCBNJ\x00\x00\x01"), good[8:]...),
		"truncated": good[:len(good)-1],
		"checksum":  append(append([]byte{}, good[:len(good)-1]...), good[len(good)-1]^1),
		"twice":     (&journal{seqs: []uint64{5, 5}}).encode(),
		"zero":      (&journal{skip: []uint64{0}}).encode(),
	} {
		_, err := decodeJournal(b)
		assert.True(t, errors.Is(err, errJournal), "%s: %v", name, err)
	}
	path := filepath.Join(t.TempDir(), "j")
	require.NoError(t, os.WriteFile(path, []byte("not a journal at all, really"), 0o600))
	_, err := readJournal(path)
	require.ErrorIs(t, err, errJournal)
	assert.Contains(t, err.Error(), path)
}

// FuzzJournal: any bytes decode to a journal that encodes back to the
// same bytes, or to an error matching errJournal; never a panic.
func FuzzJournal(f *testing.F) {
	f.Add((&journal{start: 1, seqs: []uint64{5, 6}, skip: []uint64{2}}).encode())
	f.Add((&journal{}).encode())
	f.Add([]byte("SCBNJ\x00\x00\x03"))
	f.Fuzz(func(t *testing.T, b []byte) {
		j, err := decodeJournal(b)
		if err != nil {
			require.ErrorIs(t, err, errJournal)
			return
		}
		if len(j.seqs) == 0 {
			j.seqs = nil
		}
		require.Equal(t, b, j.encode())
	})
}
