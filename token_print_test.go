package autocall

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A Token printed, marshalled or logged by mistake never shows its value.
func TestTokenNeverPrintsValue(t *testing.T) {
	tok := Token{Value: testToken, Expiry: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)}
	var out []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d", "%T"} {
		out = append(out, fmt.Sprintf(verb, tok), fmt.Sprintf(verb, &tok), fmt.Sprintf(verb, struct{ T Token }{tok}))
	}
	for _, v := range []any{tok, &tok, struct{ T Token }{tok}, map[string]Token{"t": tok}} {
		b, err := json.Marshal(v)
		require.NoError(t, err)
		out = append(out, string(b))
	}
	var logs bytes.Buffer
	for _, h := range []slog.Handler{slog.NewJSONHandler(&logs, nil), slog.NewTextHandler(&logs, nil)} {
		slog.New(h).Info("token", "tok", tok, "ptr", &tok, slog.Any("any", tok))
	}
	out = append(out, logs.String())
	for _, s := range out {
		assert.NotContains(t, s, testToken)
		assert.NotContains(t, s, "1ebe8f88") // nor a part of it
	}
	assert.Contains(t, logs.String(), `"tok":{"value":"[REDACTED]","expiry":"2026-12-01T12:00:00Z"}`)
	b, _ := json.Marshal(tok)
	assert.JSONEq(t, `{"Value":"[REDACTED]","Expiry":"2026-12-01T12:00:00Z"}`, string(b))
	assert.Equal(t, `autocall.Token{Value:"[REDACTED]", Expiry:time.Date(2026, time.December, 1, 12, 0, 0, 0, time.UTC)}`, fmt.Sprintf("%#v", tok))
	b, _ = json.Marshal(Token{})
	assert.JSONEq(t, `{"Value":"","Expiry":"0001-01-01T00:00:00Z"}`, string(b))
}
