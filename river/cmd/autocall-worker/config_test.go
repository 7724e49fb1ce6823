package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// A credential without AUTOCALL_BASE_URL is a real account's: run on the
// sandbox, its jobs would be recorded placed and never called. The worker
// refuses to start.
func TestCredentialWithoutBaseURLIsRefused(t *testing.T) {
	db := pg.DB(t)
	migrate(t, db)
	for _, env := range []map[string]string{
		{"AUTOCALL_SECRET_KEY": "sk-real-account"},
		{"AUTOCALL_API_KEY": "ak-real-account"},
	} {
		env["DATABASE_URL"] = db
		var stdout, stderr bytes.Buffer
		// Bounded: a worker that started would work until cancelled.
		runCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		code := execute(runCtx, []string{"run"}, &stdout, &stderr, func(k string) string { return env[k] })
		cancel()
		if code == 0 || !strings.Contains(stderr.String(), "AUTOCALL_BASE_URL is not") {
			t.Errorf("%v: exit %d, %q", env, code, stderr.String())
		}
		if strings.Contains(stdout.String()+stderr.String(), "sandbox at") {
			t.Errorf("%v: started on the sandbox: %q", env, stdout.String())
		}
		for _, v := range env {
			if strings.Contains(v, "real-account") && strings.Contains(stdout.String()+stderr.String(), v) {
				t.Errorf("the credential was printed")
			}
		}
	}
}

// SIGTERM while the worker waits for an unreachable database is a stop
// asked for: exit 0; a database still unreachable after --wait-db is a
// failure: exit 1.
func TestStopWhileWaitingForTheDatabaseExitsZero(t *testing.T) {
	env := map[string]string{"DATABASE_URL": "postgres://nobody@127.0.0.1:1/none?connect_timeout=1"}
	getenv := func(k string) string { return env[k] }
	var stdout, stderr bytes.Buffer
	runCtx, cancel := context.WithTimeout(ctx, 500*time.Millisecond) // the signal
	code := execute(runCtx, []string{"run"}, &stdout, &stderr, getenv)
	cancel()
	if code != 0 {
		t.Errorf("stopped while waiting: exit %d, %q", code, stderr.String())
	}
	stderr.Reset()
	code = execute(ctx, []string{"run", "--wait-db", "300ms"}, &stdout, &stderr, getenv)
	if code != 1 || !strings.Contains(stderr.String(), "unreachable") {
		t.Errorf("--wait-db spent: exit %d, %q", code, stderr.String())
	}
}
