//go:build !unix && !windows

package platform

// ProcessAlive cannot know without processes to ask: it says no.
func ProcessAlive(pid int) bool { return false }

// FlockHolder cannot ask who holds a lock here: never known.
func FlockHolder(string) (int, bool) { return 0, false }
