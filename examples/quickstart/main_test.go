package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/autocallvn/autocall-go/autocalltest"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestQuickstartOnTheSandbox(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, envOf(nil)))
	s := out.String()
	assert.Contains(t, s, "built-in sandbox")
	assert.Contains(t, s, "heard:    Chào bạn Nguyễn Văn A vui lòng thanh toán khoản nợ mười triệu bốn trăm mười nghìn trước ngày ba mươi tháng một năm hai không hai mươi mốt")
	assert.Contains(t, s, "status ANSWERED after 15s")
	assert.Contains(t, s, "accepted: session ")
	assert.Contains(t, s, "key 127: no key pressed, the callee hung up")
	assert.Contains(t, s, "+07:00 (Vietnam time)")
	assert.Contains(t, s, "When the answer is lost: ErrOutcomeUnknown")
	assert.Contains(t, s, "the provider did place 1 call")
	assert.True(t, strings.HasSuffix(s, "Done.\n"), s)
}

func TestQuickstartWithRealCredentials(t *testing.T) {
	// A "real provider" that happens to be a sandbox, so nobody is phoned.
	srv := autocalltest.NewServer()
	defer srv.Close()
	stop := make(chan struct{})
	defer close(stop)
	go func() { // the provider's time passes
		for {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
				srv.Advance(10 * time.Second)
			}
		}
	}()
	var out bytes.Buffer
	err := run(context.Background(), &out, envOf(map[string]string{
		"AUTOCALL_BASE_URL": srv.URL, "AUTOCALL_SECRET_KEY": autocalltest.SecretKey,
		"AUTOCALL_TO": "0912340001", "AUTOCALL_CAMPAIGN_ID": "9", "AUTOCALL_CALLER": "02873001234",
	}))
	require.NoError(t, err)
	assert.Contains(t, out.String(), "Using the REAL provider at "+srv.URL)
	assert.Contains(t, out.String(), "status BUSY")
	assert.NotContains(t, out.String(), "OMICall", "a secret key is TEL4VN only")

	out.Reset()
	require.NoError(t, run(context.Background(), &out, envOf(map[string]string{"AUTOCALL_BASE_URL": srv.URL, "AUTOCALL_API_KEY": autocalltest.APIKey})))
	assert.Contains(t, out.String(), "Auto-call skipped")
	assert.Empty(t, srv.Sessions(), "no AUTOCALL_TO, no call")
}

func TestQuickstartConfigErrors(t *testing.T) {
	for _, env := range []map[string]string{
		{"AUTOCALL_BASE_URL": "https://api.example.test"},
		{"AUTOCALL_BASE_URL": "https://api.example.test", "AUTOCALL_ACCESS_TOKEN": "t"},
		{"AUTOCALL_BASE_URL": "not a url", "AUTOCALL_SECRET_KEY": "k"},
	} {
		var out bytes.Buffer
		assert.Error(t, run(context.Background(), &out, envOf(env)), "%v", env)
	}
}
