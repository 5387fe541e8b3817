package layout

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTypeRecordRoundTrip encodes records and decodes them back; a name
// too long for the record is cut on a character boundary, and a
// fingerprint of 0 (which records no type) becomes 1.
func TestTypeRecordRoundTrip(t *testing.T) {
	long := strings.Repeat("é", MaxTypeName) // 2 bytes each
	for _, tc := range []struct {
		sum        uint64
		name, want string
		wantSum    uint64
	}{
		{42, "main.Reading", "main.Reading", 42},
		{0, "x", "x", 1},
		{7, "", "", 7},
		{9, long, long[:MaxTypeName-1], 9},
		{9, strings.Repeat("a", 300), strings.Repeat("a", MaxTypeName), 9},
	} {
		line := make([]byte, LineSize)
		NewTypeRecord(tc.sum, tc.name).Encode(line)
		r, err := DecodeType(line)
		require.NoError(t, err)
		assert.Equal(t, TypeRecord{Sum: tc.wantSum, Name: tc.want}, r)
	}
	r, err := DecodeType(make([]byte, LineSize))
	require.NoError(t, err)
	assert.Equal(t, TypeRecord{}, r, "a zero line records no type")
}

// FuzzDecodeType: any bytes decode to a record that encodes back to the
// same bytes, or to an error; never a panic.
func FuzzDecodeType(f *testing.F) {
	good := make([]byte, LineSize)
	NewTypeRecord(42, "main.Reading").Encode(good)
	f.Add(good)
	f.Add(make([]byte, LineSize))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeType(b)
		if err != nil {
			return
		}
		require.True(t, utf8.ValidString(r.Name))
		again := make([]byte, LineSize)
		r.Encode(again)
		require.Equal(t, b[:LineSize], again)
	})
}
