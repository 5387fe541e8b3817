package child

import (
	"fmt"
	"io"
	"os"
	"os/exec"
)

// startAttempts bounds how often RetryStart tries.
const startAttempts = 3

// startLog is where RetryStart reports its retries.
var startLog io.Writer = os.Stderr

// RetryStart calls start, which makes a command and starts it, and calls
// it again, up to three times in all, while it fails in a way that says
// nothing about the program (see spuriousStartError: Wine's CreateProcess
// does so on a busy machine). An exec.Cmd cannot be started twice, so
// start must make a fresh one each time. Each retry is reported on
// standard error; any other error, and the last, is returned as it is.
func RetryStart(start func() error) error {
	for attempt := 1; ; attempt++ {
		err := start()
		if err == nil || attempt == startAttempts || !spuriousStartError(err) {
			return err
		}
		fmt.Fprintf(startLog, "child: starting a process: %v; trying again\n", err)
	}
}

// StartFresh is Start on a command made by mk, retried as RetryStart does.
func StartFresh(mk func() (*exec.Cmd, error)) (*Proc, error) {
	var p *Proc
	err := RetryStart(func() error {
		cmd, err := mk()
		if err != nil {
			return err
		}
		p, err = Start(cmd)
		return err
	})
	return p, err
}
