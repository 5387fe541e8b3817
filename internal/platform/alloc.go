package platform

// Allocating a buffer file, shared by every platform: writing zeros.

import "os"

// writeZeros writes size zero bytes to f from offset 0, which both sizes
// the file and makes the file system allocate every block.
func writeZeros(f *os.File, size int64) error {
	zeros := make([]byte, min(size, 1<<20))
	for off := int64(0); off < size; {
		n, err := f.WriteAt(zeros[:min(int64(len(zeros)), size-off)], off)
		if err != nil {
			return err
		}
		off += int64(n)
	}
	return nil
}
