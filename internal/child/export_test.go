package child

import "io"

// SetStartLog makes RetryStart report its retries to w until restore.
func SetStartLog(w io.Writer) (restore func()) {
	old := startLog
	startLog = w
	return func() { startLog = old }
}
