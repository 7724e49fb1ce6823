package main

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/autocallvn/autocall-go/autocalltest"
)

// A credential given by flag replaces the environment's: with
// AUTOCALL_SECRET_KEY exported, a garbage --access-token is checked (and
// refused), never silently replaced by the exported key.
func TestFlagCredentialReplacesTheEnvironment(t *testing.T) {
	srv := sandbox(t)
	env := tel4vnEnv(srv)

	r := run(t, env, "token", "--access-token", "garbage-token-QQQ", "--provider", "tel4vn")
	assert.Equal(t, 3, r.code, "the flag's token is checked: %s%s", r.stdout, r.stderr)
	assert.NotContains(t, r.stdout, "accepted")

	before := len(srv.Calls())
	r = run(t, env, append([]string{"--access-token", "garbage-token-QQQ", "--provider", "tel4vn"}, append(otp, "0912300171")...)...)
	assert.Equal(t, 3, r.code, "the flag's token is used, not the exported secret: %s%s", r.stdout, r.stderr)
	assert.Len(t, srv.Calls(), before, "nobody phoned with the exported key")

	// An OMICall key in a file checks OMICall, not the exported TEL4VN key.
	keyFile := writeFile(t, "omicall.key", autocalltest.APIKey+"\n")
	r = run(t, env, "token", "--api-key-file", keyFile)
	assert.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "OMICall credential accepted")
	bad := writeFile(t, "bad.key", "wrong-api-key-ZZZ\n")
	r = run(t, env, "token", "--api-key-file", bad)
	assert.Equal(t, 3, r.code, r.stdout+r.stderr)

	// A TEL4VN command with only an OMICall key by flag has no TEL4VN
	// credential: the exported one is not used.
	before = len(srv.Requests())
	r = run(t, env, append([]string{"--api-key-file", keyFile}, append(otp, "0912300172")...)...)
	assert.Equal(t, 2, r.code, r.stdout+r.stderr)
	assert.Len(t, srv.Requests(), before, "nothing sent")
}

// Two credentials by flags: which was meant cannot be guessed.
func TestTwoFlagCredentialsAreAUsageError(t *testing.T) {
	srv := sandbox(t)
	keyFile := writeFile(t, "omicall.key", autocalltest.APIKey+"\n")
	for _, args := range [][]string{
		{"--secret-key", autocalltest.SecretKey, "--api-key-file", keyFile, "token"},
		{"--secret-key", autocalltest.SecretKey, "--access-token", "t", "--provider", "tel4vn", "token"},
		append([]string{"--secret-key", autocalltest.SecretKey, "--secret-key-file", keyFile}, append(otp, "0912300173")...),
	} {
		r := run(t, map[string]string{"AUTOCALL_BASE_URL": srv.URL}, args...)
		assert.Equal(t, 2, r.code, "%v: %s%s", args, r.stdout, r.stderr)
		assert.Contains(t, r.stderr, "give one credential by flag")
	}
	assert.Empty(t, srv.Requests(), "nothing sent")
}
