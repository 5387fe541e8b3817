//go:build !windows

package child

// spuriousStartError reports false: only Wine's CreateProcess fails
// spuriously (see start_windows.go).
func spuriousStartError(err error) bool { return false }
