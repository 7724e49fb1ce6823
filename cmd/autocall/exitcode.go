package main

import (
	"context"
	"errors"
	"time"

	autocall "github.com/autocallvn/autocall-go"
	"github.com/autocallvn/autocall-go/batch"
)

// Exit codes; see the package doc.
const (
	exitOK       = 0
	exitOther    = 1
	exitUsage    = 2
	exitAuth     = 3
	exitRefused  = 4
	exitUnknown  = 5
	exitPartial  = 6
	exitNetwork  = 7
	exitLater    = 8
	exitCodeHelp = `Exit codes:
  0  done
  1  anything else
  2  usage or validation error: nothing was sent
  3  the credential was refused
  4  the provider refused (quota, balance, not found, rate limit, …)
  5  outcome unknown: a call may have been placed; do not re-run blindly, look at the journal
  6  partial: this run refused some callees or rows, and placed the others
  7  not sent: the network (or the token source) failed before anything reached the provider
  8  later: nothing wrong, rows wait for a time (the provider's pause, Decree 91's hours or
     interval); run again after the time printed`
)

// classExit is the exit code of each class of failure, as the SDK decided
// it where it read the answer (autocall.OutcomeOf). A refused credential
// is exitAuth whatever its class.
var classExit = map[autocall.Class]int{
	autocall.ClassNone:        exitOther, // not the SDK's error
	autocall.ClassInvalid:     exitUsage,
	autocall.ClassNotSent:     exitNetwork,
	autocall.ClassRateLimited: exitRefused,
	autocall.ClassRefused:     exitRefused,
	autocall.ClassUnknown:     exitUnknown,
	autocall.ClassFailed:      exitOther,
}

// exitCode maps an error to the documented exit codes.
func exitCode(err error) int {
	var ue *usageError
	var ce *codeError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue):
		return exitUsage
	case errors.As(err, &ce):
		return ce.code
	}
	return classCode(autocall.OutcomeOf(err))
}

// classCode is an outcome's exit code.
func classCode(o autocall.Outcome) int {
	if o.Cause == autocall.CauseAuth {
		return exitAuth
	}
	if code, ok := classExit[o.Class]; ok {
		return code
	}
	return exitOther
}

// codeError carries an exit code of its own (a batch's summary).
type codeError struct {
	code int
	msg  string
}

func (e *codeError) Error() string { return e.msg }

// unsentTally counts, by class, this run's jobs that ended Unsent for a
// failure of their own (not deferred, not left by a stop): what a batch's
// exit code is named by, rather than a guess from the counts.
type unsentTally map[autocall.Class]int

// note is a Runner.Progress hook: it reads each job's end.
func (t unsentTally) note(p batch.Progress) {
	if p.LastState == batch.Unsent && p.LastErr != nil {
		t[autocall.OutcomeOf(p.LastErr).Class]++
	}
}

// batchCode is a CSV run's exit code, and for exitLater the earliest time
// a run may succeed: when the provider's pause ends, or else when the
// first deferred row may go. Rows this run refused come before a network
// failure or a wait: 7 and 8 are left to the next run, which names a row
// the journal holds as refused without changing the code, so exiting 7
// or 8 would hide the refusal for ever. Rows an earlier run refused do
// not change it either: cron would otherwise mail every minute for ever.
func batchCode(rep *batch.Report, fileRefused int, tally unsentTally) (code int, later time.Time) {
	var pause *batch.PauseError
	paused := errors.As(rep.Stopped, &pause)
	stop := autocall.OutcomeOf(rep.Stopped)
	interrupted := errors.Is(rep.Stopped, context.Canceled) || errors.Is(rep.Stopped, context.DeadlineExceeded)
	nonePlaced := rep.Placed+rep.AlreadyPlaced == 0
	// Rows the advertising rules deferred are no failure: they go later.
	unsent := rep.Unsent - len(rep.Deferred)
	switch {
	case len(rep.UnknownKeys) > 0:
		return exitUnknown, later
	case stop.Cause == autocall.CauseAuth:
		return exitAuth, later
	case interrupted:
		return exitOther, later
	case stop.Class != autocall.ClassNone && stop.Class != autocall.ClassNotSent:
		// A stop is named by its class, as a single command's error is:
		// a quota spent is 4.
		return classCode(stop), later
	case rep.Stopped != nil && !paused && stop.Class == autocall.ClassNone:
		return exitOther, later // the journal failed
	case rep.Refused+fileRefused > 0:
		return exitPartial, later
	case stop.Class == autocall.ClassNotSent:
		return classCode(stop), later // no token: 7
	case paused:
		return exitLater, pause.Until
	case nonePlaced && tally[autocall.ClassNotSent] > 0:
		return exitNetwork, later
	case nonePlaced && tally[autocall.ClassRateLimited] > 0:
		return exitRefused, later // asked to slow down at every try
	case unsent > 0:
		return exitPartial, later
	case len(rep.Deferred) > 0:
		later = rep.Deferred[0].NotBefore
		for _, d := range rep.Deferred {
			if d.NotBefore.Before(later) {
				later = d.NotBefore
			}
		}
		return exitLater, later
	}
	return exitOK, later
}
