package autocall

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewClientValidation(t *testing.T) {
	ts := TokenSourceFunc(func(context.Context) (Token, error) { return Token{Value: "x"}, nil })
	cases := []struct {
		name  string
		base  string
		opts  []Option
		field string
	}{
		{"relative URL", "/api", []Option{WithAccessToken("t")}, "BaseURL"},
		{"no scheme", "public-v1.omicall.com", []Option{WithAccessToken("t")}, "BaseURL"},
		{"ftp scheme", "ftp://example.com", []Option{WithAccessToken("t")}, "BaseURL"},
		{"no host", "https://", []Option{WithAccessToken("t")}, "BaseURL"},
		{"query", "https://example.com/?apiKey=x", []Option{WithAccessToken("t")}, "BaseURL"},
		{"user info", "https://u:p@example.com", []Option{WithAccessToken("t")}, "BaseURL"},
		{"garbage", "http://[::1", []Option{WithAccessToken("t")}, "BaseURL"},
		{"no credential", "https://example.com", nil, "Credential"},
		{"two credentials", "https://example.com", []Option{WithSecretKey("a"), WithAPIKey("b")}, "Credential"},
		{"token and source", "https://example.com", []Option{WithAccessToken("a"), WithTokenSource(ts)}, "Credential"},
		{"empty secret", "https://example.com", []Option{WithSecretKey("")}, "SecretKey"},
		{"empty api key", "https://example.com", []Option{WithAPIKey("")}, "APIKey"},
		{"empty token", "https://example.com", []Option{WithAccessToken("")}, "AccessToken"},
		{"nil source", "https://example.com", []Option{WithTokenSource(nil)}, "TokenSource"},
		{"zero timeout", "https://example.com", []Option{WithAccessToken("t"), WithTimeout(0)}, "Timeout"},
		{"nil location", "https://example.com", []Option{WithAccessToken("t"), WithLocation(nil)}, "Location"},
		{"negative retry", "https://example.com", []Option{WithAccessToken("t"), WithRetryPolicy(RetryPolicy{MaxAttempts: -1})}, "RetryPolicy"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := NewClient(tc.base, tc.opts...)
			require.Error(t, err)
			assert.Nil(t, c)
			var ve *ValidationError
			require.True(t, errors.As(err, &ve), "got %T", err)
			assert.Equal(t, tc.field, ve.Field)
			assert.ErrorIs(t, err, ErrValidation)
			assert.NotContains(t, err.Error(), "u:p")
		})
	}
}

func TestNewClientDefaults(t *testing.T) {
	c, err := NewClient("https://public-v1.omicall.com/", WithAPIKey("k"))
	require.NoError(t, err)
	assert.Equal(t, "https://public-v1.omicall.com", c.BaseURL())
	assert.Equal(t, DefaultTimeout, c.timeout)
	assert.Equal(t, 30*time.Second, c.timeout)
	assert.Equal(t, DefaultRetryPolicy(), c.retry)
	assert.Equal(t, "Asia/Ho_Chi_Minh", c.loc.String())
	_, off := time.Date(2021, 1, 11, 11, 28, 45, 0, c.loc).Zone()
	assert.Equal(t, 7*3600, off)
	assert.NotNil(t, c.AutoCall)
	assert.NotNil(t, c.OTP)
	assert.NotNil(t, c.TTS)
	assert.NotNil(t, c.CDR)

	c, err = NewClient("http://127.0.0.1:8080/prefix", WithAccessToken("t"), WithProvider(TEL4VN), WithRetryPolicy(RetryPolicy{MaxAttempts: 1}))
	require.NoError(t, err)
	assert.Equal(t, "http://127.0.0.1:8080/prefix", c.BaseURL())
	assert.Equal(t, RetryPolicy{MaxAttempts: 1, BaseDelay: 250 * time.Millisecond, MaxDelay: 5 * time.Second}, c.retry)
}

func TestWithHTTPClientIsCopied(t *testing.T) {
	hc := &http.Client{Timeout: 7 * time.Second}
	c, err := NewClient("https://example.com", WithAccessToken("t"), WithProvider(TEL4VN), WithHTTPClient(hc))
	require.NoError(t, err)
	assert.Nil(t, hc.Transport, "the caller's client was given a transport")
	assert.Nil(t, hc.CheckRedirect, "the caller's client was given a redirect policy")
	assert.NotSame(t, hc, c.hc)
	assert.Equal(t, 7*time.Second, c.hc.Timeout)

	// Two clients never share one resty client.
	c2, err := NewClient("https://example.com", WithAccessToken("t"), WithProvider(TEL4VN), WithHTTPClient(hc))
	require.NoError(t, err)
	assert.NotSame(t, c.rc, c2.rc)
	assert.NotSame(t, c.hc, c2.hc)
}
